/* test_archive.c: archive deposits, built at test time by make_archives.py: good archives come
 * back as items with their metadata and sidecars; hostile ones are refused with a clear message,
 * with nothing written outside the sink. */
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest.h"
#include "testlib.h"

static char dir[1024];

static const lds_archive_item *find_item(const lds_archive_result *r, const char *file)
{
    for (size_t i = 0; i < r->item_count; i++)
        if (strcmp(r->items[i].file, file) == 0)
            return &r->items[i];
    return NULL;
}

static int has_warning(const lds_archive_result *r, const char *text)
{
    for (size_t i = 0; i < r->warning_count; i++)
        if (strstr(r->warnings[i], text))
            return 1;
    return 0;
}

static int file_equals(const char *path, const char *text)
{
    unsigned char *data;
    size_t size;
    lds_error err;
    if (lds_file_read(path, 1 << 20, &data, &size, &err) != LDS_OK)
        return 0;
    int same = size == strlen(text) && memcmp(data, text, size) == 0;
    free(data);
    return same;
}

static void check_good(const char *archive, int csv)
{
    char path[2048], sink_dir[2048], file[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, archive);
    snprintf(sink_dir, sizeof(sink_dir), "%s/sink-%s", dir, archive);
    mkdir(sink_dir, 0755);
    lds_archive_dir_sink ds;
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_archive_dir_sink_init(&ds, sink_dir, &err), &err);
    lds_archive_sink sink = lds_archive_dir_sink_get(&ds);
    lds_archive_result r;
    lds_status st = lds_archive_walk(path, NULL, &sink, &r, &err);
    lds_archive_dir_sink_cleanup(&ds);
    fprintf(stderr, "%s -> %s %s\n", archive, lds_status_name(st), err.message);
    LDS_CHECK_OK(st, &err);
    LDS_CHECK_INT(r.item_count, ==, 4);
    LDS_CHECK_INT(r.member_count, ==, 9);
    for (size_t i = 0; i < r.warning_count; i++)
        fprintf(stderr, "  warning: %s\n", r.warnings[i]);
    const lds_archive_item *bust = find_item(&r, "scans/bust.ply");
    const lds_archive_item *vase = find_item(&r, "scans/vase.obj");
    const lds_archive_item *car = find_item(&r, "models/car.gltf");
    const lds_archive_item *loose = find_item(&r, "loose/loose.stl");
    LDS_CHECK(bust && vase && car && loose);
    if (bust && vase && car && loose) {
        LDS_CHECK(bust->in_manifest && vase->in_manifest && !loose->in_manifest);
        LDS_CHECK_STR(loose->meta.title, "loose");
        LDS_CHECK(has_warning(&r, "loose/loose.stl: not in the manifest"));
        LDS_CHECK(has_warning(&r, "extra/readme.txt: not part of any model"));
        LDS_CHECK_INT(vase->sidecar_count, ==, 2); /* vase.mtl, textures/vase.png */
        LDS_CHECK_INT(car->sidecar_count, ==, 1);
        if (car->sidecar_count == 1)
            LDS_CHECK_STR(car->sidecars[0], "models/car.bin");
        if (csv) {
            LDS_CHECK_STR(bust->meta.title, "Bust of a man, marble");
            LDS_CHECK_STR(bust->meta.license, "CC-BY-4.0");
            LDS_CHECK_STR(bust->meta.owner, "Museum of Things");
            LDS_CHECK_STR(bust->meta.accession, "1921.4.7");
            LDS_CHECK_STR(bust->meta.capture_method, "structured light");
            LDS_CHECK_INT(bust->meta.tag_count, ==, 3);
            if (bust->meta.tag_count == 3)
                LDS_CHECK_STR(bust->meta.tags[2], "roman");
            LDS_CHECK_STR(vase->meta.title, "The \"Blue\" vase");
            LDS_CHECK(vase->meta.owner == NULL);
            LDS_CHECK_STR(car->meta.title, "Car");
            LDS_CHECK(has_warning(&r, "missing/ghost.ply: listed in the manifest but not"));
        } else {
            LDS_CHECK_STR(bust->meta.title, "Bust");
            LDS_CHECK_STR(bust->meta.accession, "A1");
            LDS_CHECK_INT(vase->meta.tag_count, ==, 2);
            LDS_CHECK_STR(car->meta.title, "car"); /* not in this manifest: default */
        }
    }
    snprintf(file, sizeof(file), "%s/scans/textures/vase.png", sink_dir);
    struct stat sb;
    LDS_CHECK(stat(file, &sb) == 0 && sb.st_size == 8 + 1024);
    snprintf(file, sizeof(file), "%s/scans/vase.mtl", sink_dir);
    LDS_CHECK(file_equals(file, "newmtl clay\nmap_Kd textures/vase.png\n"));
    snprintf(file, sizeof(file), "%s/manifest.csv", sink_dir);
    LDS_CHECK(access(file, F_OK) != 0); /* the manifest is metadata, not a member to store */
    lds_archive_result_cleanup(&r);
}

static void check_refused(const char *archive, const lds_limits *limits, lds_status code, const char *message)
{
    char path[2048], sink_dir[2048];
    snprintf(path, sizeof(path), "%s/%s", dir, archive);
    snprintf(sink_dir, sizeof(sink_dir), "%s/sink/%s", dir, archive);
    lds_test_run(NULL, "mkdir -p '%s'", sink_dir);
    lds_archive_dir_sink ds;
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_archive_dir_sink_init(&ds, sink_dir, &err), &err);
    lds_archive_sink sink = lds_archive_dir_sink_get(&ds);
    lds_archive_result r;
    double t0 = lds_time_ms();
    lds_status st = lds_archive_walk(path, limits, &sink, &r, &err);
    double ms = lds_time_ms() - t0;
    lds_archive_dir_sink_cleanup(&ds);
    fprintf(stderr, "%s -> %s: %s (%.0f ms)\n", archive, lds_status_name(st), err.message, ms);
    LDS_CHECK_INT(st, ==, code);
    if (strstr(err.message, message) == NULL) {
        fprintf(stderr, "  expected \"%s\"\n", message);
        lds_test_failures++;
    }
    LDS_CHECK(strncmp(err.message, archive, strlen(archive)) == 0);
    lds_archive_result_cleanup(&r);
}

int main(void)
{
    if (lds_test_run(NULL, "command -v python3 >/dev/null && command -v zstd >/dev/null") != 0)
        lds_test_skip("python3 and zstd are needed to build the test archives");
    snprintf(dir, sizeof(dir), "%s", lds_test_tmpdir("archive"));
    char *output = NULL;
    int rc = lds_test_run(&output, "python3 '%s/tests/make_archives.py' '%s' 2>&1", LDS_SOURCE_DIR, dir);
    if (rc != 0) {
        fprintf(stderr, "make_archives.py failed: %s\n", output);
        return 1;
    }
    free(output);

    check_good("good.tar.zst", 1);
    check_good("good.zip", 0);
    check_good("good.tar.gz", 0);
    char seven[2048];
    snprintf(seven, sizeof(seven), "%s/good.7z", dir);
    if (access(seven, R_OK) == 0)
        check_good("good.7z", 0);
    else
        fprintf(stderr, "good.7z not made (no 7z tool): 7z deposits not checked\n");

    check_refused("dotdot.tar", NULL, LDS_EPERM, "member ../x.ply: path has a \"..\" component; refused");
    check_refused("dotdot_inner.tar", NULL, LDS_EPERM, "\"..\"");
    check_refused("dotdot.zip", NULL, LDS_EPERM, "\"..\"");
    check_refused("absolute.tar", NULL, LDS_EPERM, "member /abs.ply: absolute path; refused");
    check_refused("symlink.tar", NULL, LDS_EPERM, "member link.ply is a symbolic link; refused");
    check_refused("hardlink.tar", NULL, LDS_EPERM, "member hard.ply is a hard link; refused");
    check_refused("device.tar", NULL, LDS_EPERM, "member dev.ply is a character device; refused");
    check_refused("fifo.tar", NULL, LDS_EPERM, "member fifo.ply is a fifo; refused");
    check_refused("duplicate.tar", NULL, LDS_EPERM, "appears twice");
    check_refused("longname.tar", NULL, LDS_EPERM, "name is too long");
    check_refused("badutf8.tar", NULL, LDS_EPERM, "not valid UTF-8");
    check_refused("not_an_archive.ply", NULL, LDS_EFORMAT, "not a supported archive");
    check_refused("garbage.zip", NULL, LDS_EFORMAT, "garbage.zip: ");
    check_refused("badmanifest.tar", NULL, LDS_EFORMAT, "manifest.csv: row 2: unterminated quoted field");
    check_refused("twomanifests.tar", NULL, LDS_EFORMAT, "more than one manifest");

    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    check_refused("bomb.zip", NULL, LDS_ELIMIT, "member bomb.ply expands more than 100:1");
    getrusage(RUSAGE_SELF, &after);
    fprintf(stderr, "max RSS %ld KiB -> %ld KiB\n", before.ru_maxrss, after.ru_maxrss);
    LDS_CHECK(after.ru_maxrss - before.ru_maxrss < 64 * 1024); /* the bomb stayed out of memory */

    lds_limits limits;
    lds_limits_init(&limits);
    limits.archive_members = 10;
    check_refused("many.tar", &limits, LDS_ELIMIT, "more than 10 members");
    lds_limits_init(&limits);
    limits.deposit_expanded_bytes = 1 << 20;
    check_refused("big.tar.gz", &limits, LDS_ELIMIT, "expands past the 1 MiB limit of a deposit");

    /* Nothing escaped the sinks: no x.ply or abs.ply anywhere above them. */
    char *found = NULL;
    lds_test_run(&found, "find '%s/..' -name x.ply -o -name abs.ply -o -name link.ply -o -name dev.ply", dir);
    LDS_CHECK_STR(found, "");
    free(found);
    return lds_test_result();
}
