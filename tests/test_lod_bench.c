/* test_lod_bench.c: smoke test of `lodestone bench --quick` (one 400k-triangle input, one run):
 * it runs to the end and prints the table. Label slow; skips without the corpus or the peers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

int main(void)
{
    char corpus[4096];
    if (lds_test_shared("corpus", corpus, sizeof(corpus)) == NULL)
        lds_test_skip("no ../shared corpus");
    if (lds_test_run(NULL, "command -v gltfpack && command -v draco_encoder") != 0)
        lds_test_skip("gltfpack or draco_encoder not installed");
    const char *work = lds_test_tmpdir("lod_bench");
    char *output = NULL;
    int rc = lds_test_run(&output, "'%s' bench --quick --corpus '%s' --work '%s' 2>&1",
                          lds_test_bin(), corpus, work);
    fprintf(stderr, "%s\n", output ? output : "");
    LDS_CHECK_INT(rc, ==, 0);
    LDS_CHECK(output && strstr(output, "peer script") != NULL);
    LDS_CHECK(output && strstr(output, "lod4") != NULL);
    LDS_CHECK(output && strstr(output, "FAILED") == NULL);
    free(output);
    return lds_test_result();
}
