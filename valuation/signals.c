/*
 * signals.c: usage events and their exponentially decayed counters.
 *
 * A counter holds its value as of the time of its newest contribution. An event at time t adds
 * weight * 2^(-(at - t) / h) when older than the counter (a three-year-old purchase, whenever it
 * arrives, counts 2^-12 of today's with h = 90 days), or decays the counter to t and adds weight
 * when newer. Either way the value at any later time T is sum(weight_i * 2^(-(T - t_i) / h)), the
 * same in any order of arrival (up to floating-point rounding).
 */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "valuation.h"

#define MS_PER_DAY 86400000.0
#define FUTURE_SLACK_MS (10 * 60 * 1000)

static const char *const type_names[] = {"view", "download", "favorite", "purchase"};

const char *lds_valuation_event_type_name(lds_valuation_event_type type)
{
    if ((unsigned)type < 4)
        return type_names[type];
    return "unknown";
}

static double decay(double dt_ms, double half_life_days)
{
    return exp2(-dt_ms / (half_life_days * MS_PER_DAY));
}

void lds_valuation_counter_add(lds_valuation_counter *counter, double weight, int64_t at_ms, double half_life_days)
{
    if (counter->at_ms == 0) {
        counter->value = weight;
        counter->at_ms = at_ms;
    } else if (at_ms >= counter->at_ms) {
        counter->value = counter->value * decay((double)(at_ms - counter->at_ms), half_life_days) + weight;
        counter->at_ms = at_ms;
    } else {
        counter->value += weight * decay((double)(counter->at_ms - at_ms), half_life_days);
    }
}

double lds_valuation_counter_at(const lds_valuation_counter *counter, int64_t now_ms, double half_life_days)
{
    if (counter->at_ms == 0)
        return 0.0;
    if (now_ms <= counter->at_ms)
        return counter->value;
    return counter->value * decay((double)(now_ms - counter->at_ms), half_life_days);
}

void lds_valuation_signals_apply(lds_valuation_signals *signals, const lds_valuation_event *event,
                                 double half_life_days)
{
    switch (event->type) {
    case LDS_VALUATION_VIEW:
        lds_valuation_counter_add(&signals->views, 1, event->at_ms, half_life_days);
        signals->total_views += 1;
        break;
    case LDS_VALUATION_DOWNLOAD:
        lds_valuation_counter_add(&signals->downloads, 1, event->at_ms, half_life_days);
        signals->total_downloads += 1;
        break;
    case LDS_VALUATION_FAVORITE:
        lds_valuation_counter_add(&signals->favorites, 1, event->at_ms, half_life_days);
        signals->total_favorites += 1;
        break;
    case LDS_VALUATION_PURCHASE:
        lds_valuation_counter_add(&signals->purchases, 1, event->at_ms, half_life_days);
        lds_valuation_counter_add(&signals->log_price, log(event->price), event->at_ms, half_life_days);
        lds_valuation_counter_add(&signals->log_price_sq, log(event->price) * log(event->price), event->at_ms,
                                  half_life_days);
        signals->total_purchases += 1;
        break;
    }
    if (event->at_ms > signals->last_event_ms)
        signals->last_event_ms = event->at_ms;
}

/* ---- JSON ---- */

static json_t *counter_json(const lds_valuation_counter *c)
{
    return json_pack("[f,I]", c->value, (json_int_t)c->at_ms);
}

static void counter_from(lds_valuation_counter *c, const json_t *v)
{
    memset(c, 0, sizeof(*c));
    if (json_is_array(v) && json_array_size(v) == 2 && json_is_number(json_array_get(v, 0)) &&
        json_is_integer(json_array_get(v, 1))) {
        c->value = json_number_value(json_array_get(v, 0));
        c->at_ms = (int64_t)json_integer_value(json_array_get(v, 1));
        if (!isfinite(c->value) || c->at_ms < 0)
            memset(c, 0, sizeof(*c));
    }
}

json_t *lds_valuation_signals_to_json(const lds_valuation_signals *s)
{
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:[f,f,f,f],s:I}", "views", counter_json(&s->views), "downloads",
                     counter_json(&s->downloads), "favorites", counter_json(&s->favorites), "purchases",
                     counter_json(&s->purchases), "log_price", counter_json(&s->log_price), "log_price_sq",
                     counter_json(&s->log_price_sq), "totals",
                     s->total_views, s->total_downloads, s->total_favorites, s->total_purchases, "last",
                     (json_int_t)s->last_event_ms);
}

void lds_valuation_signals_from_json(lds_valuation_signals *s, const json_t *v)
{
    memset(s, 0, sizeof(*s));
    if (!json_is_object(v))
        return;
    counter_from(&s->views, json_object_get(v, "views"));
    counter_from(&s->downloads, json_object_get(v, "downloads"));
    counter_from(&s->favorites, json_object_get(v, "favorites"));
    counter_from(&s->purchases, json_object_get(v, "purchases"));
    counter_from(&s->log_price, json_object_get(v, "log_price"));
    counter_from(&s->log_price_sq, json_object_get(v, "log_price_sq"));
    json_t *t = json_object_get(v, "totals");
    double *totals[4] = {&s->total_views, &s->total_downloads, &s->total_favorites, &s->total_purchases};
    for (size_t i = 0; i < 4; i++)
        *totals[i] = json_is_number(json_array_get(t, i)) ? json_number_value(json_array_get(t, i)) : 0;
    s->last_event_ms = json_is_integer(json_object_get(v, "last")) ? json_integer_value(json_object_get(v, "last")) : 0;
}

json_t *lds_valuation_market_to_json(const lds_valuation_market *m)
{
    return json_pack("{s:o,s:f}", "purchases", counter_json(&m->purchases), "supply", m->supply);
}

void lds_valuation_market_from_json(lds_valuation_market *m, const json_t *v)
{
    memset(m, 0, sizeof(*m));
    counter_from(&m->purchases, json_object_get(v, "purchases"));
    json_t *supply = json_object_get(v, "supply");
    m->supply = json_is_number(supply) && json_number_value(supply) > 0 ? json_number_value(supply) : 0;
}

/* ---- events ---- */

static lds_status bad(lds_error *err, const char **field, const char *name, size_t index, const char *fmt,
                      const char *detail)
{
    *field = name;
    return lds_error_set(err, LDS_EINVAL, "event %zu: field %s: %s%s", index, name, fmt, detail ? detail : "");
}

static int printable_id(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s == 0x7f)
            return 0;
    return 1;
}

lds_status lds_valuation_event_parse(const json_t *value, size_t index, int64_t now_ms, lds_valuation_event *event,
                                     const char **field, lds_error *err)
{
    static const char *const known[] = {"id", "asset", "type", "price", "currency", "at"};
    memset(event, 0, sizeof(*event));
    *field = "";
    if (!json_is_object(value))
        return bad(err, field, "(event)", index, "expected a JSON object", NULL);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)value, key, v)
    {
        size_t i = 0;
        while (i < sizeof(known) / sizeof(known[0]) && strcmp(key, known[i]) != 0)
            i++;
        if (i == sizeof(known) / sizeof(known[0]))
            return bad(err, field, "(unknown)", index, "unknown field ", key);
    }
    const char *asset = json_string_value(json_object_get(value, "asset"));
    if (asset == NULL || !printable_id(asset, sizeof(event->asset) - 1))
        return bad(err, field, "asset", index, "expected an asset id", NULL);
    snprintf(event->asset, sizeof(event->asset), "%s", asset);
    const char *type = json_string_value(json_object_get(value, "type"));
    size_t t = 0;
    while (type && t < 4 && strcmp(type, type_names[t]) != 0)
        t++;
    if (type == NULL || t == 4)
        return bad(err, field, "type", index, "expected view, download, favorite or purchase", NULL);
    event->type = (lds_valuation_event_type)t;
    json_t *price = json_object_get(value, "price"), *currency = json_object_get(value, "currency");
    if (event->type == LDS_VALUATION_PURCHASE) {
        if (!json_is_number(price) || !isfinite(json_number_value(price)) || json_number_value(price) <= 0 ||
            json_number_value(price) > 1e7)
            return bad(err, field, "price", index, "a purchase needs a price > 0 (at most 1e7)", NULL);
        if (!json_is_string(currency))
            return bad(err, field, "currency", index, "a purchase needs a currency (USD)", NULL);
        if (strcmp(json_string_value(currency), LDS_VALUATION_CURRENCY) != 0)
            return bad(err, field, "currency", index, "only USD prices are taken (convert before sending)", NULL);
        event->price = json_number_value(price);
    } else if (price || currency) {
        return bad(err, field, price ? "price" : "currency", index, "only purchases carry a price", NULL);
    }
    json_t *at = json_object_get(value, "at");
    event->at_ms = now_ms;
    if (at) {
        if (!json_is_string(at) || lds_valuation_parse_time(json_string_value(at), &event->at_ms) != LDS_OK ||
            strlen(json_string_value(at)) <= 10)
            return bad(err, field, "at", index, "expected an RFC 3339 time such as 2026-01-02T03:04:05Z", NULL);
        if (event->at_ms > now_ms + FUTURE_SLACK_MS)
            return bad(err, field, "at", index, "the time is in the future", NULL);
    }
    json_t *id = json_object_get(value, "id");
    if (id) {
        if (!json_is_string(id) || !printable_id(json_string_value(id), 128))
            return bad(err, field, "id", index, "expected 1 to 128 printable characters", NULL);
        snprintf(event->id, sizeof(event->id), "%s", json_string_value(id));
    }
    return LDS_OK;
}

json_t *lds_valuation_event_to_json(const lds_valuation_event *e)
{
    json_t *out = json_pack("{s:s,s:s,s:I}", "asset", e->asset, "type", type_names[e->type], "at_ms",
                            (json_int_t)e->at_ms);
    if (e->type == LDS_VALUATION_PURCHASE)
        json_object_set_new(out, "price", json_real(e->price));
    if (e->id[0])
        json_object_set_new(out, "id", json_string(e->id));
    return out;
}

lds_status lds_valuation_event_from_json(const json_t *v, lds_valuation_event *e, lds_error *err)
{
    memset(e, 0, sizeof(*e));
    const char *asset = json_string_value(json_object_get(v, "asset"));
    const char *type = json_string_value(json_object_get(v, "type"));
    json_t *at = json_object_get(v, "at_ms");
    size_t t = 0;
    while (type && t < 4 && strcmp(type, type_names[t]) != 0)
        t++;
    if (asset == NULL || strlen(asset) >= sizeof(e->asset) || t == 4 || type == NULL || !json_is_integer(at))
        return lds_error_set(err, LDS_EFORMAT, "event message: malformed");
    snprintf(e->asset, sizeof(e->asset), "%s", asset);
    e->type = (lds_valuation_event_type)t;
    e->at_ms = json_integer_value(at);
    e->price = json_number_value(json_object_get(v, "price"));
    if (e->type == LDS_VALUATION_PURCHASE && !(e->price > 0 && isfinite(e->price)))
        return lds_error_set(err, LDS_EFORMAT, "event message: purchase without a price");
    const char *id = json_string_value(json_object_get(v, "id"));
    if (id)
        snprintf(e->id, sizeof(e->id), "%s", id);
    return LDS_OK;
}
