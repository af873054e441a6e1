/* test_proto_util.h: what the proto tests share: sample statements and file helpers. */
#ifndef LDS_TEST_PROTO_UTIL_H
#define LDS_TEST_PROTO_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "testlib.h"

/* A statement that differs with seed (title, digests); parent may be NULL. Caller frees. */
static inline char *sample_statement(int seed, const char *parent)
{
    char src_hex[65], lod_hex[65], geom[80], title[64];
    unsigned char digest[32];
    char text[64];
    snprintf(text, sizeof(text), "source %d", seed);
    lds_sha256_buffer(text, strlen(text), digest);
    lds_hex_encode(digest, 32, src_hex);
    snprintf(text, sizeof(text), "lod %d", seed);
    lds_sha256_buffer(text, strlen(text), digest);
    lds_hex_encode(digest, 32, lod_hex);
    snprintf(text, sizeof(text), "geometry %d", seed);
    lds_sha256_buffer(text, strlen(text), digest);
    snprintf(geom, sizeof(geom), "lds-geom-1:");
    lds_hex_encode(digest, 32, geom + 11);
    snprintf(title, sizeof(title), "Bust of Hermes, scan %d", seed);
    lds_cert_digest sources[] = {{"bust.ply", src_hex}, {"bust.mtl", lod_hex}};
    lds_cert_digest lods[] = {{"lod0.glb", lod_hex}, {"lod0.draco.glb", src_hex}};
    const char *tags[] = {"marble", "roman", "é ünïcode"};
    const char *parents[] = {parent};
    lds_cert_fields f = {
        .sources = sources,
        .source_count = 2,
        .geometry_fingerprint = geom,
        .shape_fingerprint = "lds-shape-1:test",
        .owner = "museum-of-tests",
        .license = "CC-BY-4.0",
        .title = title,
        .description = "A \"quoted\" description\nover two lines",
        .category = "heritage",
        .tags = tags,
        .tag_count = 3,
        .source_kind = "deposit",
        .accession = "INV-1234",
        .capture_method = "photogrammetry",
        .parent_bundles = parents,
        .parent_count = parent ? 1 : 0,
        .lods = lods,
        .lod_count = 2,
        .pipeline_version = "0.1.0",
        .time = "2026-11-25T12:00:00Z",
    };
    char *json = NULL;
    lds_error err;
    lds_error_clear(&err);
    if (lds_cert_statement_build(&f, &json, &err) != LDS_OK) {
        fprintf(stderr, "statement: %s\n", err.message);
        exit(1);
    }
    return json;
}

static inline char *read_text(const char *path, size_t *size)
{
    unsigned char *data = NULL;
    size_t n = 0;
    lds_error err;
    lds_error_clear(&err);
    if (lds_file_read(path, 64 << 20, &data, &n, &err) != LDS_OK) {
        fprintf(stderr, "%s\n", err.message);
        exit(1);
    }
    if (size)
        *size = n;
    return (char *)data;
}

static inline void write_text(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

static inline lds_status verify_with(const char *bundle, size_t size, const char *pub, lds_error *err)
{
    lds_error_clear(err);
    return lds_cert_verify(bundle, size, pub, strlen(pub), NULL, err);
}

#endif
