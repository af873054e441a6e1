/* test_common.c: status names, first-error-wins, capped buffers, hashing, atomic files. */
#include "testlib.h"

int main(void)
{
    LDS_CHECK_INT(lds_crypto_init(), ==, LDS_OK);
    LDS_CHECK_STR(lds_status_name(LDS_EFORMAT), "EFORMAT");

    lds_error err;
    lds_error_clear(&err);
    lds_error_set(&err, LDS_ETRUNC, "a.ply: truncated at byte %d", 12);
    lds_error_set(&err, LDS_EIO, "later error");
    LDS_CHECK_INT(err.code, ==, LDS_ETRUNC);
    LDS_CHECK_STR(err.message, "a.ply: truncated at byte 12");

    lds_buf buf;
    lds_buf_init(&buf, 8);
    LDS_CHECK_INT(lds_buf_append(&buf, "12345678", 8), ==, LDS_OK);
    LDS_CHECK_INT(lds_buf_append(&buf, "9", 1), ==, LDS_ELIMIT);
    LDS_CHECK_INT(buf.size, ==, 8);
    lds_buf_cleanup(&buf);

    unsigned char digest[LDS_SHA256_BYTES];
    char hex[LDS_SHA256_HEX];
    lds_sha256_buffer("abc", 3, digest);
    lds_hex_encode(digest, sizeof(digest), hex);
    LDS_CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    unsigned char back[LDS_SHA256_BYTES];
    LDS_CHECK_INT(lds_hex_decode(hex, back, sizeof(back)), ==, LDS_OK);
    LDS_CHECK(memcmp(back, digest, sizeof(back)) == 0);
    LDS_CHECK_INT(lds_hex_decode("zz", back, 1), ==, LDS_EFORMAT);

    const char *dir = lds_test_tmpdir("common_unit");
    char path[1200];
    snprintf(path, sizeof(path), "%s/sub/dir/file.bin", dir);
    char sub[1200];
    snprintf(sub, sizeof(sub), "%s/sub/dir", dir);
    LDS_CHECK_OK(lds_dir_create(sub, 0755, &err), &err);
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_file_write_atomic(path, "hello", 5, &err), &err);
    unsigned char *data = NULL;
    size_t size = 0;
    LDS_CHECK_OK(lds_file_read(path, 0, &data, &size, &err), &err);
    LDS_CHECK_INT(size, ==, 5);
    free(data);
    LDS_CHECK_INT(lds_file_read(path, 4, &data, &size, &err), ==, LDS_ELIMIT);
    lds_error_clear(&err);
    LDS_CHECK_INT(lds_file_read("/nonexistent/x.ply", 0, &data, &size, &err), ==, LDS_ENOENT);
    LDS_CHECK(strstr(err.message, "/nonexistent/x.ply") != NULL);

    char ext[16];
    lds_path_extension("dir/Model.PLY", ext, sizeof(ext));
    LDS_CHECK_STR(ext, "ply");
    return lds_test_result();
}
