/* test_gltf_pbr.c: PBR assets through `lodestone process` (sandboxed): every LOD file of every
 * encoding keeps the input's materials (names, factors, alpha, double-sided, every texture slot
 * whose image is there, texture transforms, carried extensions) and passes the Khronos glTF
 * Validator with zero errors. The chain is cut to LOD0 and LOD1 (--lods 0.25) to keep the time modest. Inputs: the sample assets in ../shared/corpus/pbr when present, their
 * gltfpack -cc (EXT_meshopt_compression) and glTF-Transform draco copies made here, and the
 * glTF files of Debian's assimp-testmodels (clearcoat, texture transforms, a textured box). */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mesh.h"
#include "testlib.h"

static int near(float a, float b)
{
    return fabsf(a - b) <= 1e-4f * (1.0f + fabsf(b));
}

/* The extension names of a material's carried extensions, as one sorted-by-appearance string. */
static void extension_keys(const lds_mesh_material *m, char *out, size_t size)
{
    out[0] = '\0';
    json_t *e = m->extensions ? json_loads(m->extensions, 0, NULL) : NULL;
    const char *key;
    json_t *v;
    json_object_foreach(e, key, v)
    {
        strncat(out, key, size - strlen(out) - 2);
        strncat(out, ",", size - strlen(out) - 1);
    }
    json_decref(e);
}

static int slot_usable(const lds_mesh_model *m, const lds_mesh_texture_ref *ref)
{
    if (ref->texture < 0)
        return 0;
    const lds_mesh_texture *t = &m->textures[ref->texture];
    return t->data != NULL && (strcmp(t->mime, "image/png") == 0 || strcmp(t->mime, "image/jpeg") == 0);
}

/* Compares every material of out with in's; returns the number of mismatches (printed). */
static int compare_materials(const char *what, const lds_mesh_model *in, const lds_mesh_model *out)
{
    int bad = 0;
    size_t used = 0;
    for (size_t i = 0; i < in->material_count; i++) {
        const lds_mesh_material *a = &in->materials[i], *b = NULL;
        for (size_t k = 0; k < out->material_count && b == NULL; k++)
            if ((a->name == NULL && out->materials[k].name == NULL && k == i) ||
                (a->name && out->materials[k].name && strcmp(a->name, out->materials[k].name) == 0))
                b = &out->materials[k];
        if (b == NULL)
            continue; /* a material no kept primitive uses */
        used++;
        int ok = a->alpha_mode == b->alpha_mode && a->double_sided == b->double_sided &&
                 near(a->metallic, b->metallic) && near(a->roughness, b->roughness) &&
                 near(a->emissive_strength, b->emissive_strength) &&
                 (a->alpha_mode != LDS_MESH_ALPHA_MASK || near(a->alpha_cutoff, b->alpha_cutoff));
        for (int c = 0; c < 4; c++)
            ok &= near(fminf(fmaxf(a->base_color[c], 0), 1), b->base_color[c]);
        for (int c = 0; c < 3; c++)
            ok &= near(fminf(fmaxf(a->emissive[c], 0), 1), b->emissive[c]);
        for (int s = 0; s < LDS_MESH_MAP_COUNT; s++) {
            int want = slot_usable(in, &a->maps[s]), have = b->maps[s].texture >= 0;
            ok &= want == have;
            if (want && have) {
                ok &= a->maps[s].tex_coord == b->maps[s].tex_coord || a->maps[s].transform.tex_coord >= 0;
                ok &= !a->maps[s].transform.present || b->maps[s].transform.present;
                ok &= near(a->maps[s].scale, b->maps[s].scale) || s == LDS_MESH_MAP_OCCLUSION;
                ok &= memcmp(&a->maps[s].sampler, &b->maps[s].sampler, sizeof(lds_mesh_sampler)) == 0;
            }
        }
        char ka[512], kb[512];
        extension_keys(a, ka, sizeof(ka));
        extension_keys(b, kb, sizeof(kb));
        ok &= strcmp(ka, kb) == 0;
        if (!ok) {
            fprintf(stderr, "%s: material %zu (%s) differs from the input's\n", what, i, a->name ? a->name : "");
            bad++;
        }
    }
    if (used == 0) {
        fprintf(stderr, "%s: no material of the input found\n", what);
        bad++;
    }
    return bad;
}

/* Processes path and checks every LOD file; returns how many files were checked. validate: run the
 * validator on the outputs (not for inputs that fail it themselves). */
static size_t check_asset(const char *path, const char *label, int validate)
{
    lds_mesh_model *in = NULL;
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_mesh_import_file(path, 0, NULL, &in, &err), &err);
    if (in == NULL)
        return 0;
    const char *dir = lds_test_tmpdir(label);
    char *output = NULL;
    int rc = lds_test_run(&output, "'%s' process '%s' -o '%s/out' --title t --owner o --license CC0-1.0 "
                                   "--lods 0.25 --no-certificate --no-shape-index 2>&1", lds_test_bin(), path, dir);
    LDS_CHECK_INT(rc, ==, 0);
    if (rc != 0)
        fprintf(stderr, "%s: %s\n", label, output ? output : "");
    free(output);
    static char paths[64][4400];
    const char *list[64];
    size_t count = 0;
    static const char *const suffix[3] = {"", ".meshopt", ".draco"};
    for (int lod = 0; lod < 8; lod++)
        for (int e = 0; e < 3 && count < 64; e++) {
            snprintf(paths[count], sizeof(paths[count]), "%s/out/lod%d%s.glb", dir, lod, suffix[e]);
            lds_mesh_model *out = NULL;
            lds_error_clear(&err);
            if (lds_mesh_import_file(paths[count], 0, NULL, &out, &err) != LDS_OK) {
                LDS_CHECK(lod > 0 || err.code == LDS_OK); /* LOD0 must exist in every encoding */
                lds_mesh_model_destroy(out);
                continue;
            }
            char what[4500];
            snprintf(what, sizeof(what), "%s lod%d%s", label, lod, suffix[e]);
            LDS_CHECK_INT(compare_materials(what, in, out), ==, 0);
            LDS_CHECK(!in->uvs1 || out->uvs1);
            LDS_CHECK(!in->tangents || out->tangents);
            lds_mesh_model_destroy(out);
            list[count] = paths[count];
            count++;
        }
    printf("  %s: %zu LOD files keep every material\n", label, count);
    if (validate)
        lds_test_check_valid_glb(list, count);
    lds_mesh_model_destroy(in);
    return count;
}

int main(void)
{
    size_t files = 0;
    /* ClearCoatTest fails the validator itself (MESH_PRIMITIVE_NO_TANGENT_SPACE: clearcoat normal
     * maps without tangents), and so do its LODs: its materials are checked, not its validity. */
    static const char *const debian[] = {
        "/usr/share/assimp/models/glTF2/ClearCoat-glTF/ClearCoatTest.gltf",
        "/usr/share/assimp/models/glTF2/textureTransform/TextureTransformTest.gltf",
        "/usr/share/assimp/models/glTF2/BoxTextured-glTF/BoxTextured.gltf",
    };
    for (size_t i = 0; i < sizeof(debian) / sizeof(debian[0]); i++) {
        char label[64];
        snprintf(label, sizeof(label), "pbr_debian%zu", i);
        files += check_asset(debian[i], label, i != 0);
    }
    char corpus[4096];
    if (lds_test_shared("corpus/pbr", corpus, sizeof(corpus)) != NULL) {
        DIR *d = opendir(corpus);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            size_t n = strlen(e->d_name);
            if (n < 5 || strcmp(e->d_name + n - 4, ".glb") != 0)
                continue;
            char path[4400], label[256];
            snprintf(path, sizeof(path), "%s/%s", corpus, e->d_name);
            snprintf(label, sizeof(label), "pbr_%.*s", (int)(n - 4), e->d_name);
            files += check_asset(path, label, 1);
            if (strcmp(e->d_name, "WaterBottle.glb") != 0 && strcmp(e->d_name, "Avocado.glb") != 0)
                continue;
            /* compressed copies: gltfpack -cc and glTF-Transform draco */
            const char *dir = lds_test_tmpdir(strcmp(e->d_name, "Avocado.glb") == 0 ? "pbr_copies_a" : "pbr_copies_w");
            char cc[4400], draco[4400];
            snprintf(cc, sizeof(cc), "%s/%.*s.cc.glb", dir, (int)(n - 4), e->d_name);
            snprintf(draco, sizeof(draco), "%s/%.*s.draco.glb", dir, (int)(n - 4), e->d_name);
            LDS_CHECK_INT(lds_test_run(NULL, "gltfpack -cc -i '%s' -o '%s' 2>&1", path, cc), ==, 0);
            LDS_CHECK_INT(lds_test_run(NULL, "'%s/tools/node_modules/.bin/gltf-transform' draco '%s' '%s' 2>&1",
                                       LDS_SOURCE_DIR, path, draco), ==, 0);
            snprintf(label, sizeof(label), "pbr_%.*s_cc", (int)(n - 4), e->d_name);
            files += check_asset(cc, label, 1);
            snprintf(label, sizeof(label), "pbr_%.*s_draco", (int)(n - 4), e->d_name);
            files += check_asset(draco, label, 1);
        }
        if (d)
            closedir(d);
    }
    printf("%zu LOD files checked\n", files);
    LDS_CHECK(files > 0);
    return lds_test_result();
}
