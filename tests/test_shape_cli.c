/* test_shape_cli.c: `lodestone fingerprint` and `lodestone compare` as a user runs them: JSON
 * lines, exit codes, error messages naming the file. Uses the homer remeshes of the corpus. */
#include "testlib.h"

int main(void)
{
    char homer[4096], remesh[4096], bunny[4096];
    if (lds_test_shared("corpus/remeshed/homer/homer.off", homer, sizeof homer) == NULL ||
        lds_test_shared("corpus/remeshed/homer/homer_35.off", remesh, sizeof remesh) == NULL ||
        lds_test_shared("corpus/scans/stanford-bunny.obj", bunny, sizeof bunny) == NULL)
        lds_test_skip("corpus not found");
    const char *bin = lds_test_bin();
    char *out = NULL;

    LDS_CHECK_INT(lds_test_run(&out, "'%s' fingerprint --help", bin), ==, 0);
    LDS_CHECK(out && strstr(out, "usage: lodestone fingerprint"));
    free(out);
    LDS_CHECK_INT(lds_test_run(&out, "'%s' compare --help", bin), ==, 0);
    LDS_CHECK(out && strstr(out, "usage: lodestone compare"));
    free(out);

    LDS_CHECK_INT(lds_test_run(&out, "'%s' fingerprint '%s' '%s'", bin, homer, remesh), ==, 0);
    printf("%s", out ? out : "");
    LDS_CHECK(out && strstr(out, "\"geometry\": \"lds-geom-1:") && strstr(out, "\"shape\": \"lds-shape-1:"));
    LDS_CHECK(out && strchr(out, '\n') && strchr(strchr(out, '\n') + 1, '\n')); /* two lines */
    free(out);

    /* a missing file: a JSON error line, the message on stderr, exit 1 */
    LDS_CHECK_INT(lds_test_run(&out, "'%s' fingerprint '%s' /nonexistent/x.ply 2>&1", bin, homer), ==, 1);
    printf("%s", out ? out : "");
    LDS_CHECK(out && strstr(out, "{\"file\": \"/nonexistent/x.ply\", \"error\": "));
    LDS_CHECK(out && strstr(out, "lodestone: /nonexistent/x.ply: "));
    free(out);

    LDS_CHECK_INT(lds_test_run(&out, "'%s' compare '%s' '%s'", bin, homer, homer), ==, 0);
    LDS_CHECK(out && strstr(out, "\"same_geometry\": true") && strstr(out, "\"similarity\": 1.0000") &&
              strstr(out, "\"match\": true"));
    free(out);
    LDS_CHECK_INT(lds_test_run(&out, "'%s' compare '%s' '%s'", bin, homer, remesh), ==, 0);
    printf("%s", out ? out : "");
    LDS_CHECK(out && strstr(out, "\"same_geometry\": false") && strstr(out, "\"match\": true"));
    free(out);
    LDS_CHECK_INT(lds_test_run(&out, "'%s' compare '%s' '%s'", bin, homer, bunny), ==, 0);
    printf("%s", out ? out : "");
    LDS_CHECK(out && strstr(out, "\"same_geometry\": false") && strstr(out, "\"match\": false"));
    free(out);

    LDS_CHECK_INT(lds_test_run(NULL, "'%s' compare '%s' 2>/dev/null", bin, homer), ==, 2);
    LDS_CHECK_INT(lds_test_run(NULL, "'%s' fingerprint 2>/dev/null", bin), ==, 2);
    return lds_test_result();
}
