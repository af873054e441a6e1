/* cmd_queue.c: `lodestone queue`: queue depths, in-flight jobs, retries and dead letters (ops). */
#include <string.h>

#include "cli.h"
#include "ingest.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: lodestone queue [--json]        depths, in-flight jobs, retries, dead letters\n"
                 "       lodestone queue retry ID|--all   re-enqueue dead letters (ID: entry or job id)\n"
                 "       lodestone queue drop ID|--all    delete dead letters\n"
                 "Redis: $LODESTONE_REDIS_URL, or the embedded server of $LODESTONE_HOME.\n");
}

static void print_text(json_t *stats, json_t *dead)
{
    json_t *streams = json_object_get(stats, "streams");
    printf("%-10s %8s %10s\n", "stream", "queued", "in-flight");
    const char *names[2] = {"high", "low"};
    for (int i = 0; i < 2; i++) {
        json_t *s = json_object_get(streams, names[i]);
        printf("%-10s %8lld %10lld\n", names[i], (long long)json_integer_value(json_object_get(s, "depth")),
               (long long)json_integer_value(json_object_get(s, "in_flight")));
    }
    printf("waiting for a retry: %lld\ndead letters: %lld\n",
           (long long)json_integer_value(json_object_get(stats, "delayed")),
           (long long)json_integer_value(json_object_get(stats, "dead")));
    json_t *counters = json_object_get(stats, "counters");
    const char *key;
    json_t *value;
    if (json_object_size(counters)) {
        printf("counters:");
        json_object_foreach(counters, key, value) printf(" %s=%lld", key, (long long)json_integer_value(value));
        printf("\n");
    }
    size_t i;
    json_array_foreach(json_object_get(stats, "in_flight"), i, value)
    {
        if (i == 0)
            printf("in flight:\n");
        printf("  %s %s asset %s on %s, idle %lld ms, delivery %lld\n",
               json_string_value(json_object_get(value, "priority")),
               json_string_value(json_object_get(value, "job")) ? json_string_value(json_object_get(value, "job"))
                                                                 : "?",
               json_string_value(json_object_get(value, "asset")) ? json_string_value(json_object_get(value, "asset"))
                                                                   : "?",
               json_string_value(json_object_get(value, "consumer")),
               (long long)json_integer_value(json_object_get(value, "idle_ms")),
               (long long)json_integer_value(json_object_get(value, "deliveries")));
    }
    json_array_foreach(dead, i, value)
    {
        if (i == 0)
            printf("dead letters (retry with `lodestone queue retry ID`):\n");
        printf("  %s job %s asset %s (%s, %lld attempts): %s: %s\n", json_string_value(json_object_get(value, "id")),
               json_string_value(json_object_get(value, "job")), json_string_value(json_object_get(value, "asset")),
               json_string_value(json_object_get(value, "kind")),
               (long long)json_integer_value(json_object_get(value, "attempts")),
               json_string_value(json_object_get(value, "code")), json_string_value(json_object_get(value, "message")));
    }
}

int lds_cmd_queue(int argc, char **argv)
{
    int json = 0;
    const char *action = NULL, *target = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (action == NULL && (strcmp(argv[i], "retry") == 0 || strcmp(argv[i], "drop") == 0)) {
            action = argv[i];
        } else if (action && target == NULL) {
            target = argv[i];
        } else {
            return lds_cli_usage_error("queue", "unexpected argument '%s'", argv[i]);
        }
    }
    if (action && target == NULL)
        return lds_cli_usage_error("queue", "%s needs a dead-letter ID or --all", action);
    lds_error err;
    lds_error_clear(&err);
    lds_redis *redis = NULL;
    if (lds_redis_connect(NULL, &redis, &err) != LDS_OK)
        return lds_cli_fail_error(&err);
    int rc = 0;
    if (action) {
        const char *id = strcmp(target, "--all") == 0 ? NULL : target;
        size_t count = 0;
        lds_status status = strcmp(action, "retry") == 0 ? lds_queue_dead_retry(redis, id, &count, &err)
                                                          : lds_queue_dead_drop(redis, id, &count, &err);
        if (status != LDS_OK)
            rc = lds_cli_fail_error(&err);
        else if (json)
            printf("{\"%s\": %zu}\n", strcmp(action, "retry") == 0 ? "retried" : "dropped", count);
        else
            printf("%s %zu dead letter%s\n", strcmp(action, "retry") == 0 ? "re-enqueued" : "dropped", count,
                   count == 1 ? "" : "s");
    } else {
        json_t *stats = NULL, *dead = NULL;
        if (lds_queue_stats(redis, &stats, &err) != LDS_OK || lds_queue_dead_list(redis, 1000, &dead, &err) != LDS_OK) {
            rc = lds_cli_fail_error(&err);
        } else if (json) {
            json_object_set(stats, "dead_letters", dead);
            char *text = json_dumps(stats, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            printf("%s\n", text ? text : "{}");
            free(text);
        } else {
            print_text(stats, dead);
        }
        json_decref(stats);
        json_decref(dead);
    }
    lds_redis_close(redis);
    return rc;
}
