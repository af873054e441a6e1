/* test_glb_check.c: see test_glb_check.h. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <meshoptimizer.h>

#include "draco_shim.h"
#include "test_glb_check.h"
#include "testlib.h"

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static json_int_t geti(json_t *o, const char *key, json_int_t fallback)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? json_integer_value(v) : fallback;
}

static double getd(json_t *a, size_t i, double fallback)
{
    json_t *v = json_array_get(a, i);
    return v ? json_number_value(v) : fallback;
}

/* The first KHR_texture_transform on a material's base colour texture (all of ours are equal). */
static json_t *texture_transform(json_t *root)
{
    json_t *materials = json_object_get(root, "materials");
    for (size_t m = 0; m < json_array_size(materials); m++) {
        json_t *info = json_object_get(json_object_get(json_array_get(materials, m), "pbrMetallicRoughness"),
                                       "baseColorTexture");
        json_t *tt = json_object_get(json_object_get(info, "extensions"), "KHR_texture_transform");
        if (tt)
            return tt;
    }
    return NULL;
}

typedef struct view_data {
    unsigned char *bytes; /* decoded (meshopt) or pointing into the BIN chunk (plain) */
    int owned;
    size_t size;
} view_data;

static void update_error(glb_summary *s, double e)
{
    if (e > s->max_position_error)
        s->max_position_error = e;
}

void glb_check(const char *what, const unsigned char *data, size_t size, const lds_mesh_model *model,
               glb_summary *s)
{
    memset(s, 0, sizeof(*s));
    int failures = lds_test_failures;
    LDS_CHECK(size >= 28);
    if (size < 28)
        return;
    LDS_CHECK(memcmp(data, "glTF", 4) == 0);
    LDS_CHECK_INT(rd32(data + 4), ==, 2);
    LDS_CHECK_INT(rd32(data + 8), ==, size);
    size_t json_len = rd32(data + 12);
    LDS_CHECK_INT(rd32(data + 16), ==, 0x4E4F534Au);
    LDS_CHECK_INT(json_len % 4, ==, 0);
    LDS_CHECK(20 + json_len <= size);
    if (20 + json_len > size)
        return;
    const unsigned char *bin = NULL;
    size_t bin_len = 0;
    if (20 + json_len < size) {
        LDS_CHECK(20 + json_len + 8 <= size);
        bin_len = rd32(data + 20 + json_len);
        LDS_CHECK_INT(rd32(data + 24 + json_len), ==, 0x004E4942u);
        LDS_CHECK_INT(28 + json_len + bin_len, ==, size);
        LDS_CHECK_INT(bin_len % 4, ==, 0);
        bin = data + 28 + json_len;
    }
    s->json_bytes = json_len;
    s->bin_bytes = bin_len;
    json_error_t jerr;
    json_t *root = json_loadb((const char *)data + 20, json_len, 0, &jerr);
    if (root == NULL) {
        fprintf(stderr, "%s: JSON: %s\n", what, jerr.text);
        LDS_CHECK(root != NULL);
        return;
    }
    json_t *buffers = json_object_get(root, "buffers"), *views = json_object_get(root, "bufferViews");
    json_t *accessors = json_object_get(root, "accessors");
    size_t b0_len = (size_t)geti(json_array_get(buffers, 0), "byteLength", 0);
    if (bin) {
        LDS_CHECK(b0_len <= bin_len && bin_len - b0_len < 4);
    }
    size_t view_count = json_array_size(views);
    view_data *vd = calloc(view_count + 1, sizeof(view_data));
    for (size_t i = 0; i < view_count; i++) {
        json_t *v = json_array_get(views, i);
        json_t *mo = json_object_get(json_object_get(v, "extensions"), "EXT_meshopt_compression");
        if (mo) {
            size_t off = (size_t)geti(mo, "byteOffset", 0), len = (size_t)geti(mo, "byteLength", 0);
            size_t count = (size_t)geti(mo, "count", 0), stride = (size_t)geti(mo, "byteStride", 0);
            const char *mode = json_string_value(json_object_get(mo, "mode"));
            const char *filter = json_string_value(json_object_get(mo, "filter"));
            LDS_CHECK_INT(geti(mo, "buffer", -1), ==, 0);
            LDS_CHECK_INT(geti(v, "buffer", -1), ==, 1);
            LDS_CHECK_INT(geti(v, "byteLength", 0), ==, count * stride);
            LDS_CHECK_INT(off % 4, ==, 0);
            LDS_CHECK(off + len <= b0_len);
            if (off + len > b0_len || mode == NULL)
                continue;
            vd[i].bytes = malloc(count * stride + 1);
            vd[i].owned = 1;
            vd[i].size = count * stride;
            /* bitstream headers the spec requires: 0xa0 attributes, 0xe1 triangles (codec v1) */
            LDS_CHECK_INT(bin[off], ==, strcmp(mode, "ATTRIBUTES") == 0 ? 0xa0 : 0xe1);
            int rc;
            if (strcmp(mode, "ATTRIBUTES") == 0)
                rc = meshopt_decodeVertexBuffer(vd[i].bytes, count, stride, bin + off, len);
            else
                rc = meshopt_decodeIndexBuffer(vd[i].bytes, count, stride, bin + off, len);
            LDS_CHECK_INT(rc, ==, 0);
            if (filter && strcmp(filter, "OCTAHEDRAL") == 0)
                meshopt_decodeFilterOct(vd[i].bytes, count, stride);
            s->meshopt_views++;
        } else {
            size_t off = (size_t)geti(v, "byteOffset", 0), len = (size_t)geti(v, "byteLength", 0);
            LDS_CHECK_INT(geti(v, "buffer", -1), ==, 0);
            LDS_CHECK_INT(off % 4, ==, 0);
            LDS_CHECK(off + len <= b0_len);
            if (off + len <= b0_len) {
                vd[i].bytes = (unsigned char *)bin + off;
                vd[i].size = len;
            }
        }
    }
    json_t *images = json_object_get(root, "images");
    for (size_t i = 0; i < json_array_size(images); i++) {
        json_t *image = json_array_get(images, i);
        const char *mime = json_string_value(json_object_get(image, "mimeType"));
        json_int_t iv = geti(image, "bufferView", -1);
        LDS_CHECK(mime && iv >= 0 && (size_t)iv < view_count && vd[iv].bytes);
        if (mime && iv >= 0 && (size_t)iv < view_count && vd[iv].bytes && vd[iv].size >= 4)
            LDS_CHECK(strcmp(mime, "image/png") == 0 ? memcmp(vd[iv].bytes, "\x89PNG", 4) == 0
                                                     : vd[iv].bytes[0] == 0xff && vd[iv].bytes[1] == 0xd8);
        s->images++;
    }
    json_t *node = json_array_get(json_object_get(root, "nodes"), 0);
    json_t *translation = json_object_get(node, "translation"), *scale = json_object_get(node, "scale");
    json_t *prims = json_object_get(json_array_get(json_object_get(root, "meshes"), 0), "primitives");
    LDS_CHECK(json_array_size(prims) > 0);
    for (size_t p = 0; p < json_array_size(prims); p++) {
        json_t *prim = json_array_get(prims, p);
        json_int_t mode = geti(prim, "mode", 4);
        json_t *pos_acc = json_array_get(accessors, (size_t)geti(json_object_get(prim, "attributes"), "POSITION", -1));
        LDS_CHECK(pos_acc != NULL);
        size_t vertex_count = (size_t)geti(pos_acc, "count", 0);
        json_int_t ii = geti(prim, "indices", -1);
        json_t *idx_acc = ii >= 0 ? json_array_get(accessors, (size_t)ii) : NULL;
        size_t index_count = idx_acc ? (size_t)geti(idx_acc, "count", 0) : 0;
        if (mode == 4)
            s->triangles += index_count / 3;
        else
            s->points += vertex_count;
        const lds_mesh_submesh *sm = model && p < model->submesh_count ? &model->submeshes[p] : NULL;
        json_t *draco = json_object_get(json_object_get(prim, "extensions"), "KHR_draco_mesh_compression");
        if (draco) {
            LDS_CHECK(json_object_get(pos_acc, "bufferView") == NULL);
            json_t *v = json_array_get(views, (size_t)geti(draco, "bufferView", -1));
            size_t off = (size_t)geti(v, "byteOffset", 0), len = (size_t)geti(v, "byteLength", 0);
            size_t points = 0, faces = 0;
            float *positions = NULL;
            lds_error err;
            lds_error_clear(&err);
            LDS_CHECK(off + len <= b0_len);
            if (off + len <= b0_len)
                LDS_CHECK_OK(lds_draco_decode_counts(bin + off, len, &points, &faces, &positions, &err), &err);
            LDS_CHECK_INT(points, ==, vertex_count);
            LDS_CHECK_INT(faces * 3, ==, index_count);
            s->draco_primitives++;
            if (sm && positions && points) {
                /* Draco reorders points: compare the bounding boxes */
                for (int c = 0; c < 3; c++) {
                    float dmin = positions[c], dmax = positions[c];
                    float mmin = model->positions[3 * sm->vertex_offset + c], mmax = mmin;
                    for (size_t i = 0; i < points; i++) {
                        dmin = fminf(dmin, positions[3 * i + c]);
                        dmax = fmaxf(dmax, positions[3 * i + c]);
                    }
                    for (size_t i = 0; i < sm->vertex_count; i++) {
                        mmin = fminf(mmin, model->positions[3 * (sm->vertex_offset + i) + c]);
                        mmax = fmaxf(mmax, model->positions[3 * (sm->vertex_offset + i) + c]);
                    }
                    update_error(s, fabs(dmin - mmin));
                    update_error(s, fabs(dmax - mmax));
                }
            }
            free(positions);
            continue;
        }
        /* plain or meshopt: read positions and indices back */
        json_int_t pv = geti(pos_acc, "bufferView", -1);
        view_data *pd = pv >= 0 && (size_t)pv < view_count ? &vd[pv] : NULL;
        LDS_CHECK(pd && pd->bytes);
        json_int_t ct = geti(pos_acc, "componentType", 0);
        if (pd && pd->bytes && sm) {
            LDS_CHECK_INT(vertex_count, ==, sm->vertex_count);
            size_t stride = ct == 5126 ? 12 : 8;
            LDS_CHECK(vertex_count * stride <= pd->size);
            for (size_t i = 0; i < vertex_count && i * stride + stride <= pd->size; i++)
                for (int c = 0; c < 3; c++) {
                    double value;
                    if (ct == 5126) {
                        float f;
                        memcpy(&f, pd->bytes + i * stride + 4 * c, 4);
                        value = f;
                    } else {
                        uint16_t q;
                        memcpy(&q, pd->bytes + i * stride + 2 * c, 2);
                        value = getd(translation, c, 0) + q * getd(scale, c, 1);
                    }
                    update_error(s, fabs(value - model->positions[3 * (sm->vertex_offset + i) + c]));
                }
        }
        /* meshopt normals (octahedral int8) and texture coordinates (uint16 + KHR_texture_transform) */
        json_t *attrs = json_object_get(prim, "attributes");
        json_t *nacc = json_array_get(accessors, (size_t)geti(attrs, "NORMAL", -1));
        json_int_t nview = geti(nacc, "bufferView", -1);
        if (sm && model->normals && nacc && geti(nacc, "componentType", 0) == 5120 && nview >= 0 && vd[nview].bytes) {
            double worst = 1;
            for (size_t i = 0; i < vertex_count && 4 * i + 4 <= vd[nview].size; i++) {
                const int8_t *q = (const int8_t *)vd[nview].bytes + 4 * i;
                const float *n = model->normals + 3 * (sm->vertex_offset + i);
                double len = sqrt((double)n[0] * n[0] + (double)n[1] * n[1] + (double)n[2] * n[2]);
                double dot = (q[0] * n[0] + q[1] * n[1] + q[2] * n[2]) / 127.0 / (len > 0 ? len : 1);
                worst = dot < worst ? dot : worst;
            }
            if (worst < 0.98)
                fprintf(stderr, "%s: a decoded normal is off by acos(%g)\n", what, worst);
            LDS_CHECK(worst >= 0.98);
            s->checked_normals++;
        }
        json_t *tacc = json_array_get(accessors, (size_t)geti(attrs, "TEXCOORD_0", -1));
        json_int_t tview = geti(tacc, "bufferView", -1);
        json_t *tt = texture_transform(root);
        if (sm && model->uvs && tacc && tt && geti(tacc, "componentType", 0) == 5123 && tview >= 0 && vd[tview].bytes) {
            json_t *off = json_object_get(tt, "offset"), *sc = json_object_get(tt, "scale");
            double worst = 0;
            for (size_t i = 0; i < vertex_count && 4 * i + 4 <= vd[tview].size; i++)
                for (int c = 0; c < 2; c++) {
                    uint16_t q;
                    memcpy(&q, vd[tview].bytes + 4 * i + 2 * c, 2);
                    double uv = getd(off, c, 0) + q / 65535.0 * getd(sc, c, 1);
                    double e = fabs(uv - model->uvs[2 * (sm->vertex_offset + i) + c]);
                    worst = e > worst ? e : worst;
                }
            if (worst > 4.0 / 4095)
                fprintf(stderr, "%s: a decoded texture coordinate is off by %g\n", what, worst);
            LDS_CHECK(worst <= 4.0 / 4095);
            s->checked_uvs++;
        }
        if (idx_acc) {
            json_int_t iv = geti(idx_acc, "bufferView", -1);
            view_data *id = iv >= 0 && (size_t)iv < view_count ? &vd[iv] : NULL;
            LDS_CHECK(id && id->bytes);
            json_int_t ict = geti(idx_acc, "componentType", 0);
            size_t isz = ict == 5123 ? 2 : 4;
            if (id && id->bytes && index_count * isz <= id->size) {
                uint32_t max = 0;
                for (size_t t = 0; t + 2 < index_count; t += 3) {
                    uint32_t x[3];
                    for (int k = 0; k < 3; k++) {
                        if (isz == 2) {
                            uint16_t h;
                            memcpy(&h, id->bytes + 2 * (t + k), 2);
                            x[k] = h;
                        } else {
                            memcpy(&x[k], id->bytes + 4 * (t + k), 4);
                        }
                        max = x[k] > max ? x[k] : max;
                    }
                    if (sm == NULL)
                        continue;
                    /* same triangle, same winding; the meshopt triangle codec may rotate its corners */
                    const uint32_t *o = model->indices + sm->index_offset + t;
                    uint32_t base = sm->vertex_offset;
                    int same = 0;
                    for (int r = 0; r < 3; r++)
                        same |= x[0] + base == o[r] && x[1] + base == o[(r + 1) % 3] && x[2] + base == o[(r + 2) % 3];
                    if (!same) {
                        fprintf(stderr, "%s: primitive %zu triangle %zu is %u %u %u, model has %u %u %u\n", what, p,
                                t / 3, x[0] + base, x[1] + base, x[2] + base, o[0], o[1], o[2]);
                        LDS_CHECK(same);
                        break;
                    }
                }
                LDS_CHECK(max < vertex_count);
            }
        }
    }
    for (size_t i = 0; i < view_count; i++)
        if (vd[i].owned)
            free(vd[i].bytes);
    free(vd);
    json_decref(root);
    if (lds_test_failures != failures)
        fprintf(stderr, "  (in %s)\n", what);
}

const char *glb_save(const char *dir, const char *name, const unsigned char *data, size_t size)
{
    static char paths[64][1024];
    static int next;
    char *path = paths[next++ % 64];
    snprintf(path, 1024, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    LDS_CHECK(f != NULL);
    if (f) {
        LDS_CHECK_INT(fwrite(data, 1, size, f), ==, size);
        fclose(f);
    }
    return path;
}
