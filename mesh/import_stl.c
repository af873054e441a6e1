/* import_stl.c: binary and ASCII STL (the 1989 3D Systems StereoLithography Interface
 * Specification). Binary: 80-byte header, uint32 triangle count, then 50 bytes per triangle
 * (normal, three vertices, attribute word), all little-endian. ASCII: solid/facet/outer loop/
 * vertex/endloop/endfacet/endsolid. Every triangle gets its own three vertices: STL has no index
 * buffer, and clean.c welds. Facet normals are not kept: they are often zero or wrong, and
 * per-face normals would stop the weld from joining anything. */
#include <stdlib.h>
#include <string.h>

#include "import_internal.h"

static float le_float(const unsigned char *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, sizeof(f));
    return f;
}

static lds_status one_submesh(lds_mesh_model *model)
{
    model->submeshes = calloc(1, sizeof(lds_mesh_submesh));
    if (model->submeshes == NULL)
        return LDS_ENOMEM;
    model->submesh_count = 1;
    model->submeshes[0].vertex_count = (uint32_t)model->vertex_count;
    model->submeshes[0].index_count = (uint32_t)model->index_count;
    for (size_t i = 0; i < model->index_count; i++)
        model->indices[i] = (uint32_t)i;
    return LDS_OK;
}

static lds_status read_binary(const lds_import_ctx *ctx, const unsigned char *data, size_t size, uint32_t count,
                              lds_mesh_model *model, lds_error *err)
{
    uint64_t room = (size - 84) / 50;
    if (count > room)
        return lds_error_set(err, LDS_ETRUNC, "%s: truncated binary STL: the header says %u triangles, the file holds %llu",
                             ctx->name, count, (unsigned long long)room);
    if (count == 0)
        return lds_error_set(err, LDS_ENOGEOM, "%s: binary STL with no triangles", ctx->name);
    lds_status st = lds_import_check_limits(ctx, 3ull * count, count, err);
    if (st != LDS_OK)
        return st;
    if ((st = lds_mesh_model_alloc(model, 3ull * count, 3ull * count, 0, 0, 0)) != LDS_OK)
        return st;
    const unsigned char *p = data + 84;
    float *out = model->positions;
    for (uint32_t t = 0; t < count; t++, p += 50)
        for (int k = 0; k < 9; k++)
            *out++ = le_float(p + 12 + 4 * k);
    return one_submesh(model);
}

static lds_status read_ascii(const lds_import_ctx *ctx, const unsigned char *data, size_t size,
                             lds_mesh_model *model, lds_error *err)
{
    lds_text t = {(const char *)data, (const char *)data + size, 1};
    float *pos = NULL;
    size_t count = 0, capacity = 0; /* floats */
    float loop[3 * 16];
    int loop_vertices = 0;
    lds_status st = LDS_OK;
    while (t.p < t.end) {
        const char *word;
        size_t len;
        if (lds_text_token(&t, &word, &len) != 0) {
            lds_text_next_line(&t);
            continue;
        }
        if (lds_text_token_is(word, len, "vertex")) {
            if (loop_vertices >= 16) {
                st = lds_error_set(err, LDS_EFORMAT, "%s: line %llu: more than 16 vertices in one facet", ctx->name,
                                   (unsigned long long)t.line);
                goto out;
            }
            float *v = &loop[3 * loop_vertices];
            if (lds_text_float(&t, &v[0]) || lds_text_float(&t, &v[1]) || lds_text_float(&t, &v[2])) {
                st = lds_error_set(err, LDS_EFORMAT, "%s: line %llu: bad vertex", ctx->name, (unsigned long long)t.line);
                goto out;
            }
            loop_vertices++;
        } else if (lds_text_token_is(word, len, "endloop") || lds_text_token_is(word, len, "endfacet")) {
            for (int k = 2; k < loop_vertices; k++) {
                if (count + 9 > capacity) {
                    if ((st = lds_import_check_limits(ctx, (count + 9) / 3, (count + 9) / 9, err)) != LDS_OK)
                        goto out;
                    size_t grown = capacity ? capacity * 2 : 4096;
                    float *p = realloc(pos, grown * sizeof(float));
                    if (p == NULL) {
                        st = LDS_ENOMEM;
                        goto out;
                    }
                    pos = p;
                    capacity = grown;
                }
                memcpy(pos + count, &loop[0], 3 * sizeof(float));
                memcpy(pos + count + 3, &loop[3 * (k - 1)], 6 * sizeof(float));
                count += 9;
            }
            loop_vertices = 0;
        }
        lds_text_next_line(&t);
    }
    if (count == 0) {
        st = lds_error_set(err, LDS_ENOGEOM, "%s: ASCII STL with no facets", ctx->name);
        goto out;
    }
    if ((st = lds_import_check_limits(ctx, count / 3, count / 9, err)) != LDS_OK)
        goto out;
    if ((st = lds_mesh_model_alloc(model, count / 3, count / 3, 0, 0, 0)) != LDS_OK)
        goto out;
    memcpy(model->positions, pos, count * sizeof(float));
    st = one_submesh(model);
out:
    free(pos);
    return st;
}

static int looks_ascii(const unsigned char *data, size_t size)
{
    size_t i = 0;
    while (i < size && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    if (size - i < 5 || memcmp(data + i, "solid", 5) != 0)
        return 0;
    /* binary files often start with "solid" too: ASCII ones say "facet" or "endsolid" early */
    size_t window = size < 4096 ? size : 4096;
    for (size_t k = i; k + 5 <= window; k++)
        if (memcmp(data + k, "facet", 5) == 0 || memcmp(data + k, "endsolid", 5) == 0)
            return 1;
    return 0;
}

lds_status lds_import_stl(const lds_import_ctx *ctx, const unsigned char *data, size_t size, lds_mesh_model *model,
                          lds_error *err)
{
    if (size >= 84) {
        uint32_t count = (uint32_t)data[80] | (uint32_t)data[81] << 8 | (uint32_t)data[82] << 16 |
                         (uint32_t)data[83] << 24;
        if (84 + 50ull * count == size || !looks_ascii(data, size))
            return read_binary(ctx, data, size, count, model, err);
    }
    if (looks_ascii(data, size))
        return read_ascii(ctx, data, size, model, err);
    return lds_error_set(err, LDS_ETRUNC, "%s: not an STL file (too short for binary, no ASCII solid)", ctx->name);
}
