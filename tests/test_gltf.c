/* test_gltf.c: the native glTF 2.0 reader (mesh/import_gltf.c, gltf_access.c) and the full
 * material model through the GLB writers. Every input is made here:
 * - accessor forms: interleaved byteStride, KHR_mesh_quantization (SHORT positions, normalized
 *   UBYTE texture coordinates), sparse storage on an accessor without a bufferView, strips, fans,
 *   points, lines (dropped with a warning), node transforms (and a mirroring one);
 * - materials with every slot, samplers, KHR_texture_transform, emissive strength, MASK, a
 *   carried extension with a texture, images from a bufferView, a data: URI and a missing file;
 * - plain, meshopt and Draco GLBs written by lds_mesh_write_glb and read back (the meshopt and
 *   Draco decoders), validated by the Khronos validator, and gltfpack -cc's output;
 * - every truncated prefix of a GLB in an exactly sized buffer. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh.h"
#include "testlib.h"

static const unsigned char png1[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00,
    0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0x60, 0xf8, 0x5f, 0x0f, 0x00, 0x02, 0x87, 0x01, 0x80,
    0xeb, 0x47, 0xba, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
static const char png1_uri[] =
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

/* A GLB from JSON text and a binary chunk. */
static unsigned char *make_glb(const char *json, const void *bin, size_t bin_size, size_t *size)
{
    size_t js = strlen(json), jp = (js + 3) & ~(size_t)3, bp = (bin_size + 3) & ~(size_t)3;
    *size = 12 + 8 + jp + (bin_size ? 8 + bp : 0);
    unsigned char *out = calloc(1, *size);
    uint32_t head[5] = {0x46546C67u, 2, (uint32_t)*size, (uint32_t)jp, 0x4E4F534Au};
    memcpy(out, head, sizeof(head));
    memcpy(out + 20, json, js);
    memset(out + 20 + js, ' ', jp - js);
    if (bin_size) {
        uint32_t chunk[2] = {(uint32_t)bp, 0x004E4942u};
        memcpy(out + 20 + jp, chunk, 8);
        memcpy(out + 28 + jp, bin, bin_size);
    }
    return out;
}

/* Sidecars for the tests: one file "present.png", everything else missing. */
static const char pbr_mtl[] = "newmtl pbr\nKd 1 0.5 0.25\nPr 0.25\nPm 0.75\nKe 0.5 0.5 0.5\n"
                              "map_Kd present.png\nnorm present.png\nmap_Ke present.png\nmap_Pr missing.png\n";

static int test_read(void *ctx, const char *name, unsigned char **data, size_t *size)
{
    (void)ctx;
    if (strcmp(name, "pbr.mtl") == 0) {
        *data = malloc(sizeof(pbr_mtl));
        memcpy(*data, pbr_mtl, sizeof(pbr_mtl) - 1);
        *size = sizeof(pbr_mtl) - 1;
        return 0;
    }
    if (strcmp(name, "present.png") != 0)
        return -1;
    *data = malloc(sizeof(png1));
    memcpy(*data, png1, sizeof(png1));
    *size = sizeof(png1);
    return 0;
}
static const lds_mesh_reader sidecars = {NULL, test_read};

static lds_mesh_model *import(const char *name, const unsigned char *data, size_t size, lds_error *err)
{
    lds_mesh_model *m = NULL;
    lds_error_clear(err);
    if (lds_mesh_import(name, data, size, &sidecars, NULL, &m, err) != LDS_OK)
        return NULL;
    return m;
}

static int has_warning(const lds_mesh_model *m, const char *text)
{
    for (size_t i = 0; i < m->warning_count; i++)
        if (strstr(m->warnings[i], text))
            return 1;
    return 0;
}

static int near(float a, float b)
{
    return fabsf(a - b) <= 1e-4f * (1.0f + fabsf(b));
}

/* ---- accessor forms ---- */

/* Binary layout of the geometry test:
 *   0: interleaved view, stride 12: int16 x3 position + pad, uint8 x2 uv (normalized) + pad (4 verts)
 *  48: sparse indices uint16 x4 (pad to 56)
 *  56: sparse values float x3 x4 (normals)
 * 104: fan positions float x3 x5
 * 164: points positions float x3 x3 (reuses the first 3 fan positions: offset 104, count 3)
 * 164: line indices uint16 x2 */
static unsigned char *geometry_glb(size_t *size)
{
    unsigned char bin[168];
    memset(bin, 0, sizeof(bin));
    const int16_t pos[4][3] = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {1, 1, 0}};
    const uint8_t uv[4][2] = {{0, 0}, {255, 0}, {0, 255}, {255, 255}};
    for (int v = 0; v < 4; v++) {
        memcpy(bin + 12 * v, pos[v], 6);
        memcpy(bin + 12 * v + 8, uv[v], 2);
    }
    const uint16_t sparse_idx[4] = {0, 1, 2, 3};
    memcpy(bin + 48, sparse_idx, 8);
    for (int v = 0; v < 4; v++) {
        float n[3] = {0, 0, v == 3 ? -1.0f : 1.0f};
        memcpy(bin + 56 + 12 * v, n, 12);
    }
    const float fan[5][3] = {{0, 0, 5}, {1, 0, 5}, {1, 1, 5}, {0, 1, 5}, {-1, 1, 5}};
    memcpy(bin + 104, fan, sizeof(fan));
    const uint16_t line[2] = {0, 1};
    memcpy(bin + 164, line, 4);
    const char *json =
        "{\"asset\":{\"version\":\"2.0\"},\"extensionsUsed\":[\"KHR_mesh_quantization\"],"
        "\"extensionsRequired\":[\"KHR_mesh_quantization\"],\"scene\":0,\"scenes\":[{\"nodes\":[0,1]}],"
        "\"nodes\":[{\"mesh\":0,\"translation\":[10,0,0],\"scale\":[2,2,2]},{\"mesh\":1,\"scale\":[-1,1,1]}],"
        "\"meshes\":[{\"primitives\":[{\"attributes\":{\"POSITION\":0,\"TEXCOORD_0\":1,\"NORMAL\":2},\"mode\":5}]},"
        "{\"primitives\":[{\"attributes\":{\"POSITION\":3},\"mode\":6},{\"attributes\":{\"POSITION\":4},\"mode\":0},"
        "{\"attributes\":{\"POSITION\":3},\"indices\":5,\"mode\":1}]}],"
        "\"buffers\":[{\"byteLength\":168}],"
        "\"bufferViews\":[{\"buffer\":0,\"byteOffset\":0,\"byteLength\":48,\"byteStride\":12},"
        "{\"buffer\":0,\"byteOffset\":48,\"byteLength\":8},{\"buffer\":0,\"byteOffset\":56,\"byteLength\":48},"
        "{\"buffer\":0,\"byteOffset\":104,\"byteLength\":60},{\"buffer\":0,\"byteOffset\":164,\"byteLength\":4}],"
        "\"accessors\":[{\"bufferView\":0,\"componentType\":5122,\"count\":4,\"type\":\"VEC3\",\"min\":[0,0,0],"
        "\"max\":[1,1,0]},{\"bufferView\":0,\"byteOffset\":8,\"componentType\":5121,\"normalized\":true,\"count\":4,"
        "\"type\":\"VEC2\"},{\"componentType\":5126,\"count\":4,\"type\":\"VEC3\",\"sparse\":{\"count\":4,"
        "\"indices\":{\"bufferView\":1,\"componentType\":5123},\"values\":{\"bufferView\":2}}},"
        "{\"bufferView\":3,\"componentType\":5126,\"count\":5,\"type\":\"VEC3\",\"min\":[-1,0,5],\"max\":[1,1,5]},"
        "{\"bufferView\":3,\"componentType\":5126,\"count\":3,\"type\":\"VEC3\",\"min\":[0,0,5],\"max\":[1,1,5]},"
        "{\"bufferView\":4,\"componentType\":5123,\"count\":2,\"type\":\"SCALAR\"}]}";
    return make_glb(json, bin, sizeof(bin), size);
}

static void test_geometry(void)
{
    size_t size;
    unsigned char *glb = geometry_glb(&size);
    lds_error err;
    lds_mesh_model *m = import("forms.glb", glb, size, &err);
    LDS_CHECK(m != NULL);
    if (m == NULL) {
        fprintf(stderr, "  %s\n", err.message);
        free(glb);
        return;
    }
    LDS_CHECK_INT(m->submesh_count, ==, 3); /* strip, fan, points; the lines are gone */
    LDS_CHECK(has_warning(m, "line primitives"));
    /* strip: 4 vertices, 2 triangles, node T(10,0,0) S(2): vertex 3 at (12, 2, 0) */
    const lds_mesh_submesh *strip = &m->submeshes[0];
    LDS_CHECK_INT(strip->index_count, ==, 6);
    LDS_CHECK(near(m->positions[3 * 3], 12) && near(m->positions[3 * 3 + 1], 2));
    LDS_CHECK(m->uvs && near(m->uvs[2 * 3], 1) && near(m->uvs[2 * 1 + 1], 0));
    LDS_CHECK(m->normals && near(m->normals[3 * 3 + 2], -1) && near(m->normals[2], 1)); /* the sparse values */
    /* strip winding (glTF 3.7.2.1): (0,1,2), then (1,3,2) */
    LDS_CHECK_INT(m->indices[3], ==, 1);
    LDS_CHECK_INT(m->indices[4], ==, 3);
    LDS_CHECK_INT(m->indices[5], ==, 2);
    /* fan of 5 under a mirror: 3 triangles, x negated, winding flipped (0, 2, 1) */
    const lds_mesh_submesh *fan = &m->submeshes[1];
    LDS_CHECK_INT(fan->index_count, ==, 9);
    uint32_t f0 = fan->vertex_offset;
    LDS_CHECK(near(m->positions[3 * (f0 + 1)], -1));
    LDS_CHECK_INT(m->indices[fan->index_offset], ==, f0 + 1);
    LDS_CHECK_INT(m->indices[fan->index_offset + 1], ==, f0 + 0);
    LDS_CHECK_INT(m->indices[fan->index_offset + 2], ==, f0 + 2);
    /* points: a point cloud submesh of 3 */
    LDS_CHECK_INT(m->submeshes[2].index_count, ==, 0);
    LDS_CHECK_INT(m->submeshes[2].vertex_count, ==, 3);
    lds_mesh_model_destroy(m);

    /* Every truncated prefix, in an exactly sized buffer: an error or a model, never a crash. */
    size_t ok = 0;
    for (size_t n = 0; n < size; n++) {
        unsigned char *cut = malloc(n ? n : 1);
        memcpy(cut, glb, n);
        lds_mesh_model *c = import("cut.glb", cut, n, &err);
        if (c == NULL)
            LDS_CHECK(strstr(err.message, "cut.glb") != NULL);
        ok += c != NULL;
        lds_mesh_model_destroy(c);
        free(cut);
    }
    printf("  forms.glb: %zu prefixes, %zu import\n", size, ok);
    LDS_CHECK_INT(ok, ==, 0);
    free(glb);
}

/* ---- materials ---- */

static const char material_json_fmt[] =
    "{\"asset\":{\"version\":\"2.0\"},\"extensionsUsed\":[\"KHR_texture_transform\",\"KHR_materials_sheen\","
    "\"KHR_materials_emissive_strength\"],\"scenes\":[{\"nodes\":[0]}],\"nodes\":[{\"mesh\":0}],"
    "\"meshes\":[{\"primitives\":[{\"attributes\":{\"POSITION\":0,\"TEXCOORD_0\":1,\"TEXCOORD_1\":1,"
    "\"TANGENT\":2,\"NORMAL\":3},\"material\":0},{\"attributes\":{\"POSITION\":0},\"material\":1}]}],"
    "\"materials\":[{\"name\":\"full\",\"pbrMetallicRoughness\":{\"baseColorFactor\":[0.5,0.25,1,0.75],"
    "\"metallicFactor\":0.25,\"roughnessFactor\":0.5,\"baseColorTexture\":{\"index\":0,\"extensions\":"
    "{\"KHR_texture_transform\":{\"offset\":[0.5,0],\"rotation\":0.25,\"scale\":[2,2]}}},"
    "\"metallicRoughnessTexture\":{\"index\":1,\"texCoord\":1}},\"normalTexture\":{\"index\":0,\"scale\":0.5},"
    "\"occlusionTexture\":{\"index\":1,\"strength\":0.25},\"emissiveTexture\":{\"index\":2},"
    "\"emissiveFactor\":[1,0.5,0],\"alphaMode\":\"MASK\",\"alphaCutoff\":0.25,\"doubleSided\":true,"
    "\"extensions\":{\"KHR_materials_emissive_strength\":{\"emissiveStrength\":4},\"KHR_materials_sheen\":"
    "{\"sheenColorFactor\":[1,1,1],\"sheenColorTexture\":{\"index\":1}}}},"
    "{\"name\":\"lost\",\"pbrMetallicRoughness\":{\"baseColorFactor\":[1,0,0,1],\"baseColorTexture\":{\"index\":3}}}],"
    "\"samplers\":[{\"magFilter\":9728,\"minFilter\":9986,\"wrapS\":33071,\"wrapT\":33648}],"
    "\"textures\":[{\"source\":0,\"sampler\":0},{\"source\":1},{\"source\":2},{\"source\":3}],"
    "\"images\":[{\"bufferView\":1,\"mimeType\":\"image/png\"},{\"uri\":\"%s\"},{\"uri\":\"present.png\"},"
    "{\"uri\":\"missing.png\"}],"
    "\"buffers\":[{\"byteLength\":%zu}],"
    "\"bufferViews\":[{\"buffer\":0,\"byteOffset\":0,\"byteLength\":144},{\"buffer\":0,\"byteOffset\":144,"
    "\"byteLength\":%zu}],"
    "\"accessors\":[{\"bufferView\":0,\"componentType\":5126,\"count\":3,\"type\":\"VEC3\",\"min\":[0,0,0],"
    "\"max\":[1,1,0]},{\"bufferView\":0,\"byteOffset\":36,\"componentType\":5126,\"count\":3,\"type\":\"VEC2\"},"
    "{\"bufferView\":0,\"byteOffset\":60,\"componentType\":5126,\"count\":3,\"type\":\"VEC4\"},"
    "{\"bufferView\":0,\"byteOffset\":108,\"componentType\":5126,\"count\":3,\"type\":\"VEC3\"}]}";

static unsigned char *material_glb(size_t *size)
{
    float bin[36 + 18] = {0, 0, 0, 1, 0, 0, 0, 1, 0,          /* positions */
                          0, 0, 1, 0, 0, 1,                   /* uvs */
                          1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, /* tangents */
                          0, 0, 1, 0, 0, 1, 0, 0, 1};         /* normals */
    unsigned char data[144 + sizeof(png1)];
    memcpy(data, bin, 144);
    memcpy(data + 144, png1, sizeof(png1));
    char json[4096];
    snprintf(json, sizeof(json), material_json_fmt, png1_uri, sizeof(data), sizeof(png1));
    return make_glb(json, data, sizeof(data), size);
}

/* exact_transform: the texture transform is the one written (not composed with a meshopt UV
 * dequantisation). */
static void check_full_material(const lds_mesh_model *m, const char *what, int exact_transform)
{
    printf("  checking %s\n", what);
    LDS_CHECK(m->material_count >= 2);
    if (m->material_count < 2)
        return;
    const lds_mesh_material *a = NULL, *b = NULL;
    for (size_t i = 0; i < m->material_count; i++) {
        if (m->materials[i].name && strcmp(m->materials[i].name, "full") == 0)
            a = &m->materials[i];
        if (m->materials[i].name && strcmp(m->materials[i].name, "lost") == 0)
            b = &m->materials[i];
    }
    LDS_CHECK(a != NULL && b != NULL);
    if (a == NULL || b == NULL)
        return;
    LDS_CHECK(near(a->base_color[0], 0.5f) && near(a->base_color[1], 0.25f) && near(a->base_color[3], 0.75f));
    LDS_CHECK(near(a->metallic, 0.25f) && near(a->roughness, 0.5f));
    LDS_CHECK(near(a->emissive[0], 1) && near(a->emissive[1], 0.5f) && near(a->emissive_strength, 4));
    LDS_CHECK_INT(a->alpha_mode, ==, LDS_MESH_ALPHA_MASK);
    LDS_CHECK(near(a->alpha_cutoff, 0.25f));
    LDS_CHECK_INT(a->double_sided, ==, 1);
    for (int s = 0; s < LDS_MESH_MAP_COUNT; s++)
        LDS_CHECK(a->maps[s].texture >= 0);
    const lds_mesh_texture_ref *base = &a->maps[LDS_MESH_MAP_BASE_COLOR];
    LDS_CHECK_INT(base->sampler.mag_filter, ==, 9728);
    LDS_CHECK_INT(base->sampler.min_filter, ==, 9986);
    LDS_CHECK_INT(base->sampler.wrap_s, ==, 33071);
    LDS_CHECK_INT(base->sampler.wrap_t, ==, 33648);
    LDS_CHECK_INT(base->transform.present, ==, 1);
    if (exact_transform)
        LDS_CHECK(near(base->transform.offset[0], 0.5f) && near(base->transform.rotation, 0.25f) &&
                  near(base->transform.scale[1], 2));
    else /* quantised UVs: the sheen texture reads them through a dequantising transform too */
        LDS_CHECK(near(base->transform.rotation, 0.25f) && a->extensions &&
                  strstr(a->extensions, "KHR_texture_transform") != NULL);
    LDS_CHECK_INT(a->maps[LDS_MESH_MAP_METALLIC_ROUGHNESS].tex_coord, ==, 1);
    LDS_CHECK(near(a->maps[LDS_MESH_MAP_NORMAL].scale, 0.5f));
    LDS_CHECK(near(a->maps[LDS_MESH_MAP_OCCLUSION].scale, 0.25f));
    LDS_CHECK(a->extensions != NULL && strstr(a->extensions, "KHR_materials_sheen") != NULL &&
              strstr(a->extensions, "sheenColorTexture") != NULL);
    /* the missing image: slot empty, factor kept */
    LDS_CHECK(near(b->base_color[0], 1) && near(b->base_color[1], 0));
    LDS_CHECK(m->uvs1 != NULL && m->tangents != NULL);
}

static void test_materials(void)
{
    size_t size;
    unsigned char *glb = material_glb(&size);
    lds_error err;
    lds_mesh_model *m = import("materials.glb", glb, size, &err);
    LDS_CHECK(m != NULL);
    if (m == NULL) {
        fprintf(stderr, "  %s\n", err.message);
        free(glb);
        return;
    }
    check_full_material(m, "materials.glb as read", 1);
    LDS_CHECK(has_warning(m, "missing.png"));
    const lds_mesh_material *lost = &m->materials[1];
    int t = lost->maps[LDS_MESH_MAP_BASE_COLOR].texture;
    LDS_CHECK(t < 0 || m->textures[t].data == NULL);

    /* Through each writer and back; each output validates. */
    const char *dir = lds_test_tmpdir("gltf_materials");
    const char *names[3] = {"plain.glb", "meshopt.glb", "draco.glb"};
    const lds_mesh_encoding encodings[3] = {LDS_MESH_ENCODING_PLAIN, LDS_MESH_ENCODING_MESHOPT,
                                            LDS_MESH_ENCODING_DRACO};
    char paths[3][4200];
    const char *list[3];
    for (int e = 0; e < 3; e++) {
        lds_buf out;
        lds_buf_init(&out, 0);
        LDS_CHECK_OK(lds_mesh_write_glb(m, encodings[e], NULL, "test", &out, &err), &err);
        snprintf(paths[e], sizeof(paths[e]), "%s/%s", dir, names[e]);
        LDS_CHECK_OK(lds_file_write(paths[e], out.data, out.size, &err), &err);
        list[e] = paths[e];
        lds_mesh_model *back = import(names[e], out.data, out.size, &err);
        LDS_CHECK(back != NULL);
        if (back) {
            check_full_material(back, names[e], encodings[e] != LDS_MESH_ENCODING_MESHOPT);
            LDS_CHECK_INT(lds_mesh_triangle_count(back), ==, lds_mesh_triangle_count(m));
            for (size_t v = 0; v < 3 && back->vertex_count >= 3; v++)
                LDS_CHECK(fabsf(back->positions[3 * v] - m->positions[3 * v]) < 1e-3f);
        } else {
            fprintf(stderr, "  %s: %s\n", names[e], err.message);
        }
        lds_mesh_model_destroy(back);
        lds_buf_cleanup(&out);
    }
    lds_test_check_valid_glb(list, 3);

    /* gltfpack's EXT_meshopt_compression (with its own quantisation and texture transforms) */
    char *output = NULL;
    int rc = lds_test_run(&output, "gltfpack -cc -kn -km -i %s -o %s/packed.glb 2>&1", paths[0], dir);
    LDS_CHECK_INT(rc, ==, 0);
    free(output);
    char packed[4300];
    snprintf(packed, sizeof(packed), "%s/packed.glb", dir);
    lds_mesh_model *p = NULL;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_mesh_import_file(packed, 0, NULL, &p, &err), &err);
    if (p) {
        LDS_CHECK_INT(lds_mesh_triangle_count(p), ==, lds_mesh_triangle_count(m));
        float mx = 0;
        for (size_t v = 0; v < p->vertex_count; v++)
            mx = fmaxf(mx, p->positions[3 * v]);
        LDS_CHECK(fabsf(mx - 1.0f) < 1e-2f);
    }
    lds_mesh_model_destroy(p);
    lds_mesh_model_destroy(m);
    free(glb);
}

/* ---- meshopt and Draco input with every attribute ---- */

static void test_compressed_roundtrip(void)
{
    const size_t grid = 20, nv = grid * grid, nt = (grid - 1) * (grid - 1) * 2;
    lds_mesh_model *m = lds_mesh_model_create();
    LDS_CHECK(lds_mesh_model_alloc(m, nv, nt * 3, 1, 1, 1) == LDS_OK);
    LDS_CHECK(lds_mesh_model_alloc_attribute(m, LDS_MESH_ATTR_UVS1) == LDS_OK);
    LDS_CHECK(lds_mesh_model_alloc_attribute(m, LDS_MESH_ATTR_TANGENTS) == LDS_OK);
    for (size_t y = 0; y < grid; y++)
        for (size_t x = 0; x < grid; x++) {
            size_t v = y * grid + x;
            float fx = (float)x / (grid - 1), fy = (float)y / (grid - 1);
            float *p = m->positions + 3 * v;
            p[0] = fx, p[1] = fy, p[2] = 0.1f * sinf(6 * fx);
            m->normals[3 * v + 2] = 1;
            m->uvs[2 * v] = fx, m->uvs[2 * v + 1] = fy;
            m->uvs1[2 * v] = fy, m->uvs1[2 * v + 1] = fx;
            m->tangents[4 * v] = 1, m->tangents[4 * v + 3] = -1;
            for (int c = 0; c < 4; c++)
                m->colors[4 * v + c] = c == 3 ? 1.0f : fx;
        }
    size_t k = 0;
    for (size_t y = 0; y + 1 < grid; y++)
        for (size_t x = 0; x + 1 < grid; x++) {
            uint32_t a = (uint32_t)(y * grid + x), b = a + 1, c = a + (uint32_t)grid, d = c + 1;
            uint32_t t[6] = {a, b, d, a, d, c};
            memcpy(m->indices + k, t, sizeof(t));
            k += 6;
        }
    m->submesh_count = 1;
    m->submeshes = calloc(1, sizeof(lds_mesh_submesh));
    m->submeshes[0] = (lds_mesh_submesh){0, (uint32_t)nv, 0, (uint32_t)(nt * 3), 0, 0};
    m->material_count = 1;
    m->materials = calloc(1, sizeof(lds_mesh_material));
    lds_mesh_material_init(&m->materials[0]);
    lds_error err;
    for (int e = LDS_MESH_ENCODING_MESHOPT; e >= LDS_MESH_ENCODING_DRACO; e--) {
        lds_buf out;
        lds_buf_init(&out, 0);
        lds_error_clear(&err);
        LDS_CHECK_OK(lds_mesh_write_glb(m, (lds_mesh_encoding)e, NULL, "test", &out, &err), &err);
        const char *name = e == LDS_MESH_ENCODING_MESHOPT ? "grid.meshopt.glb" : "grid.draco.glb";
        lds_mesh_model *back = import(name, out.data, out.size, &err);
        LDS_CHECK(back != NULL);
        if (back) {
            printf("  %s: %zu bytes, %zu vertices, %zu triangles\n", name, out.size, back->vertex_count,
                   lds_mesh_triangle_count(back));
            LDS_CHECK_INT(lds_mesh_triangle_count(back), ==, nt);
            LDS_CHECK(back->normals && back->uvs && back->colors && back->uvs1 && back->tangents);
            /* every decoded vertex is near a source vertex with the same attributes */
            double worst = 0;
            for (size_t v = 0; v < back->vertex_count; v++) {
                const float *p = back->positions + 3 * v;
                size_t gx = (size_t)lroundf(p[0] * (grid - 1)), gy = (size_t)lroundf(p[1] * (grid - 1));
                size_t s = (gy < grid ? gy : grid - 1) * grid + (gx < grid ? gx : grid - 1);
                for (int c = 0; c < 3; c++)
                    worst = fmax(worst, fabs(p[c] - m->positions[3 * s + c]));
                if (back->uvs1)
                    worst = fmax(worst, fabs(back->uvs1[2 * v] - m->uvs1[2 * s]));
                if (back->tangents)
                    worst = fmax(worst, fabs(back->tangents[4 * v + 3] - m->tangents[4 * s + 3]));
            }
            printf("  %s: largest difference %.6f\n", name, worst);
            LDS_CHECK(worst < 2e-3);
        } else {
            fprintf(stderr, "  %s: %s\n", name, err.message);
        }
        lds_mesh_model_destroy(back);
        lds_buf_cleanup(&out);
    }
    lds_mesh_model_destroy(m);
}

/* ---- hostile forms ---- */

static void test_hostile(void)
{
    static const struct { const char *name, *json; } cases[] = {
        {"cycle.gltf", "{\"asset\":{\"version\":\"2.0\"},\"nodes\":[{\"children\":[1]},{\"children\":[0]}]}"},
        {"huge_count.gltf", "{\"asset\":{\"version\":\"2.0\"},\"meshes\":[{\"primitives\":[{\"attributes\":"
                            "{\"POSITION\":0}}]}],\"nodes\":[{\"mesh\":0}],\"accessors\":[{\"componentType\":5126,"
                            "\"count\":4000000000,\"type\":\"VEC3\"}]}"},
        {"past_end.gltf", "{\"asset\":{\"version\":\"2.0\"},\"meshes\":[{\"primitives\":[{\"attributes\":"
                          "{\"POSITION\":0}}]}],\"nodes\":[{\"mesh\":0}],\"buffers\":[{\"byteLength\":12,\"uri\":"
                          "\"data:application/octet-stream;base64,AAAAAAAAAAAAAAAA\"}],\"bufferViews\":[{\"buffer\":0,"
                          "\"byteLength\":12}],\"accessors\":[{\"bufferView\":0,\"componentType\":5126,\"count\":3,"
                          "\"type\":\"VEC3\"}]}"},
        {"stride.gltf", "{\"asset\":{\"version\":\"2.0\"},\"meshes\":[{\"primitives\":[{\"attributes\":"
                        "{\"POSITION\":0},\"mode\":0}]}],\"nodes\":[{\"mesh\":0}],\"buffers\":[{\"byteLength\":12,\"uri\":"
                        "\"data:application/octet-stream;base64,AAAAAAAAAAAAAAAA\"}],\"bufferViews\":[{\"buffer\":0,"
                        "\"byteLength\":12,\"byteStride\":4}],\"accessors\":[{\"bufferView\":0,\"componentType\":5126,"
                        "\"count\":1,\"type\":\"VEC3\"}]}"},
        {"version3.gltf", "{\"asset\":{\"version\":\"3.0\"}}"},
        {"bad_meshopt.gltf", "{\"asset\":{\"version\":\"2.0\"},\"meshes\":[{\"primitives\":[{\"attributes\":"
                             "{\"POSITION\":0}}]}],\"nodes\":[{\"mesh\":0}],\"buffers\":[{\"byteLength\":12,\"uri\":"
                             "\"data:application/octet-stream;base64,AAAAAAAAAAAAAAAA\"},{\"byteLength\":1200000}],"
                             "\"bufferViews\":[{\"buffer\":1,\"byteLength\":1200000,\"byteStride\":12,\"extensions\":"
                             "{\"EXT_meshopt_compression\":{\"buffer\":0,\"byteLength\":12,\"byteStride\":12,"
                             "\"count\":100000,\"mode\":\"ATTRIBUTES\"}}}],\"accessors\":[{\"bufferView\":0,"
                             "\"componentType\":5126,\"count\":100000,\"type\":\"VEC3\"}]}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lds_error err;
        lds_mesh_model *m = import(cases[i].name, (const unsigned char *)cases[i].json, strlen(cases[i].json), &err);
        LDS_CHECK(m == NULL);
        LDS_CHECK(strstr(err.message, cases[i].name) != NULL);
        printf("  rejected as expected: %s\n", err.message);
        lds_mesh_model_destroy(m);
    }
}

/* OBJ's PBR keys (the MTL PBR extension): Pr, Pm, Ke, norm, map_Ke fill the same model. */
static void test_obj_pbr(void)
{
    static const char obj[] = "mtllib pbr.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nusemtl pbr\nf 1/1 2/1 3/1\n";
    lds_error err;
    lds_mesh_model *m = import("pbr.obj", (const unsigned char *)obj, sizeof(obj) - 1, &err);
    LDS_CHECK(m != NULL);
    if (m == NULL) {
        fprintf(stderr, "  %s\n", err.message);
        return;
    }
    const lds_mesh_material *a = &m->materials[m->submeshes[0].material];
    LDS_CHECK(near(a->roughness, 0.25f) && near(a->metallic, 0.75f) && near(a->emissive[1], 0.5f));
    LDS_CHECK(a->maps[LDS_MESH_MAP_BASE_COLOR].texture >= 0 && a->maps[LDS_MESH_MAP_NORMAL].texture >= 0 &&
              a->maps[LDS_MESH_MAP_EMISSIVE].texture >= 0);
    LDS_CHECK(has_warning(m, "map_Pr"));
    lds_mesh_model_destroy(m);
}

/* ---- the kept scene: a skinned, animated cylinder through simplification and every writer ---- */

enum { SK_RINGS = 12, SK_SEGS = 16, SK_NV = (SK_RINGS + 1) * SK_SEGS, SK_NI = SK_RINGS * SK_SEGS * 6 };

/* A cylinder along y skinned to three chained joints (weights blend between neighbours), one
 * rotation animation of 4 keys on the middle joint, the mesh node a sibling of the root joint. */
static unsigned char *skinned_glb(size_t *size)
{
    static struct {
        float pos[SK_NV][3];
        uint16_t joints[SK_NV][4];
        float weights[SK_NV][4];
        uint16_t idx[SK_NI];
        float ibm[3][16];
        float times[4];
        float rot[4][4];
    } b;
    memset(&b, 0, sizeof(b));
    for (int r = 0, v = 0; r <= SK_RINGS; r++)
        for (int s = 0; s < SK_SEGS; s++, v++) {
            float a = 6.2831853f * (float)s / SK_SEGS, y = 2.0f * (float)r / SK_RINGS, t = y;
            int j = t >= 1.0f ? 1 : 0;
            b.pos[v][0] = 0.3f * cosf(a), b.pos[v][1] = y, b.pos[v][2] = 0.3f * sinf(a);
            b.joints[v][0] = (uint16_t)j, b.joints[v][1] = (uint16_t)(j + 1);
            b.weights[v][0] = 1.0f - (t - (float)j) * 0.5f, b.weights[v][1] = (t - (float)j) * 0.5f;
        }
    for (int r = 0, k = 0; r < SK_RINGS; r++)
        for (int s = 0; s < SK_SEGS; s++) {
            uint16_t a = (uint16_t)(r * SK_SEGS + s), c = (uint16_t)(r * SK_SEGS + (s + 1) % SK_SEGS);
            uint16_t q[6] = {a, (uint16_t)(a + SK_SEGS), c, c, (uint16_t)(a + SK_SEGS), (uint16_t)(c + SK_SEGS)};
            memcpy(b.idx + k, q, sizeof(q));
            k += 6;
        }
    for (int j = 0; j < 3; j++) {
        b.ibm[j][0] = b.ibm[j][5] = b.ibm[j][10] = b.ibm[j][15] = 1;
        b.ibm[j][13] = -(float)j;
    }
    for (int k = 0; k < 4; k++) {
        b.times[k] = (float)k * 0.5f;
        b.rot[k][2] = sinf(0.2f * (float)k), b.rot[k][3] = cosf(0.2f * (float)k);
    }
    char json[4096];
    snprintf(json, sizeof(json),
             "{\"asset\":{\"version\":\"2.0\"},\"scene\":0,\"scenes\":[{\"nodes\":[0,3]}],"
             "\"nodes\":[{\"name\":\"root\",\"children\":[1]},{\"name\":\"mid\",\"translation\":[0,1,0],\"children\":[2]},"
             "{\"name\":\"top\",\"translation\":[0,1,0]},{\"name\":\"body\",\"mesh\":0,\"skin\":0}],"
             "\"skins\":[{\"joints\":[0,1,2],\"skeleton\":0,\"inverseBindMatrices\":4}],"
             "\"animations\":[{\"name\":\"bend\",\"channels\":[{\"sampler\":0,\"target\":{\"node\":1,\"path\":\"rotation\"}}],"
             "\"samplers\":[{\"input\":5,\"output\":6,\"interpolation\":\"LINEAR\"}]}],"
             "\"meshes\":[{\"primitives\":[{\"attributes\":{\"POSITION\":0,\"JOINTS_0\":1,\"WEIGHTS_0\":2},\"indices\":3}]}],"
             "\"accessors\":[{\"bufferView\":0,\"componentType\":5126,\"count\":%d,\"type\":\"VEC3\",\"min\":[-0.3,0,-0.3],\"max\":[0.3,2,0.3]},"
             "{\"bufferView\":0,\"byteOffset\":%zu,\"componentType\":5123,\"count\":%d,\"type\":\"VEC4\"},"
             "{\"bufferView\":0,\"byteOffset\":%zu,\"componentType\":5126,\"count\":%d,\"type\":\"VEC4\"},"
             "{\"bufferView\":0,\"byteOffset\":%zu,\"componentType\":5123,\"count\":%d,\"type\":\"SCALAR\"},"
             "{\"bufferView\":0,\"byteOffset\":%zu,\"componentType\":5126,\"count\":3,\"type\":\"MAT4\"},"
             "{\"bufferView\":0,\"byteOffset\":%zu,\"componentType\":5126,\"count\":4,\"type\":\"SCALAR\",\"min\":[0],\"max\":[1.5]},"
             "{\"bufferView\":0,\"byteOffset\":%zu,\"componentType\":5126,\"count\":4,\"type\":\"VEC4\"}],"
             "\"bufferViews\":[{\"buffer\":0,\"byteLength\":%zu}],\"buffers\":[{\"byteLength\":%zu}]}",
             SK_NV, offsetof(__typeof__(b), joints), SK_NV, offsetof(__typeof__(b), weights), SK_NV,
             offsetof(__typeof__(b), idx), SK_NI, offsetof(__typeof__(b), ibm), offsetof(__typeof__(b), times),
             offsetof(__typeof__(b), rot), sizeof(b), sizeof(b));
    return make_glb(json, &b, sizeof(b), size);
}

/* The scene text's skins, animations and nodes, checked against skinned_glb's. */
static void check_scene(const lds_mesh_model *m, const char *what)
{
    printf("  scene of %s\n", what);
    LDS_CHECK(m->scene != NULL && m->joints != NULL && m->weights != NULL);
    if (m->scene == NULL)
        return;
    LDS_CHECK(strstr(m->scene, "\"joints\":[0,1,2]") != NULL);
    LDS_CHECK(strstr(m->scene, "\"children\":[1]") != NULL && strstr(m->scene, "\"roots\":[0,3]") != NULL);
    LDS_CHECK(strstr(m->scene, "\"path\":\"rotation\"") != NULL && strstr(m->scene, "\"MAT4\"") != NULL);
    LDS_CHECK(strstr(m->scene, "\"data\":[0.0,0.5,1.0,1.5]") != NULL); /* the keyframe times, unchanged */
    for (size_t v = 0; v < m->vertex_count; v++) {
        float sum = m->weights[4 * v] + m->weights[4 * v + 1] + m->weights[4 * v + 2] + m->weights[4 * v + 3];
        if (fabsf(sum - 1.0f) > 1e-3f || m->joints[4 * v + 1] > 2.0f) {
            LDS_CHECK(!"weights sum to 1 and joints stay below 3");
            break;
        }
    }
}

static void test_scene(void)
{
    size_t size;
    unsigned char *glb = skinned_glb(&size);
    lds_error err;
    /* every truncated prefix, in an exactly sized buffer: an error or a model, never an overread */
    for (size_t cut = 0; cut < size; cut++) {
        unsigned char *part = malloc(cut ? cut : 1);
        memcpy(part, glb, cut);
        lds_mesh_model *t = NULL;
        lds_error_clear(&err);
        if (lds_mesh_import("skinned.glb", part, cut, &sidecars, NULL, &t, &err) == LDS_OK)
            lds_mesh_model_destroy(t);
        free(part);
    }
    lds_mesh_model *m = import("skinned.glb", glb, size, &err), *half = NULL;
    free(glb);
    LDS_CHECK(m != NULL);
    if (m == NULL)
        return;
    check_scene(m, "the input");
    LDS_CHECK_OK(lds_mesh_simplify(m, SK_NI / 6, &half, NULL, &err), &err);
    if (half) {
        check_scene(half, "the simplified model");
        LDS_CHECK(lds_mesh_triangle_count(half) < lds_mesh_triangle_count(m));
    }
    for (int e = LDS_MESH_ENCODING_PLAIN; half && e <= LDS_MESH_ENCODING_MESHOPT; e++) {
        lds_buf out;
        lds_buf_init(&out, 0);
        LDS_CHECK_OK(lds_mesh_write_glb(half, (lds_mesh_encoding)e, NULL, "test", &out, &err), &err);
        const char *names[] = {"skin.glb", "skin.draco.glb", "skin.meshopt.glb"};
        lds_mesh_model *back = import(names[e], out.data, out.size, &err);
        LDS_CHECK(back != NULL);
        if (back) {
            check_scene(back, names[e]);
            LDS_CHECK_INT(lds_mesh_triangle_count(back), ==, lds_mesh_triangle_count(half));
        }
        lds_mesh_model_destroy(back);
        lds_buf_cleanup(&out);
    }
    lds_mesh_model_destroy(half);
    lds_mesh_model_destroy(m);
}

int main(void)
{
    test_obj_pbr();
    test_geometry();
    test_materials();
    test_compressed_roundtrip();
    test_hostile();
    test_scene();
    return lds_test_result();
}
