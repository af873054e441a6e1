/* import_internal.h: what the importers in mesh/import*.c share. Not part of mesh.h's API. */
#ifndef LDS_IMPORT_INTERNAL_H
#define LDS_IMPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mesh.h"

/* One import: the name for messages, where sidecars come from, and the limits in force. */
typedef struct lds_import_ctx {
    const char *name;              /* file name used in every message */
    const lds_mesh_reader *reader; /* sidecars; NULL when there are none */
    uint64_t max_triangles, max_vertices;
} lds_import_ctx;

/* Each reader fills an empty model (created by the caller, destroyed by the caller on failure).
 * They never open files: sidecars come through ctx->reader only. import.c adds a default material
 * when a reader made none and validates the result. */
lds_status lds_import_ply(const lds_import_ctx *ctx, const unsigned char *data, size_t size, lds_mesh_model *model,
                          lds_error *err);
lds_status lds_import_stl(const lds_import_ctx *ctx, const unsigned char *data, size_t size, lds_mesh_model *model,
                          lds_error *err);
lds_status lds_import_obj(const lds_import_ctx *ctx, const unsigned char *data, size_t size, lds_mesh_model *model,
                          lds_error *err);
/* glTF 2.0, .glb or .gltf (import_gltf.c). */
lds_status lds_import_gltf(const lds_import_ctx *ctx, const unsigned char *data, size_t size, lds_mesh_model *model,
                           lds_error *err);
lds_status lds_import_assimp(const lds_import_ctx *ctx, const unsigned char *data, size_t size,
                             lds_mesh_model *model, lds_error *err);

/* For tests only: Assimp's own reading of path (its default file IO, aiProcess_Triangulate, no
 * skeleton meshes), the reference the import test compares against. Counts over the scene's meshes, not instances. */
lds_status lds_import_assimp_reference(const char *path, uint64_t *triangles, uint64_t *vertices);

/* Checks counts against ctx's limits; the message names the file. */
lds_status lds_import_check_limits(const lds_import_ctx *ctx, uint64_t vertices, uint64_t triangles, lds_error *err);

/* Appends a material (name copied, may be NULL) with lds_mesh_material_init's defaults except
 * metallic 0 (formats without PBR describe dielectrics); *index receives its index. */
lds_status lds_import_add_material(lds_mesh_model *model, const char *name, size_t *index);

/* Finds or loads the texture `name` (as written in the model) through ctx->reader: tries the name,
 * then its last path component. A missing file is kept as an entry with data NULL and a warning on
 * the model; *index receives the texture's index. Only out-of-memory fails. */
lds_status lds_import_texture_file(const lds_import_ctx *ctx, lds_mesh_model *model, const char *name, int *index);
/* Adds a texture from bytes in memory (copied), e.g. one embedded in a GLB. */
lds_status lds_import_texture_bytes(lds_mesh_model *model, const char *name, const unsigned char *data, size_t size,
                                    int *index);

/* Image header sniffing (image_info.c): fills mime ("image/png", "image/jpeg", or "" when
 * unknown) and width/height (0 when unknown). Reads only within [data, data+size). */
void lds_image_info(const unsigned char *data, size_t size, char mime[32], int *width, int *height);

/* Text parsing helpers for ASCII formats (OBJ, ASCII PLY, ASCII STL). A cursor never reads past
 * end; no input needs a NUL terminator. */
typedef struct lds_text {
    const char *p, *end;
    uint64_t line; /* 1-based line of p, for messages */
} lds_text;

/* Skips spaces and tabs (not newlines). */
static inline void lds_text_skip_blank(lds_text *t)
{
    while (t->p < t->end && (*t->p == ' ' || *t->p == '\t' || *t->p == '\r' || *t->p == '\f' || *t->p == '\v'))
        t->p++;
}
/* Skips to the character after the next '\n' (or end). */
void lds_text_next_line(lds_text *t);
/* Parses a float after optional blanks; returns 0 on success, -1 when no number is there. */
int lds_text_float(lds_text *t, float *out);
int lds_text_double(lds_text *t, double *out);
/* Parses a signed integer after optional blanks; 0 on success, -1 when none (or overflow). */
int lds_text_int(lds_text *t, int64_t *out);
/* Reads the next token (non-blank run) after optional blanks, without crossing a newline. */
int lds_text_token(lds_text *t, const char **start, size_t *len);
/* Token equals the NUL-terminated word. */
static inline int lds_text_token_is(const char *start, size_t len, const char *word)
{
    size_t i = 0;
    for (; i < len; i++)
        if (word[i] == '\0' || word[i] != start[i])
            return 0;
    return word[i] == '\0';
}

#endif
