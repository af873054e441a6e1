/* test_archive_manifest.c: the deposit manifest parsers (CSV per RFC 4180, JSON), member-name
 * checks, and the limits read from the environment. */
#include "ingest.h"
#include "testlib.h"

static lds_status csv(const char *text, lds_manifest *m, lds_error *err)
{
    lds_error_clear(err);
    return lds_manifest_parse_csv("manifest.csv", text, strlen(text), 0, m, err);
}

static lds_status json(const char *text, lds_manifest *m, lds_error *err)
{
    lds_error_clear(err);
    return lds_manifest_parse_json("manifest.json", text, strlen(text), 0, m, err);
}

static void expect_csv_error(const char *text, const char *message)
{
    lds_manifest m;
    lds_error err;
    LDS_CHECK(csv(text, &m, &err) != LDS_OK);
    LDS_CHECK(m.entry_count == 0 && m.entries == NULL);
    if (strstr(err.message, message) == NULL) {
        fprintf(stderr, "expected \"%s\", got \"%s\"\n", message, err.message);
        lds_test_failures++;
    }
}

static void expect_path(const char *name, const char *normalised, const char *why)
{
    char out[64];
    const char *reason = NULL;
    lds_status st = lds_archive_check_path(name, 40, out, sizeof(out), &reason);
    if (normalised) {
        LDS_CHECK_INT(st, ==, LDS_OK);
        LDS_CHECK_STR(out, normalised);
    } else {
        LDS_CHECK_INT(st, ==, LDS_EPERM);
        LDS_CHECK(reason && strstr(reason, why));
    }
}

int main(void)
{
    lds_manifest m;
    lds_error err;
    /* BOM, CRLF, quoted commas, doubled quotes, an embedded newline, columns in any order, a short
     * row, a blank line, an unknown column. */
    const char *text = "\xef\xbb\xbfTitle,FILE,tags,notes\r\n"
                       "\"A, b\",./x/a.ply,\"one; two;;three \",\"line1\nline2\"\r\n"
                       "\r\n"
                       "\"say \"\"hi\"\"\",b.obj\n";
    LDS_CHECK_OK(csv(text, &m, &err), &err);
    LDS_CHECK_INT(m.entry_count, ==, 2);
    if (m.entry_count == 2) {
        LDS_CHECK_STR(m.entries[0].file, "b.obj"); /* sorted by file */
        LDS_CHECK_STR(m.entries[0].title, "say \"hi\"");
        LDS_CHECK_STR(m.entries[1].file, "x/a.ply");
        LDS_CHECK_STR(m.entries[1].title, "A, b");
        LDS_CHECK_INT(m.entries[1].tag_count, ==, 3);
        if (m.entries[1].tag_count == 3)
            LDS_CHECK_STR(m.entries[1].tags[2], "three");
    }
    LDS_CHECK_INT(m.warning_count, ==, 1);
    lds_manifest_cleanup(&m);

    expect_csv_error("", "empty manifest");
    expect_csv_error("title,license\nx,y\n", "no \"file\" column");
    expect_csv_error("file,title\na.ply,x,extra\n", "row 2 has 3 fields, the header 2");
    expect_csv_error("file\n\"a.ply\"x\n", "row 2: text after a closing quote");
    expect_csv_error("file\n\"a.ply\n", "row 2: unterminated quoted field");
    expect_csv_error("file\na.ply\n./a.ply\n", "a.ply is listed twice");
    expect_csv_error("file\n../a.ply\n", "\"..\"");
    expect_csv_error("file,title\na.ply,\xff\xfe\n", "not valid UTF-8");
    expect_csv_error("file,file\na,b\n", "column file appears twice");
    expect_csv_error("file,title\n,no file\n", "row 2 has no file");

    LDS_CHECK_OK(json("[{\"file\": \"a.ply\", \"title\": \"A\", \"tags\": [\"x\", \"y;z\"], \"owner\": null,"
                      " \"colour\": 1}, {\"file\": \"b.ply\", \"tags\": \"p; q\"}]",
                      &m, &err),
                 &err);
    LDS_CHECK_INT(m.entry_count, ==, 2);
    if (m.entry_count == 2) {
        LDS_CHECK_INT(m.entries[0].tag_count, ==, 3);
        LDS_CHECK(m.entries[0].owner == NULL);
        LDS_CHECK_INT(m.entries[1].tag_count, ==, 2);
    }
    LDS_CHECK_INT(m.warning_count, ==, 1);
    lds_manifest_cleanup(&m);
    LDS_CHECK_INT(json("{\"file\": \"a\"}", &m, &err), ==, LDS_EFORMAT);
    LDS_CHECK(strstr(err.message, "manifest.json: expected an array") != NULL);
    LDS_CHECK_INT(json("[{\"title\": \"a\"}]", &m, &err), ==, LDS_EFORMAT);
    LDS_CHECK_INT(json("[{\"file\": 3}]", &m, &err), ==, LDS_EFORMAT);
    LDS_CHECK(strstr(err.message, "entry 1: file must be a string") != NULL);
    LDS_CHECK_INT(json("[{\"file\": \"a\", \"file\": \"b\"}]", &m, &err), ==, LDS_EFORMAT);
    LDS_CHECK_INT(json("[{\"file\": \"a\\u0000b\"}]", &m, &err), ==, LDS_EFORMAT);
    LDS_CHECK_INT(json("[1", &m, &err), ==, LDS_EFORMAT);

    expect_path("a/./b//c.ply", "a/b/c.ply", NULL);
    expect_path("./", "", NULL);
    expect_path("../a", NULL, "..");
    expect_path("a/../../b", NULL, "..");
    expect_path("a/..", NULL, "..");
    expect_path("/etc/passwd", NULL, "absolute");
    expect_path("C:/x.ply", NULL, "absolute");
    expect_path("a\\..\\b", NULL, "backslash");
    expect_path("a\nb", NULL, "control");
    expect_path("caf\xc3\xa9.ply", "caf\xc3\xa9.ply", NULL);
    expect_path("caf\xe9.ply", NULL, "UTF-8");
    expect_path("\xc0\xaf.ply", NULL, "UTF-8");         /* overlong '/' */
    expect_path("\xed\xa0\x80.ply", NULL, "UTF-8");     /* surrogate */
    expect_path("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, "too long");

    /* Limits from the environment. */
    lds_limits limits;
    setenv("LODESTONE_MAX_DEPOSIT_BYTES", "512M", 1);
    setenv("LODESTONE_MAX_ARCHIVE_MEMBERS", "20", 1);
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_limits_from_env(&limits, &err), &err);
    LDS_CHECK_INT(limits.deposit_expanded_bytes, ==, 512ll << 20);
    LDS_CHECK_INT(limits.archive_members, ==, 20);
    LDS_CHECK_INT(limits.compression_ratio, ==, 100);
    LDS_CHECK_INT(limits.parse_memory_bytes, ==, 4ll << 30);
    setenv("LODESTONE_MAX_PARSE_SECONDS", "soon", 1);
    lds_error_clear(&err);
    LDS_CHECK_INT(lds_limits_from_env(&limits, &err), ==, LDS_EINVAL);
    LDS_CHECK(strstr(err.message, "LODESTONE_MAX_PARSE_SECONDS") != NULL);
    LDS_CHECK_INT(limits.parse_seconds, ==, 60);
    uint64_t v;
    LDS_CHECK_INT(lds_limits_parse_size("4GiB", &v), ==, LDS_OK);
    LDS_CHECK_INT(v, ==, 4ll << 30);
    LDS_CHECK_INT(lds_limits_parse_size("0", &v), ==, LDS_EINVAL);
    LDS_CHECK_INT(lds_limits_parse_size("-1", &v), ==, LDS_EINVAL);
    LDS_CHECK_INT(lds_limits_parse_size("99999999999T", &v), ==, LDS_EINVAL);
    return lds_test_result();
}
