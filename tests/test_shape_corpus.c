/* test_shape_corpus.c: the shape fingerprint on real files (calibration of the match threshold).
 *  - the six third-party remeshes of homer.off all match it;
 *  - near copies of the corpus models match: rigid motion + uniform scale, meshopt_simplify to a
 *    quarter of the triangles, gltfpack -si 0.25, Draco at 11 bits (draco_encoder/decoder),
 *    Gaussian noise of 0.1% of the diagonal, coordinates rounded to 4 significant digits;
 *  - distinct objects of the corpus and assimp-testmodels never match;
 *  - the shape index finds homer.off for every remesh, comparing against few entries.
 * Skips when the corpus is absent. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include <meshoptimizer.h>

#include "mesh.h"
#include "testlib.h"

static lds_mesh_model *load(const char *path)
{
    lds_mesh_model *m = NULL;
    lds_error err = {0};
    if (lds_mesh_import_file(path, 0, NULL, &m, &err) != LDS_OK || lds_mesh_clean(m, NULL, &err) != LDS_OK) {
        fprintf(stderr, "cannot load %s: %s\n", path, err.message);
        lds_mesh_model_destroy(m);
        return NULL;
    }
    return m;
}

static int fingerprint(const lds_mesh_model *m, char out[LDS_MESH_SHAPE_FP_MAX])
{
    lds_error err = {0};
    lds_status s = lds_mesh_fingerprint_shape(m, out, &err);
    LDS_CHECK_OK(s, &err);
    return s == LDS_OK;
}

static double compare(const char *a, const char *b, int *match)
{
    lds_error err = {0};
    double s = 0;
    *match = 0;
    LDS_CHECK_OK(lds_mesh_shape_compare(a, b, &s, match, &err), &err);
    return s;
}

/* ---- near copies ---- */

static uint64_t rng_state = 20240611;
static double rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}
static double gauss(void)
{
    double u = rnd() + 1e-300, v = rnd();
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static double diagonal(const lds_mesh_model *m)
{
    float lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < m->vertex_count; i++)
        for (int k = 0; k < 3; k++) {
            lo[k] = fminf(lo[k], m->positions[3 * i + k]);
            hi[k] = fmaxf(hi[k], m->positions[3 * i + k]);
        }
    return sqrt(pow(hi[0] - lo[0], 2) + pow(hi[1] - lo[1], 2) + pow(hi[2] - lo[2], 2));
}

static void rigid_scale(lds_mesh_model *m)
{
    double angles[3];
    for (int k = 0; k < 3; k++)
        angles[k] = rnd() * 6.28;
    double s = 0.1 + rnd() * 10, d = diagonal(m);
    double t[3];
    for (int k = 0; k < 3; k++)
        t[k] = (rnd() * 4 - 2) * d * s;
    lds_test_similarity_transform(m->positions, m->vertex_count, angles, s, t);
}

static void add_noise(lds_mesh_model *m)
{
    double sigma = 0.001 * diagonal(m);
    for (size_t i = 0; i < 3 * m->vertex_count; i++)
        m->positions[i] += (float)(gauss() * sigma);
}

static void round_4_digits(lds_mesh_model *m)
{
    char text[32];
    for (size_t i = 0; i < 3 * m->vertex_count; i++) {
        snprintf(text, sizeof text, "%.3e", m->positions[i]);
        m->positions[i] = strtof(text, NULL);
    }
}

static void decimate(lds_mesh_model *m)
{
    size_t target = m->index_count / 4 / 3 * 3;
    uint32_t *out = malloc(m->index_count * sizeof *out);
    float error = 0;
    size_t n = meshopt_simplify(out, m->indices, m->index_count, m->positions, m->vertex_count, 3 * sizeof(float),
                                target, 1e-2f, 0, &error);
    memcpy(m->indices, out, n * sizeof *out);
    m->index_count = n;
    m->submeshes[0].index_count = (uint32_t)n; /* a flattened copy has one submesh */
    free(out);
}

/* One submesh, all vertices and triangles, so that meshopt sees the whole model. */
static lds_mesh_model *flatten(const lds_mesh_model *src)
{
    lds_mesh_model *m = lds_mesh_model_create();
    if (lds_mesh_model_alloc(m, src->vertex_count, src->index_count, 0, 0, 0) != LDS_OK)
        abort();
    m->vertex_count = src->vertex_count;
    m->index_count = src->index_count;
    memcpy(m->positions, src->positions, src->vertex_count * 3 * sizeof(float));
    memcpy(m->indices, src->indices, src->index_count * sizeof(uint32_t));
    m->submesh_count = 1;
    m->submeshes = calloc(1, sizeof *m->submeshes);
    m->submeshes[0].vertex_count = (uint32_t)src->vertex_count;
    m->submeshes[0].index_count = (uint32_t)src->index_count;
    m->material_count = 1;
    m->materials = calloc(1, sizeof *m->materials);
    lds_mesh_material_init(&m->materials[0]);
    for (int k = 0; k < 4; k++)
        m->materials[0].base_color[k] = 1;
    return m;
}

static int write_ply(const lds_mesh_model *m, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    fprintf(f, "ply\nformat binary_little_endian 1.0\nelement vertex %zu\nproperty float x\nproperty float y\n"
               "property float z\nelement face %zu\nproperty list uchar int vertex_indices\nend_header\n",
            m->vertex_count, m->index_count / 3);
    fwrite(m->positions, sizeof(float), 3 * m->vertex_count, f);
    for (size_t t = 0; t < m->index_count / 3; t++) {
        unsigned char three = 3;
        fwrite(&three, 1, 1, f);
        fwrite(m->indices + 3 * t, sizeof(uint32_t), 3, f);
    }
    return fclose(f);
}

static int write_obj(const lds_mesh_model *m, const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    for (size_t i = 0; i < m->vertex_count; i++)
        fprintf(f, "v %.9g %.9g %.9g\n", m->positions[3 * i], m->positions[3 * i + 1], m->positions[3 * i + 2]);
    for (size_t t = 0; t < m->index_count / 3; t++)
        fprintf(f, "f %u %u %u\n", m->indices[3 * t] + 1, m->indices[3 * t + 1] + 1, m->indices[3 * t + 2] + 1);
    return fclose(f);
}

static lds_mesh_model *draco_round_trip(const lds_mesh_model *m, const char *dir)
{
    char in[4200], drc[4200], out[4200];
    snprintf(in, sizeof in, "%s/draco_in.ply", dir);
    snprintf(drc, sizeof drc, "%s/draco.drc", dir);
    snprintf(out, sizeof out, "%s/draco_out.ply", dir);
    if (write_ply(m, in) != 0 ||
        lds_test_run(NULL, "draco_encoder -i '%s' -o '%s' -qp 11 && draco_decoder -i '%s' -o '%s'", in, drc, drc, out) != 0)
        return NULL;
    return load(out);
}

static lds_mesh_model *gltfpack_simplify(const lds_mesh_model *m, const char *dir)
{
    char in[4200], out[4200];
    snprintf(in, sizeof in, "%s/gltfpack_in.obj", dir);
    snprintf(out, sizeof out, "%s/gltfpack_out.glb", dir);
    if (write_obj(m, in) != 0 || lds_test_run(NULL, "gltfpack -i '%s' -o '%s' -si 0.25 -noq", in, out) != 0)
        return NULL;
    return load(out);
}

enum { NEAR_TRANSFORM, NEAR_DECIMATE, NEAR_GLTFPACK, NEAR_DRACO, NEAR_NOISE, NEAR_ROUND, NEAR_ALL, NEAR_KINDS };
static const char *near_names[NEAR_KINDS] = {"transform", "meshopt 1/4", "gltfpack 1/4", "draco 11 bits",
                                             "noise 0.1%", "4 digits", "all"};

static lds_mesh_model *near_copy(const lds_mesh_model *src, int kind, const char *dir)
{
    lds_mesh_model *m = flatten(src), *other = NULL;
    switch (kind) {
    case NEAR_TRANSFORM: rigid_scale(m); break;
    case NEAR_DECIMATE: decimate(m); break;
    case NEAR_GLTFPACK: other = gltfpack_simplify(m, dir); break;
    case NEAR_DRACO: other = draco_round_trip(m, dir); break;
    case NEAR_NOISE: add_noise(m); break;
    case NEAR_ROUND: round_4_digits(m); break;
    case NEAR_ALL:
        rigid_scale(m);
        decimate(m);
        add_noise(m);
        round_4_digits(m);
        other = draco_round_trip(m, dir);
        break;
    }
    if (kind == NEAR_GLTFPACK || kind == NEAR_DRACO || kind == NEAR_ALL) {
        lds_mesh_model_destroy(m);
        return other;
    }
    return m;
}

/* ---- the files ---- */

static const char *corpus_files[] = {
    "corpus/remeshed/homer/homer.off", "corpus/scans/horse.ply", "corpus/scans/igea.ply",
    "corpus/scans/nefertiti.obj",      "corpus/scans/stanford-bunny.obj", "corpus/textured/spot/spot.obj",
};
static const char *homer_remeshes[] = {
    "homer_0.00235_mmgs.off", "homer_0.15_35.off", "homer_0.15_40.off",
    "homer_0.15_40_simplified.off", "homer_35.off", "homer_40.off",
};
/* One file per distinct object (assimp-testmodels holds several copies of some of them in other
 * formats; those are the same object and are left out here), each with >= 300 triangles. */
static const char *assimp_files[] = {
    "OBJ/WusonOBJ.obj", "OBJ/spider.obj", "Collada/duck.dae", "COB/dwarf.cob", "COB/molecule.cob",
    "MS3D/jeep1.ms3d", "Collada/teapots.DAE", "BLEND/HUMAN.blend", "BLEND/Suzanne_248.blend",
    "MD2/faerie.md2", "MD2/sydney.md2", "IQM/mrfixit.iqm", "Q3D/E-AT-AT.q3o", "SIB/heffalump.sib",
    "X/BCN_Epileptic.X", "LWO/LXOB_Modo/CrazyEngine.lxo", "glTF/CesiumMilkTruck/CesiumMilkTruck.gltf",
    "glTF2/2CylinderEngine-glTF-Binary/2CylinderEngine.glb", "Collada/sphere.dae", "NFF/NFF/cylinder.nff",
    "STL/3DSMaxExport.STL", "ASE/MotionCaptureROM.ase", "SMD/holy_grailref.smd", "HMP/terrain.hmp",
    "X/fromtruespace_bin32.x", "Collada/human.zae", "AC/sample_subdiv.ac", "DXF/issue_2229.dxf",
    "LWO/LWO2/UglyVertexColors.lwo", "OBJ/regr01.obj", "3DS/fels.3ds", "Collada/COLLADA.dae",
    "BLEND/TorusLightsCams_250_compressed.blend", "BLEND/yxa_1.blend", "IFC/AC14-FZK-Haus.ifc",
    "X/anim_test.x", "FBX/global_settings.fbx", "Collada/Cinema4D.dae", "FBX/animation_with_skeleton.fbx",
};

typedef struct entry {
    char name[256];
    char shape[LDS_MESH_SHAPE_FP_MAX];
    lds_mesh_model *model;
} entry;

int main(void)
{
    char path[4096];
    if (lds_test_shared("corpus/remeshed/homer/homer.off", path, sizeof path) == NULL)
        lds_test_skip("corpus not found");
    const char *dir = lds_test_tmpdir("shape_corpus");
    size_t max_entries = sizeof corpus_files / sizeof *corpus_files + sizeof assimp_files / sizeof *assimp_files;
    entry *entries = calloc(max_entries, sizeof *entries);
    size_t entry_count = 0;

    for (size_t i = 0; i < sizeof corpus_files / sizeof *corpus_files; i++) {
        if (lds_test_shared(corpus_files[i], path, sizeof path) == NULL)
            continue;
        entry *e = &entries[entry_count];
        e->model = load(path);
        LDS_CHECK(e->model != NULL);
        if (e->model && fingerprint(e->model, e->shape)) {
            snprintf(e->name, sizeof e->name, "%s", corpus_files[i]);
            entry_count++;
        } else {
            lds_mesh_model_destroy(e->model);
            e->model = NULL;
        }
    }
    LDS_CHECK_INT(entry_count, ==, sizeof corpus_files / sizeof *corpus_files);
    size_t corpus_count = entry_count;
    printf("fingerprint of homer.off: %s (%zu characters)\n", entries[0].shape, strlen(entries[0].shape));

    /* 1. the homer remeshes match homer.off */
    for (size_t i = 0; i < sizeof homer_remeshes / sizeof *homer_remeshes; i++) {
        char rel[256], fp[LDS_MESH_SHAPE_FP_MAX];
        snprintf(rel, sizeof rel, "corpus/remeshed/homer/%s", homer_remeshes[i]);
        lds_test_shared(rel, path, sizeof path);
        lds_mesh_model *m = load(path);
        LDS_CHECK(m != NULL);
        if (m && fingerprint(m, fp)) {
            int match;
            double s = compare(entries[0].shape, fp, &match);
            printf("homer.off vs %-30s similarity %.3f match %d\n", homer_remeshes[i], s, match);
            LDS_CHECK(match);
        }
        lds_mesh_model_destroy(m);
    }

    /* 2. near copies of the corpus models */
    int near_total = 0, near_matched = 0, near_failed_to_make = 0;
    for (size_t i = 0; i < corpus_count; i++)
        for (int kind = 0; kind < NEAR_KINDS; kind++) {
            lds_mesh_model *copy = near_copy(entries[i].model, kind, dir);
            char fp[LDS_MESH_SHAPE_FP_MAX];
            if (copy == NULL) {
                printf("%-36s %-14s could not be made\n", entries[i].name, near_names[kind]);
                near_failed_to_make++;
                continue;
            }
            if (fingerprint(copy, fp)) {
                int match;
                double s = compare(entries[i].shape, fp, &match);
                printf("%-36s %-14s %7zu -> %7zu triangles  similarity %.3f match %d\n", entries[i].name,
                       near_names[kind], lds_mesh_triangle_count(entries[i].model), lds_mesh_triangle_count(copy), s,
                       match);
                near_total++;
                near_matched += match;
            }
            lds_mesh_model_destroy(copy);
        }
    printf("near copies: %d of %d match (%.1f%%)\n", near_matched, near_total,
           near_total ? 100.0 * near_matched / near_total : 0.0);
    LDS_CHECK_INT(near_failed_to_make, ==, 0);
    LDS_CHECK_INT(near_matched * 100, >=, near_total * 95);

    /* 3. distinct objects never match */
    for (size_t i = 0; i < sizeof assimp_files / sizeof *assimp_files; i++) {
        snprintf(path, sizeof path, "%s/%s", LDS_ASSIMP_MODELS, assimp_files[i]);
        lds_mesh_model *m = load(path);
        if (m == NULL)
            continue; /* reported by load(); the importer's own tests judge it */
        entry *e = &entries[entry_count];
        if (lds_mesh_triangle_count(m) >= 300 && fingerprint(m, e->shape)) {
            snprintf(e->name, sizeof e->name, "%s", assimp_files[i]);
            entry_count++;
        }
        lds_mesh_model_destroy(m);
    }
    printf("distinct objects: %zu\n", entry_count);
    LDS_CHECK_INT(entry_count, >=, corpus_count + 20);
    int false_matches = 0;
    double closest = 0;
    for (size_t i = 0; i < entry_count; i++)
        for (size_t j = i + 1; j < entry_count; j++) {
            int match;
            double s = compare(entries[i].shape, entries[j].shape, &match);
            if (s > closest)
                closest = s;
            if (match) {
                printf("FALSE MATCH %s %s similarity %.3f\n", entries[i].name, entries[j].name, s);
                false_matches++;
            }
        }
    printf("distinct pairs: %zu, false matches %d, highest similarity %.3f\n", entry_count * (entry_count - 1) / 2,
           false_matches, closest);
    LDS_CHECK_INT(false_matches, ==, 0);

    /* 4. the shape index: recall on the homer family, few candidates per query */
    lds_error err = {0};
    lds_mesh_shape_index *index = lds_mesh_shape_index_create();
    for (size_t i = 0; i < entry_count; i++)
        LDS_CHECK_OK(lds_mesh_shape_index_add(index, entries[i].name, entries[i].shape, &err), &err);
    size_t total_candidates = 0;
    for (size_t i = 0; i < sizeof homer_remeshes / sizeof *homer_remeshes; i++) {
        char rel[256], fp[LDS_MESH_SHAPE_FP_MAX];
        snprintf(rel, sizeof rel, "corpus/remeshed/homer/%s", homer_remeshes[i]);
        lds_test_shared(rel, path, sizeof path);
        lds_mesh_model *m = load(path);
        if (m && fingerprint(m, fp)) {
            lds_mesh_shape_hit hits[4];
            size_t hit_count = 0, candidates = 0;
            LDS_CHECK_OK(lds_mesh_shape_index_query(index, fp, hits, 4, &hit_count, &candidates, &err), &err);
            LDS_CHECK(hit_count >= 1 && strcmp(hits[0].id, corpus_files[0]) == 0 && hits[0].match);
            total_candidates += candidates;
        }
        lds_mesh_model_destroy(m);
    }
    size_t shared_pairs = 0;
    for (size_t i = 0; i < entry_count; i++) {
        lds_mesh_shape_hit hits[64];
        size_t hit_count = 0, candidates = 0;
        LDS_CHECK_OK(lds_mesh_shape_index_query(index, entries[i].shape, hits, 64, &hit_count, &candidates, &err), &err);
        shared_pairs += candidates - 1; /* itself */
        for (size_t h = 0; h < hit_count; h++)
            LDS_CHECK(!hits[h].match || strcmp(hits[h].id, entries[i].name) == 0);
    }
    printf("index: %zu entries; homer queries compared %.1f entries on average; distinct objects sharing a "
           "probe bucket: %.1f%% of pairs\n",
           entry_count, (double)total_candidates / 6, 100.0 * shared_pairs / (entry_count * (entry_count - 1)));
    LDS_CHECK_INT(shared_pairs * 4, <, entry_count * (entry_count - 1)); /* well under a quarter */
    lds_mesh_shape_index_destroy(index);

    for (size_t i = 0; i < entry_count; i++)
        lds_mesh_model_destroy(entries[i].model);
    free(entries);
    return lds_test_result();
}
