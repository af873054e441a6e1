/* import.c: the front door of model import. Picks a reader by magic bytes and extension (native
 * PLY, STL and OBJ readers for the heavy scan formats, a native glTF 2.0 reader, Assimp for
 * everything else), enforces the
 * limits, tidies attributes every reader shares (unit normals, finite UVs and colours, a default
 * material), and validates the result. Also the directory-confined sidecar reader and the text
 * scanning helpers of the ASCII readers.
 *
 * Numbers: decimal text is converted with the Clinger fast path (exact when the mantissa fits
 * 53 bits and |exponent| <= 22), falling back to strtod on a NUL-terminated copy of the token. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "import_internal.h"

#define DEFAULT_MAX_ELEMENTS 100000000ull
#define DEFAULT_MAX_FILE_BYTES ((size_t)2 << 30)
#define MAX_TEXTURES 4096

/* ---- text helpers ---------------------------------------------------------------------------- */

void lds_text_next_line(lds_text *t)
{
    const char *nl = memchr(t->p, '\n', (size_t)(t->end - t->p));
    t->p = nl ? nl + 1 : t->end;
    t->line++;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static int match_word_ci(const char *p, const char *end, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower(p[i]) != word[i])
            return 0;
    return 1;
}

int lds_text_double(lds_text *t, double *out)
{
    static const double pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    lds_text_skip_blank(t);
    const char *p = t->p, *e = t->end, *start = p;
    int negative = 0;
    if (p < e && (*p == '-' || *p == '+'))
        negative = *p++ == '-';
    uint64_t mantissa = 0;
    int digits = 0, exp10 = 0, any = 0, exact = 1;
    for (; p < e && is_digit(*p); p++, any = 1) {
        if (digits < 19) {
            mantissa = mantissa * 10 + (uint64_t)(*p - '0');
            digits += mantissa != 0;
        } else {
            exp10++;
            exact = 0;
        }
    }
    if (p < e && *p == '.') {
        for (p++; p < e && is_digit(*p); p++, any = 1) {
            if (digits < 19) {
                mantissa = mantissa * 10 + (uint64_t)(*p - '0');
                digits += mantissa != 0;
                exp10--;
            } else {
                exact = 0;
            }
        }
    }
    if (!any) {
        /* inf, infinity, nan (any case): parsed so that validation can name them */
        if (match_word_ci(p, e, "infinity") || match_word_ci(p, e, "inf")) {
            p += match_word_ci(p, e, "infinity") ? 8 : 3;
            *out = negative ? -INFINITY : INFINITY;
        } else if (match_word_ci(p, e, "nan")) {
            p += 3;
            if (p < e && *p == '(')
                while (p < e && *p != ')' && *p != '\n')
                    p++;
            if (p < e && *p == ')')
                p++;
            *out = NAN;
        } else {
            return -1;
        }
        t->p = p;
        return 0;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        const char *q = p + 1;
        int exp_negative = 0;
        if (q < e && (*q == '-' || *q == '+'))
            exp_negative = *q++ == '-';
        if (q < e && is_digit(*q)) {
            int value = 0;
            for (; q < e && is_digit(*q); q++)
                if (value < 100000)
                    value = value * 10 + (*q - '0');
            exp10 += exp_negative ? -value : value;
            p = q;
        }
    }
    t->p = p;
    double v;
    if (exact && mantissa <= (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
        v = (double)mantissa;
        v = exp10 < 0 ? v / pow10[-exp10] : v * pow10[exp10];
    } else if (mantissa == 0) {
        v = 0.0;
    } else {
        char copy[128];
        size_t n = (size_t)(p - start);
        if (n < sizeof(copy)) {
            memcpy(copy, start, n);
            copy[n] = '\0';
            v = fabs(strtod(copy, NULL));
        } else {
            v = (double)mantissa * pow(10.0, exp10);
        }
    }
    *out = negative ? -v : v;
    return 0;
}

int lds_text_float(lds_text *t, float *out)
{
    double v;
    if (lds_text_double(t, &v) != 0)
        return -1;
    *out = (float)v;
    return 0;
}

int lds_text_int(lds_text *t, int64_t *out)
{
    lds_text_skip_blank(t);
    const char *p = t->p, *e = t->end;
    int negative = 0;
    if (p < e && (*p == '-' || *p == '+'))
        negative = *p++ == '-';
    if (p >= e || !is_digit(*p))
        return -1;
    int64_t v = 0;
    for (; p < e && is_digit(*p); p++) {
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*p - '0');
    }
    t->p = p;
    *out = negative ? -v : v;
    return 0;
}

int lds_text_token(lds_text *t, const char **start, size_t *len)
{
    lds_text_skip_blank(t);
    const char *p = t->p;
    while (p < t->end && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != '\f' && *p != '\v')
        p++;
    if (p == t->p)
        return -1;
    *start = t->p;
    *len = (size_t)(p - t->p);
    t->p = p;
    return 0;
}

/* ---- shared model helpers -------------------------------------------------------------------- */

lds_status lds_import_check_limits(const lds_import_ctx *ctx, uint64_t vertices, uint64_t triangles, lds_error *err)
{
    if (vertices > ctx->max_vertices)
        return lds_error_set(err, LDS_ELIMIT, "%s: %llu vertices is over the limit of %llu", ctx->name,
                             (unsigned long long)vertices, (unsigned long long)ctx->max_vertices);
    if (triangles > ctx->max_triangles)
        return lds_error_set(err, LDS_ELIMIT, "%s: %llu triangles is over the limit of %llu", ctx->name,
                             (unsigned long long)triangles, (unsigned long long)ctx->max_triangles);
    return LDS_OK;
}

lds_status lds_import_add_material(lds_mesh_model *model, const char *name, size_t *index)
{
    lds_mesh_material *m = realloc(model->materials, (model->material_count + 1) * sizeof(*m));
    if (m == NULL)
        return LDS_ENOMEM;
    model->materials = m;
    lds_mesh_material *mat = &m[model->material_count];
    lds_mesh_material_init(mat);
    mat->metallic = 0.0f; /* formats without PBR: a dielectric, as they render elsewhere */
    if (name && (mat->name = strdup(name)) == NULL)
        return LDS_ENOMEM;
    if (index)
        *index = model->material_count;
    model->material_count++;
    return LDS_OK;
}

static lds_status add_texture(lds_mesh_model *model, const char *name, unsigned char *data, size_t size, int *index)
{
    if (model->texture_count >= MAX_TEXTURES) {
        free(data);
        return LDS_ELIMIT;
    }
    lds_mesh_texture *t = realloc(model->textures, (model->texture_count + 1) * sizeof(*t));
    if (t == NULL) {
        free(data);
        return LDS_ENOMEM;
    }
    model->textures = t;
    lds_mesh_texture *tex = &t[model->texture_count];
    memset(tex, 0, sizeof(*tex));
    tex->data = data;
    tex->size = data ? size : 0;
    if ((tex->name = strdup(name ? name : "")) == NULL) {
        free(data);
        return LDS_ENOMEM;
    }
    if (data)
        lds_image_info(data, size, tex->mime, &tex->width, &tex->height);
    *index = (int)model->texture_count++;
    if (data && tex->mime[0] == '\0')
        lds_mesh_model_warn(model, "texture %s is neither PNG nor JPEG; it cannot be carried into glTF", name);
    return LDS_OK;
}

static const char *last_component(const char *name)
{
    const char *base = name;
    for (const char *p = name; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    return base;
}

lds_status lds_import_texture_file(const lds_import_ctx *ctx, lds_mesh_model *model, const char *name, int *index)
{
    *index = -1;
    if (name == NULL || name[0] == '\0')
        return LDS_OK;
    for (size_t i = 0; i < model->texture_count; i++)
        if (strcmp(model->textures[i].name, name) == 0) {
            *index = (int)i;
            return LDS_OK;
        }
    unsigned char *data = NULL;
    size_t size = 0;
    int found = 0;
    if (ctx->reader && ctx->reader->read) {
        found = ctx->reader->read(ctx->reader->ctx, name, &data, &size) == 0;
        const char *base = last_component(name);
        if (!found && base != name && base[0])
            found = ctx->reader->read(ctx->reader->ctx, base, &data, &size) == 0;
    }
    if (!found) {
        data = NULL;
        lds_mesh_model_warn(model, "%s: texture %s is missing", ctx->name, name);
    }
    lds_status st = add_texture(model, name, found ? data : NULL, size, index);
    if (st == LDS_ELIMIT) {
        *index = -1;
        return LDS_OK;
    }
    return st;
}

lds_status lds_import_texture_bytes(lds_mesh_model *model, const char *name, const unsigned char *data, size_t size,
                                    int *index)
{
    *index = -1;
    for (size_t i = 0; i < model->texture_count; i++)
        if (strcmp(model->textures[i].name, name) == 0) {
            *index = (int)i;
            return LDS_OK;
        }
    unsigned char *copy = malloc(size ? size : 1);
    if (copy == NULL)
        return LDS_ENOMEM;
    memcpy(copy, data, size);
    lds_status st = add_texture(model, name, copy, size, index);
    if (st == LDS_ELIMIT) {
        *index = -1;
        return LDS_OK;
    }
    return st;
}

/* Unit normals (a zero or non-finite normal becomes +Z), finite UVs, colours clamped to 0..1.
 * Positions are left alone: a non-finite position is an error that validation reports. */
static void tidy_attributes(lds_mesh_model *m)
{
    size_t repaired = 0;
    for (size_t i = 0; m->normals && i < m->vertex_count; i++) {
        float *n = &m->normals[3 * i];
        double len = sqrt((double)n[0] * n[0] + (double)n[1] * n[1] + (double)n[2] * n[2]);
        if (!isfinite(len) || len < 1e-20) {
            n[0] = n[1] = 0.0f;
            n[2] = 1.0f;
            repaired++;
        } else if (fabs(len - 1.0) > 1e-6) {
            n[0] = (float)(n[0] / len);
            n[1] = (float)(n[1] / len);
            n[2] = (float)(n[2] / len);
        }
    }
    for (size_t i = 0; m->uvs && i < 2 * m->vertex_count; i++)
        if (!isfinite(m->uvs[i])) {
            m->uvs[i] = 0.0f;
            repaired++;
        }
    for (size_t i = 0; m->colors && i < 4 * m->vertex_count; i++) {
        float c = m->colors[i];
        if (!(c >= 0.0f)) /* also NaN */
            m->colors[i] = 0.0f;
        else if (c > 1.0f)
            m->colors[i] = 1.0f;
    }
    for (size_t i = 0; m->uvs1 && i < 2 * m->vertex_count; i++)
        if (!isfinite(m->uvs1[i]))
            m->uvs1[i] = 0.0f;
    for (size_t i = 0; m->tangents && i < m->vertex_count; i++) {
        float *t = &m->tangents[4 * i]; /* unit xyz, w the bitangent sign (glTF 3.7.2.1) */
        double len = sqrt((double)t[0] * t[0] + (double)t[1] * t[1] + (double)t[2] * t[2]);
        if (!isfinite(len) || len < 1e-20) {
            t[0] = 1.0f, t[1] = t[2] = 0.0f;
        } else if (fabs(len - 1.0) > 1e-6) {
            t[0] = (float)(t[0] / len), t[1] = (float)(t[1] / len), t[2] = (float)(t[2] / len);
        }
        t[3] = t[3] < 0.0f ? -1.0f : 1.0f;
    }
    for (size_t i = 0; m->weights && i < 4 * m->vertex_count; i++)
        if (!(m->weights[i] >= 0.0f && m->weights[i] <= 1.0f))
            m->weights[i] = m->weights[i] > 1.0f ? 1.0f : 0.0f;
    if (repaired)
        lds_mesh_model_warn(m, "%zu zero or non-finite normals or texture coordinates were replaced", repaired);
}

/* Formats without an alpha mode (OBJ's d, Assimp's opacity) blend a translucent base colour,
 * as their viewers do. */
static void blend_translucent(lds_mesh_model *m)
{
    for (size_t i = 0; i < m->material_count; i++)
        if (m->materials[i].base_color[3] < 1.0f && m->materials[i].alpha_mode == LDS_MESH_ALPHA_OPAQUE)
            m->materials[i].alpha_mode = LDS_MESH_ALPHA_BLEND;
}

void lds_mesh_import_prepare(void)
{
    json_object_seed(0);
}

/* ---- dispatch -------------------------------------------------------------------------------- */

typedef lds_status (*reader_fn)(const lds_import_ctx *, const unsigned char *, size_t, lds_mesh_model *,
                                lds_error *);

static reader_fn pick_reader(const char *name, const unsigned char *data, size_t size, const char **format)
{
    char ext[16];
    lds_path_extension(name, ext, sizeof(ext));
    if (size >= 4 && memcmp(data, "ply", 3) == 0 && (data[3] == '\n' || data[3] == '\r')) {
        *format = "PLY";
        return lds_import_ply;
    }
    if (strcmp(ext, "ply") == 0) {
        *format = "PLY";
        return lds_import_ply;
    }
    if (strcmp(ext, "stl") == 0) {
        *format = "STL";
        return lds_import_stl;
    }
    if (strcmp(ext, "obj") == 0) {
        *format = "OBJ";
        return lds_import_obj;
    }
    if (strcmp(ext, "glb") == 0 || strcmp(ext, "gltf") == 0 || (size >= 4 && memcmp(data, "glTF", 4) == 0)) {
        *format = "glTF";
        return lds_import_gltf;
    }
    *format = "Assimp";
    return lds_import_assimp;
}

lds_status lds_mesh_import(const char *name, const unsigned char *data, size_t size, const lds_mesh_reader *sidecars,
                           const lds_mesh_limits *limits, lds_mesh_model **out, lds_error *err)
{
    *out = NULL;
    if (name == NULL || (data == NULL && size > 0))
        return lds_error_set(err, LDS_EINVAL, "import: no file name or data");
    if (size == 0)
        return lds_error_set(err, LDS_ETRUNC, "%s: empty file", name);
    lds_import_ctx ctx = {.name = name,
                          .reader = sidecars,
                          .max_triangles = limits && limits->max_triangles ? limits->max_triangles : DEFAULT_MAX_ELEMENTS,
                          .max_vertices = limits && limits->max_vertices ? limits->max_vertices : DEFAULT_MAX_ELEMENTS};
    if (ctx.max_vertices > UINT32_MAX)
        ctx.max_vertices = UINT32_MAX;
    if (ctx.max_triangles > UINT32_MAX / 3)
        ctx.max_triangles = UINT32_MAX / 3;
    const char *format = "";
    reader_fn reader = pick_reader(name, data, size, &format);
    lds_mesh_model *model = lds_mesh_model_create();
    if (model == NULL)
        return lds_error_set(err, LDS_ENOMEM, "%s: out of memory", name);
    double start = lds_time_ms();
    lds_status st = reader(&ctx, data, size, model, err);
    if (st == LDS_ENOMEM)
        lds_error_set(err, st, "%s: out of memory while reading", name);
    if (st == LDS_OK && model->submesh_count > 0 && model->material_count == 0)
        st = lds_import_add_material(model, NULL, NULL);
    if (st == LDS_OK)
        st = lds_import_check_limits(&ctx, model->vertex_count, lds_mesh_triangle_count(model), err);
    if (st == LDS_OK && reader != lds_import_gltf)
        blend_translucent(model);
    if (st == LDS_OK) {
        tidy_attributes(model);
        st = lds_mesh_model_validate(model, name, err);
    }
    if (st != LDS_OK) {
        if (err && err->code == LDS_OK)
            lds_error_set(err, st, "%s: %s", name, lds_status_message(st));
        lds_mesh_model_destroy(model);
        return st;
    }
    lds_log_debug("%s: %s reader, %zu vertices, %zu triangles, %zu submeshes in %.1f ms", name, format,
                  model->vertex_count, lds_mesh_triangle_count(model), model->submesh_count,
                  lds_time_ms() - start);
    *out = model;
    return LDS_OK;
}

lds_status lds_mesh_import_file(const char *path, size_t max_bytes, const lds_mesh_limits *limits,
                                lds_mesh_model **out, lds_error *err)
{
    *out = NULL;
    if (max_bytes == 0)
        max_bytes = DEFAULT_MAX_FILE_BYTES;
    unsigned char *data = NULL;
    size_t size = 0;
    lds_status st = lds_file_read(path, max_bytes, &data, &size, err);
    if (st != LDS_OK)
        return st;
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    lds_mesh_dir_reader dr;
    lds_mesh_dir_reader_init(&dr, dir, max_bytes);
    lds_mesh_reader reader = lds_mesh_dir_reader_get(&dr);
    st = lds_mesh_import(path, data, size, &reader, limits, out, err);
    free(data);
    return st;
}

/* ---- the directory reader -------------------------------------------------------------------- */

void lds_mesh_dir_reader_init(lds_mesh_dir_reader *dr, const char *dir, size_t max_bytes)
{
    snprintf(dr->dir, sizeof(dr->dir), "%s", dir && dir[0] ? dir : ".");
    dr->max_bytes = max_bytes ? max_bytes : DEFAULT_MAX_FILE_BYTES;
}

/* Normalises a name as written in a model into a relative path: backslashes become slashes,
 * "./" and empty components are dropped. Refuses absolute names, drive letters and "..". */
static int relative_name(const char *name, char *out, size_t out_size)
{
    if (name == NULL || name[0] == '\0' || name[0] == '/' || name[0] == '\\')
        return -1;
    if (((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z')) && name[1] == ':')
        return -1;
    size_t n = 0;
    const char *p = name;
    while (*p) {
        const char *q = p;
        while (*q && *q != '/' && *q != '\\')
            q++;
        size_t len = (size_t)(q - p);
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return -1;
        if (len > 0 && !(len == 1 && p[0] == '.')) {
            if (n + len + 2 > out_size)
                return -1;
            if (n)
                out[n++] = '/';
            memcpy(out + n, p, len);
            n += len;
        }
        p = *q ? q + 1 : q;
    }
    if (n == 0)
        return -1;
    out[n] = '\0';
    return 0;
}

static int dir_read(void *ctx, const char *name, unsigned char **data, size_t *size)
{
    lds_mesh_dir_reader *dr = ctx;
    char rel[2048], path[PATH_MAX], real[PATH_MAX], real_dir[PATH_MAX];
    *data = NULL;
    *size = 0;
    if (relative_name(name, rel, sizeof(rel)) != 0)
        return -1;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dr->dir, rel) >= sizeof(path))
        return -1;
    if (realpath(dr->dir, real_dir) == NULL || realpath(path, real) == NULL)
        return -1;
    size_t dlen = strlen(real_dir);
    if (!(strcmp(real_dir, "/") == 0 || (strncmp(real, real_dir, dlen) == 0 && real[dlen] == '/')))
        return -1; /* a symlink pointing out of the directory */
    int fd = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat sb;
    unsigned char *buf = NULL;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > dr->max_bytes)
        goto fail;
    size_t total = (size_t)sb.st_size, got = 0;
    if ((buf = malloc(total ? total : 1)) == NULL)
        goto fail;
    while (got < total) {
        ssize_t r = read(fd, buf + got, total - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            goto fail;
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *size = total;
    return 0;
fail:
    free(buf);
    close(fd);
    return -1;
}

lds_mesh_reader lds_mesh_dir_reader_get(lds_mesh_dir_reader *dr)
{
    lds_mesh_reader r = {dr, dir_read};
    return r;
}
