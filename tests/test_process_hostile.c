/* test_process_hostile.c: the hostile set of issue 5 through `lodestone process` (the whole
 * offline pipeline, sandboxed parse): every file that must be refused makes process exit 1 with
 * stderr naming the file and a reason; no file ends the process by a signal or runs past the
 * time limit (each run under `timeout`); mutations of real files may also succeed (exit 0). */
#include <stdlib.h>
#include <sys/wait.h>

#include "hostile_set.h"
#include "testlib.h"

#define PARSE_SECONDS 20
#define TIMEOUT_SECONDS 90 /* parse limit plus the rest of the pipeline, on a shared machine */

int main(void)
{
    const char *dir = lds_test_tmpdir("process_hostile");
    char files_dir[1100], out_dir[1100];
    snprintf(files_dir, sizeof(files_dir), "%s/files", dir);
    snprintf(out_dir, sizeof(out_dir), "%s/out", dir);
    if (lds_test_run(NULL, "mkdir -p '%s' '%s'", files_dir, out_dir) != 0)
        return 1;
    lds_hostile_file *files = NULL;
    size_t count = lds_hostile_make(files_dir, 8, 0, &files);
    LDS_CHECK(count > 50);
    size_t refused = 0, parsed = 0;
    double slowest = 0;
    const char *slowest_name = "";
    for (size_t i = 0; i < count; i++) {
        const lds_hostile_file *f = &files[i];
        char *out = NULL;
        double start = lds_time_ms();
        int rc = lds_test_run(&out,
                              "LODESTONE_HOME='%s/home' LODESTONE_MAX_PARSE_SECONDS=%d LODESTONE_MAX_PARSE_MEMORY=1G "
                              "timeout -s KILL %d '%s' process '%s' -o '%s/%zu' --no-certificate 2>&1 >/dev/null",
                              dir, PARSE_SECONDS, TIMEOUT_SECONDS, lds_test_bin(), f->path, out_dir, i);
        double ms = lds_time_ms() - start;
        if (ms > slowest) {
            slowest = ms;
            slowest_name = f->name;
        }
        const char *text = out ? out : "";
        if (rc == 0) {
            parsed++;
            if (f->must_fail) {
                fprintf(stderr, "%s: processed, but it should have been refused\n", f->name);
                lds_test_failures++;
            }
        } else if (rc == 1) {
            refused++;
            if (strstr(text, f->name) == NULL) {
                fprintf(stderr, "%s: the error does not name the file: %s", f->name, text);
                lds_test_failures++;
            }
            if (strlen(text) < strlen(f->name) + 4) {
                fprintf(stderr, "%s: no reason given: %s", f->name, text);
                lds_test_failures++;
            }
        } else {
            fprintf(stderr, "%s: lodestone process exited %d (%s) in %.0f ms: %s", f->name, rc,
                    rc == 137 ? "killed at the time limit" : rc > 128 ? "a signal" : "not 0 or 1", ms, text);
            lds_test_failures++;
        }
        free(out);
        lds_test_run(NULL, "rm -rf '%s/%zu'", out_dir, i);
    }
    fprintf(stderr, "process hostile set: %zu files, %zu refused, %zu processed (mutations still valid); "
                    "slowest %.0f ms (%s)\n",
            count, refused, parsed, slowest, slowest_name);
    free(files);
    return lds_test_result();
}
