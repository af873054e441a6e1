/*
 * mesh.h: lodestone's in-memory model and everything done to it: import, cleanup and quality
 * report, geometry fingerprints, the LOD chain, and GLB writing (plain, Draco, meshopt).
 *
 * mesh/ knows nothing of Redis, HTTP or certificates. Functions are thread-safe on distinct
 * objects; a model is not locked, so do not mutate one from two threads.
 */
#ifndef LDS_MESH_H
#define LDS_MESH_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------------
 * The model: one flat vertex buffer, one index buffer (triangle lists), submeshes as ranges.
 * Every submesh owns a contiguous vertex range [vertex_offset, vertex_offset + vertex_count) and a
 * contiguous index range; its indices are absolute (index into the whole vertex buffer) and stay
 * inside its own vertex range. A submesh with index_count 0 and vertex_count > 0 is a point cloud.
 * All positions are in world space (node transforms applied at import; skinned glTF primitives
 * stay in their bind pose), also in a model that keeps its glTF scene (below).
 * --------------------------------------------------------------------------------------------- */

typedef struct lds_mesh_texture {
    char *name;          /* the name the model refers to, e.g. "spot_texture.png" (owned) */
    char mime[32];       /* "image/png", "image/jpeg", "image/webp"; "" when unknown */
    unsigned char *data; /* encoded image bytes (owned), NULL when the file is missing */
    size_t size;
    int width, height;   /* from the image header; 0 when unknown */
} lds_mesh_texture;

/* The material model is glTF 2.0 metallic-roughness PBR (glTF 2.0 spec section 3.9), which every
 * importer fills as far as its format says, and every GLB writer writes whole. */

/* Texture slots of a material, in the order glTF lists them. */
typedef enum lds_mesh_map {
    LDS_MESH_MAP_BASE_COLOR = 0,         /* pbrMetallicRoughness.baseColorTexture (sRGB) */
    LDS_MESH_MAP_METALLIC_ROUGHNESS = 1, /* pbrMetallicRoughness.metallicRoughnessTexture (B metal, G rough) */
    LDS_MESH_MAP_NORMAL = 2,             /* normalTexture (tangent space), with scale */
    LDS_MESH_MAP_OCCLUSION = 3,          /* occlusionTexture (R), with strength */
    LDS_MESH_MAP_EMISSIVE = 4,           /* emissiveTexture (sRGB) */
    LDS_MESH_MAP_COUNT = 5
} lds_mesh_map;

/* A glTF sampler. Every field is the glTF enum value, or 0 for "not given" (the loader's default:
 * filters up to the loader, wrap REPEAT). */
typedef struct lds_mesh_sampler {
    int mag_filter; /* 9728 NEAREST, 9729 LINEAR */
    int min_filter; /* 9728, 9729, 9984..9987 (mipmap variants) */
    int wrap_s;     /* 33071 CLAMP_TO_EDGE, 33648 MIRRORED_REPEAT, 10497 REPEAT */
    int wrap_t;
} lds_mesh_sampler;

/* KHR_texture_transform on one texture reference: uv' = T(offset) * R(rotation) * S(scale) * uv. */
typedef struct lds_mesh_texture_transform {
    int present;      /* 0: no transform (the other fields are ignored) */
    float offset[2];  /* default 0,0 */
    float rotation;   /* radians, counter-clockwise, default 0 */
    float scale[2];   /* default 1,1 */
    int tex_coord;    /* the transform's texCoord override, -1 for none */
} lds_mesh_texture_transform;

/* One texture slot of a material (a glTF textureInfo with its texture's sampler). */
typedef struct lds_mesh_texture_ref {
    int texture;   /* index into model->textures, -1 for none (then the rest is ignored) */
    int tex_coord; /* which UV set: 0 (model->uvs) or 1 (model->uvs1) */
    float scale;   /* normalTexture.scale, occlusionTexture.strength; 1 otherwise */
    lds_mesh_sampler sampler;
    lds_mesh_texture_transform transform;
} lds_mesh_texture_ref;

typedef enum lds_mesh_alpha_mode {
    LDS_MESH_ALPHA_OPAQUE = 0,
    LDS_MESH_ALPHA_MASK = 1,
    LDS_MESH_ALPHA_BLEND = 2
} lds_mesh_alpha_mode;

/* Use lds_mesh_material_init (glTF defaults) before filling one: a zeroed material is not valid
 * (its texture slots would all point at texture 0). */
typedef struct lds_mesh_material {
    char *name;              /* owned, may be NULL */
    float base_color[4];     /* linear RGBA factor, default 1,1,1,1 */
    float metallic;          /* default 1 (glTF); importers of formats without PBR write 0 */
    float roughness;         /* default 1 */
    float emissive[3];       /* linear RGB factor, default 0,0,0 */
    float emissive_strength; /* KHR_materials_emissive_strength, default 1 (then not written) */
    lds_mesh_alpha_mode alpha_mode;
    float alpha_cutoff;      /* MASK only, default 0.5 */
    int double_sided;
    lds_mesh_texture_ref maps[LDS_MESH_MAP_COUNT];
    /* The material's other glTF extensions (clearcoat, sheen, transmission, volume, ior, specular,
     * iridescence, anisotropy, pbrSpecularGlossiness, ...) as the JSON text of an object
     * {"KHR_materials_clearcoat": {...}, ...}, carried through unchanged except that every
     * textureInfo in it (a member named "...Texture" holding {"index": N, ...}, the glTF naming
     * rule) names model->textures[N] (the readers remap glTF texture indices to model textures;
     * the writers map them back, with the default sampler). Owned, NULL for none. */
    char *extensions;
} lds_mesh_material;
/* Sets m to the glTF defaults: no name, factors 1, metallic 1, roughness 1, no emission, OPAQUE,
 * cutoff 0.5, single-sided, every slot empty (texture -1, scale 1), no extensions. */
void lds_mesh_material_init(lds_mesh_material *m);
/* Frees what m owns (name, extensions); m itself is not freed. Accepts NULL. */
void lds_mesh_material_cleanup(lds_mesh_material *m);
/* Deep copy of src into dst (dst's previous content is not freed). LDS_ENOMEM leaves dst
 * owning nothing. */
lds_status lds_mesh_material_copy(lds_mesh_material *dst, const lds_mesh_material *src);
/* The texture a slot uses, -1 for none (shorthand for m->maps[map].texture). */
static inline int lds_mesh_material_texture(const lds_mesh_material *m, lds_mesh_map map)
{
    return m->maps[map].texture;
}

typedef struct lds_mesh_submesh {
    uint32_t vertex_offset, vertex_count;
    uint32_t index_offset, index_count; /* index_count is a multiple of 3 */
    uint32_t material;                  /* index into model->materials */
    uint32_t primitive;                 /* with model->scene: its "primitives" entry (glTF mesh and
                                         * primitive extensions); 0 otherwise */
} lds_mesh_submesh;

typedef struct lds_mesh_model {
    size_t vertex_count;
    float *positions; /* 3 per vertex, never NULL when vertex_count > 0 */
    float *normals;   /* 3 per vertex, or NULL */
    float *uvs;       /* 2 per vertex (first UV set, glTF convention: v down), or NULL */
    float *colors;    /* 4 per vertex RGBA in 0..1, or NULL */
    float *uvs1;      /* 2 per vertex, the second UV set (glTF TEXCOORD_1), or NULL */
    float *tangents;  /* 4 per vertex (xyz unit, w = +-1 bitangent sign; glTF TANGENT), or NULL */
    float *joints;    /* 4 per vertex, joint indices as exact integers 0..65535 (JOINTS_0), or NULL */
    float *weights;   /* 4 per vertex, skin weights (WEIGHTS_0), or NULL; set with joints */
    size_t index_count;
    uint32_t *indices;
    size_t submesh_count;
    lds_mesh_submesh *submeshes;
    size_t material_count; /* at least 1 when submesh_count > 0 */
    lds_mesh_material *materials;
    size_t texture_count;
    lds_mesh_texture *textures;
    char **warnings;       /* import warnings (missing texture, ...), owned */
    size_t warning_count;
    /* The glTF scene that a skinned, animated, lit, instanced or variant-mapped glTF input keeps
     * (gltf_scene.c; glb_scene.c writes it back in every encoding), as JSON text, owned, NULL for
     * a flattened model:
     *   {"roots": [node...], "nodes": [...], "meshes": [{"name"}...], "primitives": [{"node": N,
     *    "mesh": M, "matrix": [16], "extensions": {...}}...], "skins": [...], "animations": [...],
     *    "cameras": [...], "extensions": {KHR_lights_punctual, KHR_materials_variants}}
     * in glTF's own form, except that every accessor reference (inverseBindMatrices, sampler
     * input/output, EXT_mesh_gpu_instancing attributes) is the accessor's data itself:
     * {"type": "MAT4", "data": [floats...]}. A submesh names its "primitives" entry: the node that
     * draws it, the glTF mesh it came from, the world matrix baked into its vertices (absent for
     * skinned or untransformed ones; the writer takes it back out) and its variant mappings.
     * Nodes keep their input indices. */
    char *scene;
} lds_mesh_model;

/* Allocates an empty model (all zero). Returns NULL on out of memory. */
lds_mesh_model *lds_mesh_model_create(void);
/* Frees the model and everything it owns. Accepts NULL. */
void lds_mesh_model_destroy(lds_mesh_model *model);
/* Allocates attribute arrays for vertex_count vertices / index_count indices (zeroed).
 * with_* choose the optional attributes. Replaces existing arrays (all of them: uvs1, tangents,
 * joints and weights become NULL; lds_mesh_model_alloc_attribute adds them). */
lds_status lds_mesh_model_alloc(lds_mesh_model *model, size_t vertex_count, size_t index_count,
                                int with_normals, int with_uvs, int with_colors);
/* Optional vertex attributes beyond positions, for code that treats them alike (clean, LOD,
 * sandbox wire, clone): each is an array of `width` floats per vertex at `offset` in the model. */
typedef struct lds_mesh_attribute {
    const char *name; /* glTF attribute name, e.g. "TEXCOORD_1" */
    size_t offset;    /* offsetof(lds_mesh_model, <array>) */
    unsigned width;   /* floats per vertex */
} lds_mesh_attribute;
enum {
    LDS_MESH_ATTR_NORMALS, LDS_MESH_ATTR_UVS, LDS_MESH_ATTR_COLORS, LDS_MESH_ATTR_UVS1,
    LDS_MESH_ATTR_TANGENTS, LDS_MESH_ATTR_JOINTS, LDS_MESH_ATTR_WEIGHTS, LDS_MESH_ATTRIBUTE_COUNT
};
/* Indexed by the LDS_MESH_ATTR_* values. */
extern const lds_mesh_attribute lds_mesh_attributes[LDS_MESH_ATTRIBUTE_COUNT];
/* The array of attribute a (an index into lds_mesh_attributes) in model, NULL when absent. */
static inline float *lds_mesh_attribute_data(const lds_mesh_model *model, unsigned a)
{
    return *(float *const *)(const void *)((const char *)model + lds_mesh_attributes[a].offset);
}
static inline float **lds_mesh_attribute_slot(lds_mesh_model *model, unsigned a)
{
    return (float **)(void *)((char *)model + lds_mesh_attributes[a].offset);
}
/* Allocates (zeroed) the optional attribute a for the model's vertex_count vertices, replacing an
 * existing array. */
lds_status lds_mesh_model_alloc_attribute(lds_mesh_model *model, unsigned a);
/* Deep copy; NULL on out of memory. */
lds_mesh_model *lds_mesh_model_clone(const lds_mesh_model *model);
/* Adds a warning (copied). */
lds_status lds_mesh_model_warn(lds_mesh_model *model, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Triangle count (index_count / 3). */
size_t lds_mesh_triangle_count(const lds_mesh_model *model);
/* Checks the invariants above plus finite positions/normals/uvs/colors and index ranges.
 * name is used in the message: "bust.ply: index 1042 is vertex 99812 of 4000". */
lds_status lds_mesh_model_validate(const lds_mesh_model *model, const char *name, lds_error *err);

/* ------------------------------------------------------------------------------------------------
 * Import
 * --------------------------------------------------------------------------------------------- */

/* Where the importer gets sidecar files (.mtl, .bin, textures) that the model refers to.
 * read() returns 0 and a malloc'd buffer the caller frees, or -1 when the file is missing or
 * refused. Names are as written in the model; the reader decides what they map to. */
typedef struct lds_mesh_reader {
    void *ctx;
    int (*read)(void *ctx, const char *name, unsigned char **data, size_t *size);
} lds_mesh_reader;

/* A reader confined to one directory: refuses absolute names and "..", follows no symlink out. */
typedef struct lds_mesh_dir_reader {
    char dir[4096];
    size_t max_bytes; /* per file */
} lds_mesh_dir_reader;
void lds_mesh_dir_reader_init(lds_mesh_dir_reader *dr, const char *dir, size_t max_bytes);
lds_mesh_reader lds_mesh_dir_reader_get(lds_mesh_dir_reader *dr);

typedef struct lds_mesh_limits {
    uint64_t max_triangles; /* 0: default 100M */
    uint64_t max_vertices;  /* 0: default 100M */
} lds_mesh_limits;

/* Imports a model from memory. name is the file name (its extension picks the format; it is also
 * the name used in errors). sidecars may be NULL. Fast native readers handle binary/ASCII PLY
 * (including tristrips), STL, OBJ and GLB/glTF where they can; everything else goes through
 * Assimp (all formats Assimp reads). On success *out is a validated model the caller destroys. */
lds_status lds_mesh_import(const char *name, const unsigned char *data, size_t size, const lds_mesh_reader *sidecars,
                           const lds_mesh_limits *limits, lds_mesh_model **out, lds_error *err);
/* Runs the importers' lazy initialisations that open files (jansson's hash seed reads
 * /dev/urandom), so that imports can then run where opening files is forbidden (the sandbox calls
 * it before its seccomp filter). Idempotent, thread-safe once it has run. */
void lds_mesh_import_prepare(void);
/* Convenience: reads path (capped at max_bytes, 0 = 2 GiB) and imports with a dir reader on its
 * directory. */
lds_status lds_mesh_import_file(const char *path, size_t max_bytes, const lds_mesh_limits *limits,
                                lds_mesh_model **out, lds_error *err);

/* ------------------------------------------------------------------------------------------------
 * Cleanup and report (DESIGN.md 6.2 "report")
 * --------------------------------------------------------------------------------------------- */

typedef struct lds_mesh_issue {
    char code[32];     /* "non_manifold", "missing_texture", "possible_duplicate", ... */
    char severity[16]; /* "info", "warning", "error" */
    char *message;     /* owned */
} lds_mesh_issue;

typedef struct lds_mesh_report {
    uint64_t triangles, vertices, points, meshes, materials;
    float bbox_min[3], bbox_max[3];
    double diagonal, surface_area;
    double volume; int has_volume; /* volume only for closed (watertight) meshes */
    uint64_t components, boundary_edges, non_manifold_edges;
    uint64_t degenerate_triangles, duplicate_triangles; /* found in the input (before cleanup) */
    int has_normals, has_uvs, has_colors;
    size_t texture_count;
    struct { char *name; int width, height; size_t bytes; int missing; } *textures;
    size_t issue_count;
    lds_mesh_issue *issues;
} lds_mesh_report;

/* Welds bit-identical vertices (all attributes equal) within each submesh, drops degenerate
 * triangles (repeated index or zero area) and exact duplicate triangles, removes unused vertices.
 * Counts what it dropped into report (which may be NULL). In place. */
lds_status lds_mesh_clean(lds_mesh_model *model, lds_mesh_report *report, lds_error *err);
/* Generates vertex normals for a model that has none (model->normals NULL): each corner gets the
 * area-weighted normal of the faces around its position that lie within crease_degrees of its own
 * face, so the surface is smooth across gentle bends and split at sharper edges; vertices whose
 * corners disagree are split (*added: how many vertices that made). In place; point clouds and
 * models with point submeshes are left as they are. */
#define LDS_MESH_CREASE_DEGREES 45.0
lds_status lds_mesh_generate_normals(lds_mesh_model *model, double crease_degrees, size_t *added, lds_error *err);
/* Fills the rest of the report from the cleaned model (counts, bbox, area, volume, edges,
 * components, attributes, textures, issues incl. the model's import warnings). */
lds_status lds_mesh_report_compute(const lds_mesh_model *model, lds_mesh_report *report, lds_error *err);
/* Appends an issue (message copied). */
lds_status lds_mesh_report_add_issue(lds_mesh_report *report, const char *code, const char *severity,
                                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Frees what the report owns and zeroes it. Accepts NULL. */
void lds_mesh_report_cleanup(lds_mesh_report *report);

/* ------------------------------------------------------------------------------------------------
 * Fingerprints (DESIGN.md 6.3)
 * --------------------------------------------------------------------------------------------- */

#define LDS_MESH_GEOMETRY_FP_MAX 80
/* "lds-geom-1:<64 hex>" of the triangulated world-space geometry; see fingerprint.c. For point
 * clouds, the sorted set of points. */
lds_status lds_mesh_fingerprint_geometry(const lds_mesh_model *model, char out[LDS_MESH_GEOMETRY_FP_MAX],
                                         lds_error *err);

#define LDS_MESH_SHAPE_FP_MAX 512
/* "lds-shape-1:<text>": a robust shape descriptor (see shape.c). */
lds_status lds_mesh_fingerprint_shape(const lds_mesh_model *model, char out[LDS_MESH_SHAPE_FP_MAX], lds_error *err);
/* Similarity in 0..1 of two shape fingerprints; *match is the calibrated verdict. */
lds_status lds_mesh_shape_compare(const char *a, const char *b, double *similarity, int *match, lds_error *err);

/* Shape index (see shape_index.c): locality-sensitive bucket keys so that a store (a Redis set
 * per key, or the in-memory index below) finds an asset's matching shapes without a full scan. */
#define LDS_MESH_SHAPE_KEY_MAX 48    /* one key, with its NUL */
#define LDS_MESH_SHAPE_TABLES 1      /* keys a fingerprint is stored under */
#define LDS_MESH_SHAPE_PROBES_MAX 32 /* keys a query looks up */
/* probe = 0: the LDS_MESH_SHAPE_TABLES keys to store the fingerprint under; probe = 1: the keys
 * to look up, whose union holds every stored fingerprint that matches (exact recall for
 * lds_mesh_shape_compare's match). keys must hold LDS_MESH_SHAPE_PROBES_MAX entries. */
lds_status lds_mesh_shape_bucket_keys(const char *fingerprint, int probe, char keys[][LDS_MESH_SHAPE_KEY_MAX],
                                      size_t *count, lds_error *err);

typedef struct lds_mesh_shape_index lds_mesh_shape_index;
typedef struct lds_mesh_shape_hit {
    const char *id;    /* points into the index, valid until it is destroyed */
    double similarity; /* as lds_mesh_shape_compare */
    int match;
} lds_mesh_shape_hit;
/* An in-memory index (tests, CLI). Not thread-safe for writes. NULL on out of memory. */
lds_mesh_shape_index *lds_mesh_shape_index_create(void);
void lds_mesh_shape_index_destroy(lds_mesh_shape_index *index);
size_t lds_mesh_shape_index_size(const lds_mesh_shape_index *index);
/* Adds an entry (id copied). */
lds_status lds_mesh_shape_index_add(lds_mesh_shape_index *index, const char *id, const char *fingerprint,
                                    lds_error *err);
/* The entries sharing a probe bucket with fingerprint, most similar first, at most max_hits into
 * hits; *candidates (may be NULL) receives how many entries were compared. */
lds_status lds_mesh_shape_index_query(const lds_mesh_shape_index *index, const char *fingerprint,
                                      lds_mesh_shape_hit *hits, size_t max_hits, size_t *hit_count,
                                      size_t *candidates, lds_error *err);

/* ------------------------------------------------------------------------------------------------
 * LOD chain
 * --------------------------------------------------------------------------------------------- */

/* Optimises in place for vertex cache then vertex fetch (meshoptimizer); keeps submesh ranges. */
lds_status lds_mesh_optimize(lds_mesh_model *model, lds_error *err);

/* Whether sloppy clustering (meshopt_simplifySloppy) may finish a simplification that the precise
 * simplifier cannot take to its target. */
typedef enum lds_mesh_sloppy {
    LDS_MESH_SLOPPY_AUTO = 0,  /* only on a bare surface: no UVs, normals, colours or textures, one material */
    LDS_MESH_SLOPPY_NEVER = 1,
    LDS_MESH_SLOPPY_ALLOW = 2, /* also where it smears attributes (an explicit choice) */
} lds_mesh_sloppy;
/* 1 when the sloppy fallback may run on model under that setting. */
int lds_mesh_sloppy_allowed(const lds_mesh_model *model, lds_mesh_sloppy sloppy);

typedef struct lds_mesh_simplify_options {
    double target_error;   /* stop collapsing past this error (meshopt's estimate), relative to src's bbox
                            * diagonal; 0: no bound */
    lds_mesh_sloppy sloppy;
} lds_mesh_simplify_options;

/* Simplifies src to about target_triangles (meshopt_simplify keeping UV seams and material
 * boundaries; meshopt_simplifyPoints for point clouds, where the target counts points). When the
 * precise simplifier stops short of the target, meshopt_simplifySloppy finishes the job only where
 * options->sloppy allows it (lds_mesh_sloppy_allowed); otherwise the result keeps more triangles
 * than asked. *error receives the deviation of the result from src relative to src's bbox diagonal
 * (lds_mesh_deviation's max); error may be NULL to skip that measurement. *out is a new optimised
 * model sharing no memory with src; a model too small to be simplified to the target without
 * vanishing comes back whole. */
lds_status lds_mesh_simplify_with(const lds_mesh_model *src, size_t target_triangles,
                                  const lds_mesh_simplify_options *options, lds_mesh_model **out, double *error,
                                  lds_error *err);
/* lds_mesh_simplify_with without an error bound, sloppy clustering on LDS_MESH_SLOPPY_AUTO. */
lds_status lds_mesh_simplify(const lds_mesh_model *src, size_t target_triangles, lds_mesh_model **out,
                             double *error, lds_error *err);

/* The LOD chain's policy (lod_chain.c): each level is simplified from the previous one toward its
 * target and kept only when it is worth a download and faithful enough; otherwise the chain ends
 * there, with the reason stated (as gltfpack stops rather than break a level).
 *   - error: one meaning everywhere (manifest, budget, screen coverage): the deviation of the level
 *     from LOD0 (lds_mesh_deviation_measure's max), relative to LOD0's bbox diagonal;
 *   - budget: a level whose error exceeds max_error ends the chain (triangle meshes; a point
 *     cloud's error is its sampling gap and is only reported);
 *   - worth: a level must have at most (1 - min_reduction) of the previous level's triangles;
 *   - screen coverage: the largest share of the viewport's height that the model's diagonal may
 *     cover while the level's error stays under one pixel: 1 / (error * viewport_height), at most 1
 *     and at most the previous level's (LOD0: 1). */
#define LDS_MESH_CHAIN_MAX_ERROR 0.05 /* default budget: 5% of the diagonal, one pixel when the model spans 20 px */
#define LDS_MESH_CHAIN_MIN_REDUCTION 0.2
#define LDS_MESH_CHAIN_VIEWPORT 1080

typedef struct lds_mesh_chain_options {
    double max_error;     /* 0: LDS_MESH_CHAIN_MAX_ERROR */
    double min_reduction; /* 0: LDS_MESH_CHAIN_MIN_REDUCTION */
    int viewport_height;  /* pixels; 0: LDS_MESH_CHAIN_VIEWPORT */
    lds_mesh_sloppy sloppy;
} lds_mesh_chain_options;

typedef struct lds_mesh_chain_level {
    double error;           /* deviation from LOD0, relative to its diagonal */
    double screen_coverage; /* see above */
    double simplify_ms, measure_ms;
} lds_mesh_chain_level;

typedef struct lds_mesh_chain lds_mesh_chain;
/* A chain below lod0, which must outlive it and not change. options may be NULL (defaults). */
lds_status lds_mesh_chain_create(const lds_mesh_model *lod0, const lds_mesh_chain_options *options,
                                 lds_mesh_chain **out, lds_error *err);
/* Accepts NULL. */
void lds_mesh_chain_destroy(lds_mesh_chain *chain);
/* The next level: previous (LOD0 or the last level this returned) simplified toward target
 * triangles (points for a point cloud). On success *out is the new level (the caller destroys it)
 * and *level describes it, or *out is NULL when the chain ends there; lds_mesh_chain_end_reason
 * then says why. Fails only on out of memory or bad input. One call at a time per chain. */
lds_status lds_mesh_chain_next(lds_mesh_chain *chain, const lds_mesh_model *previous, size_t target,
                               lds_mesh_model **out, lds_mesh_chain_level *level, lds_error *err);
/* Why the chain ended ("" while it goes on). Valid until the chain is destroyed. */
const char *lds_mesh_chain_end_reason(const lds_mesh_chain *chain);
/* The options in force (defaults filled in). */
const lds_mesh_chain_options *lds_mesh_chain_get_options(const lds_mesh_chain *chain);

/* Measures the deviation between two surfaces: the symmetric Hausdorff distance estimated from
 * area-uniform samples on each (at most 100k a side, fixed seed: the same pair gives the same
 * figures) and exact point-to-triangle distances, relative to a's bbox diagonal. *max_error gets the
 * largest sampled distance, *mean_error (may be NULL) the mean over all samples. When either model
 * has no triangles, the vertices of both are compared as point sets. About 0.1-0.2 s for a pair of
 * million-triangle models. Reads both models only. */
lds_status lds_mesh_deviation(const lds_mesh_model *a, const lds_mesh_model *b, double *max_error,
                              double *mean_error, lds_error *err);
/* The same against one reference model measured many times (LOD0 against each level): its grid
 * and samples are built once, on first use. The reference keeps a pointer to a (which must outlive
 * it and not change); one measurement at a time per reference. */
typedef struct lds_mesh_deviation_ref lds_mesh_deviation_ref;
lds_status lds_mesh_deviation_ref_create(const lds_mesh_model *a, lds_mesh_deviation_ref **out, lds_error *err);
lds_status lds_mesh_deviation_measure(lds_mesh_deviation_ref *ref, const lds_mesh_model *b, double *max_error,
                                      double *mean_error, lds_error *err);
/* Raises (or lowers) the samples per side from the default 65536: the mean is stable at the default,
 * the max (a sampled Hausdorff distance) needs about a million to compare two close LODs. */
void lds_mesh_deviation_ref_set_samples(lds_mesh_deviation_ref *ref, size_t max_samples);
/* Accepts NULL. */
void lds_mesh_deviation_ref_destroy(lds_mesh_deviation_ref *ref);

/* ------------------------------------------------------------------------------------------------
 * Images (image.c, the one wrapper of libpng, libjpeg-turbo and libwebp). Decoded images are
 * RGBA8, rows top to bottom. Encoded input is hostile: decoders check the header's size against
 * limits before allocating anything, cap JPEG scans and memory, and a malformed or truncated file
 * is an error (LDS_EFORMAT, LDS_ETRUNC, LDS_ELIMIT), never a crash. Untrusted bytes are decoded
 * in the sandbox (sandbox.h). All functions are thread-safe.
 * --------------------------------------------------------------------------------------------- */

typedef enum lds_mesh_image_format {
    LDS_MESH_IMAGE_UNKNOWN = 0,
    LDS_MESH_IMAGE_PNG = 1,
    LDS_MESH_IMAGE_JPEG = 2,
    LDS_MESH_IMAGE_WEBP = 3,
} lds_mesh_image_format;

typedef struct lds_mesh_image {
    int width, height;
    unsigned char *rgba; /* width * height * 4 bytes (owned; lds_mesh_image_cleanup frees it) */
} lds_mesh_image;

typedef struct lds_mesh_image_limits {
    uint32_t max_width, max_height; /* 0: default 16384 */
    uint64_t max_pixels;            /* 0: default 8192 * 8192 (256 MiB of RGBA) */
} lds_mesh_image_limits;

/* The format from the file's signature (PNG, JPEG SOI, RIFF....WEBP); UNKNOWN otherwise. */
lds_mesh_image_format lds_mesh_image_sniff(const unsigned char *data, size_t size);
/* "image/png", "image/jpeg", "image/webp", or "" for UNKNOWN. Static strings. */
const char *lds_mesh_image_mime(lds_mesh_image_format format);
/* The inverse of lds_mesh_image_mime; UNKNOWN for anything else (including NULL). */
lds_mesh_image_format lds_mesh_image_format_from_mime(const char *mime);

/* Decodes PNG, JPEG (incl. greyscale and CMYK) or WebP (still images) into *out, which the
 * caller frees with lds_mesh_image_cleanup (left zeroed on failure). name is used in messages.
 * limits may be NULL (defaults). Reads only [data, data + size). */
lds_status lds_mesh_image_decode(const char *name, const unsigned char *data, size_t size,
                                 const lds_mesh_image_limits *limits, lds_mesh_image *out, lds_error *err);
/* Frees the pixels and zeroes the image. Accepts NULL. */
void lds_mesh_image_cleanup(lds_mesh_image *image);
/* 1 when every alpha value is 255. */
int lds_mesh_image_is_opaque(const lds_mesh_image *image);

typedef struct lds_mesh_image_encode_options {
    int quality;     /* JPEG and lossy WebP, 1..100; 0: default (JPEG 90, WebP 85) */
    int lossless;    /* WebP: lossless encoding */
    int full_chroma; /* JPEG: 4:4:4 (for data textures) instead of 4:2:0 */
} lds_mesh_image_encode_options;

/* Encodes image as PNG (RGB, RGBA, grey or grey+alpha, whichever holds it exactly), JPEG (alpha
 * dropped) or WebP, appending the file's bytes to out (its cap applies). options may be NULL
 * (defaults). Deterministic: the same pixels give the same bytes. */
lds_status lds_mesh_image_encode(const lds_mesh_image *image, lds_mesh_image_format format,
                                 const lds_mesh_image_encode_options *options, lds_buf *out, lds_error *err);

typedef enum lds_mesh_image_space {
    LDS_MESH_IMAGE_SRGB = 0,   /* colour (base colour, emissive): filtered in linear light, alpha premultiplied */
    LDS_MESH_IMAGE_LINEAR = 1, /* data (metallic-roughness, occlusion): filtered as stored */
    LDS_MESH_IMAGE_NORMAL = 2, /* tangent-space normal map: XYZ filtered as vectors, then renormalised */
} lds_mesh_image_space;

/* Resamples src to width x height (each 1..65536) into *out (caller frees with
 * lds_mesh_image_cleanup): area-weighted (box) filtering along an axis that shrinks, linear
 * interpolation along one that grows; separable, edges clamped. */
lds_status lds_mesh_image_resize(const lds_mesh_image *src, int width, int height, lds_mesh_image_space space,
                                 lds_mesh_image *out, lds_error *err);
/* Decode, resize to width x height (never larger than the image: a larger size keeps the image's),
 * and encode as format: the whole texture-LOD step on untrusted bytes (run it in the sandbox:
 * sandbox.h lds_sandbox_run_work). Appends the encoded file to out. */
lds_status lds_mesh_image_reencode(const char *name, const unsigned char *data, size_t size,
                                   const lds_mesh_image_limits *limits, int width, int height,
                                   lds_mesh_image_space space, lds_mesh_image_format format,
                                   const lds_mesh_image_encode_options *options, lds_buf *out, lds_error *err);

/* Texture LOD sizing: a level meant for a share `coverage` (0..1] of the screen needs that share of
 * LOD0's texel density. The size is halved k times where k = floor(log2(1 / coverage)), so it
 * stays a power of two when it was one and never falls short of the density asked; never below
 * 64 px on a side (a side already under 64 stays as it is), never upscaled. */
void lds_mesh_texture_lod_size(int width, int height, double coverage, int *out_width, int *out_height);
/* The colour space a texture is filtered in, from the material slots that use it: NORMAL when a
 * normal map, SRGB for base colour and emissive, LINEAR otherwise (also when unused). */
lds_mesh_image_space lds_mesh_texture_space(const lds_mesh_model *model, size_t texture);

/* The size that fits width x height inside max_side x max_side keeping the aspect ratio, never
 * larger than the input, each side at least 1. */
void lds_mesh_image_fit(int width, int height, int max_side, int *out_width, int *out_height);

/* ------------------------------------------------------------------------------------------------
 * Encoding to GLB
 * --------------------------------------------------------------------------------------------- */

typedef enum lds_mesh_encoding {
    LDS_MESH_ENCODING_PLAIN = 0,   /* float attributes, uint32/uint16 indices */
    LDS_MESH_ENCODING_DRACO = 1,   /* KHR_draco_mesh_compression */
    LDS_MESH_ENCODING_MESHOPT = 2, /* EXT_meshopt_compression + KHR_mesh_quantization, with fallback buffer */
} lds_mesh_encoding;

typedef struct lds_mesh_quantization {
    int position_bits; /* default 14 */
    int normal_bits;   /* default 10 */
    int uv_bits;       /* default 12 */
} lds_mesh_quantization;

#define LDS_MESH_QUANTIZATION_DEFAULT {14, 10, 12}

/* Writes model as a GLB into out (appended). Output is deterministic: same input, same bytes.
 * generator goes into asset.generator. Textures are embedded as images in the binary chunk. */
lds_status lds_mesh_write_glb(const lds_mesh_model *model, lds_mesh_encoding encoding,
                              const lds_mesh_quantization *quantization, const char *generator, lds_buf *out,
                              lds_error *err);

/* ------------------------------------------------------------------------------------------------
 * Thumbnails (thumbnail.c): a CPU rasteriser (depth buffer, perspective-correct attributes,
 * base colour textures, Lambert + Blinn-Phong, supersampled), transparent background.
 * --------------------------------------------------------------------------------------------- */

#define LDS_THUMBNAIL_VIEWS 8   /* turntable views, yaw 0, 45, ... 315 degrees */
#define LDS_THUMBNAIL_PITCH 20.0f /* degrees above the horizon */
#define LDS_THUMBNAIL_SIZE 512

typedef struct lds_mesh_render_view {
    float yaw_degrees;   /* around +Y (glTF up); 0 looks from +Z towards -Z */
    float pitch_degrees; /* above the horizon */
    int width, height;   /* output pixels, 1..4096 */
    int supersample;     /* samples per pixel along each axis, 1..8; 0: 3 */
} lds_mesh_render_view;

/* Renders model framed by its bounding sphere into *out (RGBA8, straight alpha = coverage; the
 * caller frees it with lds_mesh_image_cleanup). textures: decoded images parallel to
 * model->textures (entries without pixels are drawn untextured), may be NULL. Deterministic. */
lds_status lds_mesh_render(const lds_mesh_model *model, const lds_mesh_image *textures,
                           const lds_mesh_render_view *view, lds_mesh_image *out, lds_error *err);
/* The turntable: LDS_THUMBNAIL_VIEWS renders of size x size at lds_mesh_thumbnail_yaw(i) and
 * LDS_THUMBNAIL_PITCH, each encoded as PNG and appended to pngs[i] (initialised by the caller).
 * The model's textures are decoded here (a texture that does not decode is left out). */
lds_status lds_mesh_thumbnails(const lds_mesh_model *model, int size, lds_buf pngs[LDS_THUMBNAIL_VIEWS],
                               lds_error *err);
/* The yaw of view i of the turntable, in degrees. */
float lds_mesh_thumbnail_yaw(int view);

#ifdef __cplusplus
}
#endif
#endif
