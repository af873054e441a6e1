/* cmd_catalogue.c: the buyer's side from the command line.
 *   lodestone catalogue [search options] [--json]   GET /v1/assets over HTTP, every page
 *   lodestone catalogue reindex                     (ops) rebuild the catalogue index in Redis
 *   lodestone licenses grant ASSET --holder ACCOUNT --tier TIER [--expires DATE]
 *   lodestone licenses list ASSET [--json]          POST/GET /v1/assets/{id}/licenses
 * The HTTP commands take --url (default $LODESTONE_URL, else http://$LODESTONE_LISTEN, else
 * http://127.0.0.1:8080) and --key (default $LODESTONE_KEY). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "http_client.h"
#include "ingest.h"

#define TIMEOUT_MS 30000
#define PAGES_MAX 1000

typedef struct service {
    const char *url, *key;
    char default_url[300];
} service;

static void service_init(service *s)
{
    s->url = getenv("LODESTONE_URL");
    s->key = getenv("LODESTONE_KEY");
    if (s->url == NULL || *s->url == 0) {
        const char *listen = getenv("LODESTONE_LISTEN");
        snprintf(s->default_url, sizeof(s->default_url), "http://%s", listen && *listen ? listen : "127.0.0.1:8080");
        s->url = s->default_url;
    }
}

/* Sends the request; *body is the parsed JSON answer (caller decrefs). 0, or the exit code. */
static int call(const service *s, const char *what, const char *method, const char *target, const char *body_path,
                int want, json_t **body)
{
    lds_error err;
    lds_error_clear(&err);
    lds_http_response r;
    *body = NULL;
    if (lds_http_request(s->url, method, target, s->key, body_path, TIMEOUT_MS, &r, &err) != LDS_OK) {
        lds_http_response_cleanup(&r);
        return lds_cli_fail_error(&err);
    }
    json_t *j = r.body.size ? json_loadb((const char *)r.body.data, r.body.size, 0, NULL) : NULL;
    int status = r.status;
    lds_http_response_cleanup(&r);
    if (status != want) {
        const char *message = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
        int rc = lds_cli_fail(what, "HTTP %d: %s", status, message ? message : "(no message)");
        json_decref(j);
        return rc;
    }
    *body = j;
    return 0;
}

static void print_json(json_t *j)
{
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("%s\n", text ? text : "null");
    free(text);
}

static void catalogue_usage(FILE *out)
{
    fprintf(out, "usage: lodestone catalogue [--q WORDS] [--category C] [--tag T] [--license L] [--owner ACCOUNT]\n"
                 "                           [--max-triangles N] [--sort recent|value|popular] [--limit N]\n"
                 "                           [--json] [--url URL] [--key KEY]\n"
                 "       lodestone catalogue reindex\n\n"
                 "Lists the catalogue the key may see (GET /v1/assets), following the pages up to --limit\n"
                 "items (default 100); --json prints the items as one JSON array. `reindex` (ops, talks to\n"
                 "Redis directly: $LODESTONE_REDIS_URL) rebuilds the index from every ready asset.\n");
}

static int catalogue_reindex(void)
{
    lds_error err;
    lds_error_clear(&err);
    lds_redis *redis = NULL;
    size_t count = 0;
    int rc = 0;
    if (lds_redis_connect(NULL, &redis, &err) != LDS_OK || lds_catalogue_reindex(redis, NULL, &count, &err) != LDS_OK)
        rc = lds_cli_fail_error(&err);
    else
        printf("catalogue: %zu assets looked at, the ready ones indexed\n", count);
    lds_redis_close(redis);
    return rc;
}

int lds_cmd_catalogue(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "reindex") == 0)
        return catalogue_reindex();
    service s;
    service_init(&s);
    static const char *const filters[] = {"q", "category", "tag", "license", "owner", "max-triangles", "sort"};
    const char *values[7] = {0};
    long limit = 100;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        int matched = 0;
        for (size_t f = 0; f < 7 && !matched; f++)
            if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, filters[f]) == 0 && i + 1 < argc) {
                values[f] = argv[++i];
                matched = 1;
            }
        if (matched)
            continue;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            catalogue_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
            char *end;
            limit = strtol(argv[++i], &end, 10);
            if (*end || limit < 1 || limit > 100000)
                return lds_cli_usage_error("catalogue", "--limit %s: expected 1 to 100000", argv[i]);
        } else if (strcmp(argv[i], "--url") == 0 && i + 1 < argc) {
            s.url = argv[++i];
        } else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
            s.key = argv[++i];
        } else {
            return lds_cli_usage_error("catalogue", "unexpected argument '%s'", argv[i]);
        }
    }
    if (s.key == NULL || *s.key == 0)
        return lds_cli_usage_error("catalogue", "no API key: give --key KEY or set LODESTONE_KEY");
    char query[2048] = "", escaped[1024];
    static const char *const names[] = {"q", "category", "tag", "license", "owner", "max_triangles", "sort"};
    for (size_t f = 0; f < 7; f++)
        if (values[f]) {
            if (lds_http_query_escape(values[f], escaped, sizeof(escaped)) != 0)
                return lds_cli_usage_error("catalogue", "--%s: too long", filters[f]);
            snprintf(query + strlen(query), sizeof(query) - strlen(query), "&%s=%s", names[f], escaped);
        }
    json_t *all = json_array();
    char cursor[1024] = "";
    int rc = 0;
    for (int page = 0; page < PAGES_MAX && json_array_size(all) < (size_t)limit; page++) {
        char target[4096];
        long want = limit - (long)json_array_size(all);
        snprintf(target, sizeof(target), "/v1/assets?limit=%ld%s%s%s", want > 100 ? 100 : want, query,
                 cursor[0] ? "&cursor=" : "", cursor);
        json_t *body;
        if ((rc = call(&s, "catalogue", "GET", target, NULL, 200, &body)) != 0)
            break;
        json_array_extend(all, json_object_get(body, "items"));
        const char *next = json_string_value(json_object_get(body, "next"));
        snprintf(cursor, sizeof(cursor), "%s", next ? next : "");
        json_decref(body);
        if (!cursor[0])
            break;
    }
    if (rc == 0 && json) {
        print_json(all);
    } else if (rc == 0) {
        size_t i;
        json_t *item;
        printf("%-36s %-28s %-12s %-14s %-16s %10s\n", "id", "title", "category", "license", "owner", "triangles");
        json_array_foreach(all, i, item)
        {
            const char *f[5] = {"id", "title", "category", "license", "owner"};
            const char *v[5];
            for (int k = 0; k < 5; k++) {
                v[k] = json_string_value(json_object_get(item, f[k]));
                v[k] = v[k] ? v[k] : "-";
            }
            printf("%-36s %-28.28s %-12.12s %-14.14s %-16.16s %10lld\n", v[0], v[1], v[2], v[3], v[4],
                   (long long)json_integer_value(json_object_get(item, "triangles")));
        }
    }
    json_decref(all);
    return rc;
}

static void licenses_usage(FILE *out)
{
    fprintf(out, "usage: lodestone licenses grant ASSET --holder ACCOUNT --tier editorial|standard|enterprise\n"
                 "                                [--expires RFC3339] [--url URL] [--key KEY]\n"
                 "       lodestone licenses list ASSET [--json] [--url URL] [--key KEY]\n\n"
                 "grant (ops key): a studio account may then pull the asset's full LODs until the licence\n"
                 "expires; granting again replaces the account's licence. list: ops and the owner see every\n"
                 "licence of the asset, other keys their own.\n");
}

/* The grant's JSON body written to a temp file for the HTTP client. */
static int write_grant(const char *holder, const char *tier, const char *expires, char *path, size_t size)
{
    json_t *body = json_pack("{s:s,s:s}", "holder", holder, "tier", tier);
    if (expires)
        json_object_set_new(body, "expires", json_string(expires));
    const char *tmp = getenv("TMPDIR");
    snprintf(path, size, "%s/lodestone-license.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    int ok = fd >= 0 && text && write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    if (fd >= 0)
        close(fd);
    free(text);
    return ok ? 0 : -1;
}

int lds_cmd_licenses(int argc, char **argv)
{
    service s;
    service_init(&s);
    const char *action = NULL, *asset = NULL, *holder = NULL, *tier = NULL, *expires = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            licenses_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--holder") == 0 && i + 1 < argc) {
            holder = argv[++i];
        } else if (strcmp(argv[i], "--tier") == 0 && i + 1 < argc) {
            tier = argv[++i];
        } else if (strcmp(argv[i], "--expires") == 0 && i + 1 < argc) {
            expires = argv[++i];
        } else if (strcmp(argv[i], "--url") == 0 && i + 1 < argc) {
            s.url = argv[++i];
        } else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
            s.key = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (argv[i][0] == '-') {
            return lds_cli_usage_error("licenses", "unexpected option '%s'", argv[i]);
        } else if (action == NULL) {
            action = argv[i];
        } else if (asset == NULL) {
            asset = argv[i];
        } else {
            return lds_cli_usage_error("licenses", "unexpected argument '%s'", argv[i]);
        }
    }
    if (action == NULL || asset == NULL || (strcmp(action, "grant") != 0 && strcmp(action, "list") != 0))
        return lds_cli_usage_error("licenses", "expected 'grant ASSET' or 'list ASSET'");
    if (s.key == NULL || *s.key == 0)
        return lds_cli_usage_error("licenses", "no API key: give --key KEY or set LODESTONE_KEY");
    char escaped[256], target[512];
    if (lds_http_query_escape(asset, escaped, sizeof(escaped)) != 0)
        return lds_cli_usage_error("licenses", "asset id too long");
    snprintf(target, sizeof(target), "/v1/assets/%s/licenses", escaped);
    json_t *body = NULL;
    int rc;
    if (strcmp(action, "grant") == 0) {
        if (holder == NULL || tier == NULL)
            return lds_cli_usage_error("licenses", "grant needs --holder ACCOUNT and --tier TIER");
        char path[1024];
        if (write_grant(holder, tier, expires, path, sizeof(path)) != 0)
            return lds_cli_fail("licenses", "cannot write a temporary file: %s", path);
        rc = call(&s, "licenses", "POST", target, path, 201, &body);
        unlink(path);
        if (rc == 0)
            printf("%s holds a %s licence on %s%s%s\n", holder, tier, asset, expires ? " until " : "",
                   expires ? expires : "");
    } else {
        rc = call(&s, "licenses", "GET", target, NULL, 200, &body);
        if (rc == 0 && json) {
            print_json(json_object_get(body, "licenses"));
        } else if (rc == 0) {
            size_t i;
            json_t *l;
            json_array_foreach(json_object_get(body, "licenses"), i, l)
            {
                const char *e = json_string_value(json_object_get(l, "expires"));
                printf("%-24s %-11s %-8s expires %s\n", json_string_value(json_object_get(l, "holder")),
                       json_string_value(json_object_get(l, "tier")),
                       json_is_true(json_object_get(l, "active")) ? "active" : "expired", e ? e : "never");
            }
        }
    }
    json_decref(body);
    return rc;
}
