/* cmd_deposit.c: `lodestone deposit ARCHIVE [--url URL] [--key KEY]`: uploads an archive of models
 * with a manifest to POST /v1/deposits, then follows GET /v1/deposits/{id} until every item is
 * ready or failed: a progress bar on a terminal, a line per item change otherwise; a summary with
 * the failures at the end. Exit 0 when every item is ready, 1 otherwise, 2 on usage errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "http_client.h"

#define POLL_MS 500
#define UPLOAD_TIMEOUT_MS 600000 /* the server walks and stores the archive before answering */
#define GET_TIMEOUT_MS 30000

static void usage(FILE *out)
{
    fprintf(out,
            "usage: lodestone deposit ARCHIVE [--url URL] [--key KEY] [--timeout SECONDS]\n\n"
            "Uploads ARCHIVE (zip, tar, tar.gz, tar.zst, 7z; a manifest.csv or manifest.json at its\n"
            "root maps files to title, license, owner, accession, capture_method, tags) to the\n"
            "service as a deposit and follows its items until each is ready or failed.\n\n"
            "  --url URL          the service (default $LODESTONE_URL, else http://$LODESTONE_LISTEN,\n"
            "                     else http://127.0.0.1:8080)\n"
            "  --key KEY          a partner or ops API key (default $LODESTONE_KEY)\n"
            "  --timeout SECONDS  stop waiting after this long (default 3600; the deposit goes on)\n\n"
            "Exit status: 0 every item ready, 1 a failure (refused archive, failed items, timeout),\n"
            "2 usage.\n");
}

/* The error message of an API error body, or the body itself. */
static const char *error_message(const lds_http_response *r, json_t **holder)
{
    *holder = r->body.size ? json_loadb((const char *)r->body.data, r->body.size, 0, NULL) : NULL;
    const char *m = json_string_value(json_object_get(json_object_get(*holder, "error"), "message"));
    if (m)
        return m;
    return r->body.size ? (const char *)r->body.data : "(no message)";
}

static void draw_bar(size_t ready, size_t failed, size_t total, double seconds)
{
    const int width = 30;
    size_t done = ready + failed;
    int fill = total ? (int)((double)done / (double)total * width + 0.5) : width;
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    fprintf(stderr, "\r[%s] %zu/%zu done (%zu ready, %zu failed) %.0fs ", bar, done, total, ready, failed, seconds);
    fflush(stderr);
}

int lds_cmd_deposit(int argc, char **argv)
{
    const char *archive = NULL, *url = lds_setting_text("LODESTONE_URL"), *key = lds_setting_text("LODESTONE_KEY");
    double timeout_s = 3600;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--url") == 0 && i + 1 < argc) {
            url = argv[++i];
        } else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
            key = argv[++i];
        } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            timeout_s = atof(argv[++i]);
            if (timeout_s <= 0)
                return lds_cli_usage_error("deposit", "--timeout %s: expected seconds > 0", argv[i]);
        } else if (argv[i][0] == '-' && argv[i][1] != 0) {
            return lds_cli_usage_error("deposit", "unexpected option '%s'", argv[i]);
        } else if (archive == NULL) {
            archive = argv[i];
        } else {
            return lds_cli_usage_error("deposit", "one archive at a time ('%s')", argv[i]);
        }
    }
    if (archive == NULL)
        return lds_cli_usage_error("deposit", "no archive given");
    if (key == NULL || *key == 0)
        return lds_cli_usage_error("deposit", "no API key: give --key KEY or set LODESTONE_KEY");
    char default_url[300];
    if (url == NULL || *url == 0) {
        const char *listen = lds_setting_text("LODESTONE_LISTEN");
        snprintf(default_url, sizeof(default_url), "http://%s", listen && *listen ? listen : "127.0.0.1:8080");
        url = default_url;
    }
    char name[1024], target[1200];
    if (lds_http_query_escape(lds_path_basename(archive), name, sizeof(name)) != 0)
        return lds_cli_fail("deposit", "%s: name too long", archive);
    snprintf(target, sizeof(target), "/v1/deposits?filename=%s", name);

    int tty = lds_cli_is_tty();
    lds_error err;
    lds_error_clear(&err);
    lds_http_response r;
    double start = lds_time_ms();
    if (tty)
        fprintf(stderr, "uploading %s to %s ...", archive, url);
    lds_status st = lds_http_request(url, "POST", target, key, archive, UPLOAD_TIMEOUT_MS, &r, &err);
    if (tty)
        fprintf(stderr, "\n");
    if (st != LDS_OK) {
        lds_http_response_cleanup(&r);
        return lds_cli_fail_error(&err);
    }
    json_t *holder = NULL;
    if (r.status != 202) {
        int rc = lds_cli_fail("deposit", "%s refused (HTTP %d): %s", archive, r.status, error_message(&r, &holder));
        json_decref(holder);
        lds_http_response_cleanup(&r);
        return rc;
    }
    json_t *accepted = json_loadb((const char *)r.body.data, r.body.size, 0, NULL);
    lds_http_response_cleanup(&r);
    const char *id_text = json_string_value(json_object_get(json_object_get(accepted, "deposit"), "id"));
    if (id_text == NULL) {
        json_decref(accepted);
        return lds_cli_fail("deposit", "%s: the service answered 202 without a deposit id", url);
    }
    char id[128];
    snprintf(id, sizeof(id), "%s", id_text);
    json_t *warnings = json_object_get(json_object_get(accepted, "deposit"), "warnings");
    size_t total = json_array_size(json_object_get(json_object_get(accepted, "deposit"), "items"));
    fprintf(stderr, "deposit %s: %zu items accepted in %.1f s\n", id, total, (lds_time_ms() - start) / 1000.0);
    size_t wi;
    json_t *w;
    json_array_foreach(warnings, wi, w) fprintf(stderr, "  warning: %s\n", json_string_value(w));
    json_decref(accepted);

    /* follow it */
    snprintf(target, sizeof(target), "/v1/deposits/%s", id);
    json_t *last = NULL, *deposit = NULL;
    int rc = 1;
    double follow_start = lds_time_ms();
    for (;;) {
        st = lds_http_request(url, "GET", target, key, NULL, GET_TIMEOUT_MS, &r, &err);
        if (st == LDS_OK && r.status != 200) {
            lds_cli_fail("deposit", "GET %s: HTTP %d: %s", target, r.status, error_message(&r, &holder));
            json_decref(holder);
            lds_http_response_cleanup(&r);
            break;
        }
        if (st != LDS_OK) {
            lds_http_response_cleanup(&r);
            lds_cli_fail_error(&err);
            break;
        }
        json_decref(deposit);
        deposit = json_loadb((const char *)r.body.data, r.body.size, 0, NULL);
        lds_http_response_cleanup(&r);
        json_t *items = json_object_get(deposit, "items");
        size_t ready = 0, failed = 0, i;
        json_t *item;
        json_array_foreach(items, i, item)
        {
            const char *status = json_string_value(json_object_get(item, "status"));
            status = status ? status : "unknown";
            ready += strcmp(status, "ready") == 0;
            failed += strcmp(status, "failed") == 0;
            const char *before = json_string_value(json_object_get(json_array_get(last, i), "status"));
            if (!tty && (before == NULL || strcmp(before, status) != 0))
                printf("%s: %s (%s)\n", json_string_value(json_object_get(item, "file")), status,
                       json_string_value(json_object_get(item, "asset")));
        }
        if (!tty)
            fflush(stdout);
        double seconds = (lds_time_ms() - start) / 1000.0;
        if (tty)
            draw_bar(ready, failed, json_array_size(items), seconds);
        json_decref(last);
        last = json_incref(items);
        const char *status = json_string_value(json_object_get(deposit, "status"));
        if (status && strcmp(status, "processing") != 0) {
            if (tty)
                fprintf(stderr, "\n");
            size_t n = json_array_size(items);
            printf("deposit %s: %s: %zu of %zu items ready, %zu failed (%.1f s)\n", id, status, ready, n, failed,
                   seconds);
            json_array_foreach(items, i, item)
            {
                json_t *error = json_object_get(item, "error");
                if (json_is_object(error))
                    printf("  FAILED %s (%s): %s\n", json_string_value(json_object_get(item, "file")),
                           json_string_value(json_object_get(item, "asset")),
                           json_string_value(json_object_get(error, "message")));
            }
            rc = ready == n && n > 0 ? 0 : 1;
            break;
        }
        if (lds_time_ms() - follow_start > timeout_s * 1000) {
            if (tty)
                fprintf(stderr, "\n");
            lds_cli_fail("deposit", "%s still processing after %.0f s (%zu of %zu done); it goes on in the service",
                         id, timeout_s, ready + failed, json_array_size(items));
            break;
        }
        lds_sleep_ms(POLL_MS);
    }
    json_decref(last);
    json_decref(deposit);
    return rc;
}
