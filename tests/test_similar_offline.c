/* test_similar_offline.c: `lodestone process` with the local shape index ($LODESTONE_HOME/shapes.jsonl):
 * homer by alice, a remesh by bob (flagged, naming homer), another remesh by alice (flagged only
 * for bob's), the bunny by bob (not flagged), homer again into the same directory (not flagged as
 * itself, not added twice), and --no-shape-index. Skips without the corpus. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "testlib.h"

static const char *dir;

/* Runs process with --json; returns the number of possible_duplicate issues naming asset (NULL: any). */
static int process(const char *model, const char *out, const char *owner, const char *extra, const char *asset)
{
    char *text = NULL;
    int rc = lds_test_run(&text, "'%s' process '%s' -o '%s/%s' --owner %s --title %s --lods none --no-draco "
                                 "--no-meshopt --no-certificate --json %s 2>/dev/null",
                          lds_test_bin(), model, dir, out, owner, out, extra);
    LDS_CHECK_INT(rc, ==, 0);
    json_t *manifest = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    LDS_CHECK(manifest != NULL);
    int n = 0;
    size_t i;
    json_t *issue;
    json_array_foreach(json_object_get(json_object_get(manifest, "report"), "issues"), i, issue)
    {
        if (strcmp(json_string_value(json_object_get(issue, "code")), "possible_duplicate") != 0)
            continue;
        const char *a = json_string_value(json_object_get(issue, "asset"));
        if (asset == NULL || (a && strcmp(a, asset) == 0))
            n++;
    }
    json_decref(manifest);
    return n;
}

static long lines(const char *path)
{
    FILE *f = fopen(path, "r");
    long n = 0;
    for (int c; f && (c = fgetc(f)) != EOF;)
        n += c == '\n';
    if (f)
        fclose(f);
    return n;
}

int main(void)
{
    char homer[4096], homer_35[4096], homer_40[4096], bunny[4096], index[4400], home[4200];
    if (!lds_test_shared("corpus/remeshed/homer/homer.off", homer, sizeof(homer)) ||
        !lds_test_shared("corpus/remeshed/homer/homer_35.off", homer_35, sizeof(homer_35)) ||
        !lds_test_shared("corpus/remeshed/homer/homer_40.off", homer_40, sizeof(homer_40)) ||
        !lds_test_shared("corpus/scans/stanford-bunny.obj", bunny, sizeof(bunny)))
        lds_test_skip("corpus not found");
    dir = lds_test_tmpdir("similar_offline");
    snprintf(home, sizeof(home), "%s/home", dir);
    setenv("LODESTONE_HOME", home, 1);
    snprintf(index, sizeof(index), "%s/shapes.jsonl", home);

    LDS_CHECK_INT(process(homer, "a_homer", "alice", "", NULL), ==, 0);
    LDS_CHECK_INT(process(homer_35, "b_homer", "bob", "", "a_homer"), ==, 1);
    LDS_CHECK_INT(process(homer_40, "a_homer40", "alice", "", NULL), ==, 1); /* bob's only */
    LDS_CHECK_INT(process(homer_40, "a_homer40_again", "alice", "--no-shape-index", NULL), ==, 0);
    LDS_CHECK_INT(process(bunny, "b_bunny", "bob", "", NULL), ==, 0);
    LDS_CHECK_INT(lines(index), ==, 4);
    LDS_CHECK_INT(process(homer, "a_homer", "alice", "", "a_homer"), ==, 0); /* not itself */
    LDS_CHECK_INT(process(homer, "a_homer", "alice", "", "b_homer"), ==, 1);
    LDS_CHECK_INT(lines(index), ==, 4);
    /* a damaged line is skipped */
    FILE *f = fopen(index, "a");
    fputs("{not json\n", f);
    fclose(f);
    LDS_CHECK_INT(process(homer_35, "b_homer", "bob", "", "a_homer"), ==, 1);
    return lds_test_result();
}
