/* import_ply.c: PLY (Greg Turk's polygon file format, 1994) in ascii, binary_little_endian and
 * binary_big_endian. Reads the vertex element (x y z, nx ny nz, red green blue alpha, u v / s t /
 * texture_u texture_v), polygon faces (fan-triangulated) and `tristrips` (strips separated by -1,
 * alternating winding, degenerate joins dropped); skips every other element. A MeshLab
 * "comment TextureFile name" names the texture.
 *
 * Hostile input: every element count is checked against the bytes left before anything is
 * allocated (each element needs at least its minimum encoded size), so a header promising
 * billions of vertices fails at once; every read is bounds-checked. */
#include <stdlib.h>
#include <string.h>

#include "import_internal.h"

#define MAX_ELEMENTS 64
#define MAX_PROPERTIES 128

enum { T_NONE, T_I8, T_U8, T_I16, T_U16, T_I32, T_U32, T_F32, T_F64 };
static const int type_size[] = {0, 1, 1, 2, 2, 4, 4, 4, 8};

typedef struct ply_property {
    char name[48];
    int type;       /* value type (item type for lists) */
    int count_type; /* list count type, T_NONE for scalars */
} ply_property;

typedef struct ply_element {
    char name[48];
    uint64_t count;
    int property_count;
    ply_property properties[MAX_PROPERTIES];
} ply_element;

enum { FMT_ASCII, FMT_LE, FMT_BE };

typedef struct ply_reader {
    const lds_import_ctx *ctx;
    const unsigned char *p, *end; /* binary cursor */
    lds_text text;                /* ascii cursor */
    int format;
    lds_error *err;
} ply_reader;

static int parse_type(const char *s, size_t n)
{
    static const struct { const char *name; int type; } names[] = {
        {"char", T_I8},    {"int8", T_I8},     {"uchar", T_U8},  {"uint8", T_U8},     {"short", T_I16},
        {"int16", T_I16},  {"ushort", T_U16},  {"uint16", T_U16}, {"int", T_I32},     {"int32", T_I32},
        {"uint", T_U32},   {"uint32", T_U32},  {"float", T_F32}, {"float32", T_F32}, {"double", T_F64},
        {"float64", T_F64}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (lds_text_token_is(s, n, names[i].name))
            return names[i].type;
    return T_NONE;
}

/* Reads one value of type as a double; -1 past the end or on malformed ASCII. */
static int read_value(ply_reader *r, int type, double *out)
{
    if (r->format == FMT_ASCII) {
        lds_text *t = &r->text;
        while (t->p < t->end && (*t->p == '\n' || *t->p == ' ' || *t->p == '\t' || *t->p == '\r'))
            t->p++;
        return lds_text_double(t, out);
    }
    int n = type_size[type];
    if ((size_t)(r->end - r->p) < (size_t)n)
        return -1;
    unsigned char b[8];
    if (r->format == FMT_LE)
        memcpy(b, r->p, (size_t)n);
    else
        for (int i = 0; i < n; i++)
            b[i] = r->p[n - 1 - i];
    r->p += n;
    switch (type) {
    case T_I8: *out = (int8_t)b[0]; break;
    case T_U8: *out = b[0]; break;
    case T_I16: { int16_t v; memcpy(&v, b, 2); *out = v; break; }
    case T_U16: { uint16_t v; memcpy(&v, b, 2); *out = v; break; }
    case T_I32: { int32_t v; memcpy(&v, b, 4); *out = v; break; }
    case T_U32: { uint32_t v; memcpy(&v, b, 4); *out = v; break; }
    case T_F32: { float v; memcpy(&v, b, 4); *out = v; break; }
    default: { double v; memcpy(&v, b, 8); *out = v; break; }
    }
    return 0;
}

static lds_status truncated(ply_reader *r, const ply_element *e, uint64_t i)
{
    return lds_error_set(r->err, LDS_ETRUNC, "%s: truncated or malformed PLY: %s %llu of %llu", r->ctx->name, e->name,
                         (unsigned long long)i, (unsigned long long)e->count);
}

/* Skips one element instance. */
static lds_status skip_element(ply_reader *r, const ply_element *e, uint64_t i)
{
    for (int k = 0; k < e->property_count; k++) {
        const ply_property *p = &e->properties[k];
        double v;
        if (p->count_type == T_NONE) {
            if (read_value(r, p->type, &v) != 0)
                return truncated(r, e, i);
            continue;
        }
        if (read_value(r, p->count_type, &v) != 0 || !(v >= 0 && v <= 1e9)) /* NaN fails too */
            return truncated(r, e, i);
        uint64_t n = (uint64_t)v;
        if (r->format != FMT_ASCII) {
            if (n * (uint64_t)type_size[p->type] > (uint64_t)(r->end - r->p))
                return truncated(r, e, i);
            r->p += n * (uint64_t)type_size[p->type];
        } else {
            for (uint64_t j = 0; j < n; j++)
                if (read_value(r, p->type, &v) != 0)
                    return truncated(r, e, i);
        }
    }
    return LDS_OK;
}

/* The smallest number of bytes one instance can take: lets a count be checked before allocation. */
static uint64_t min_element_bytes(const ply_element *e, int format)
{
    uint64_t n = 0;
    for (int k = 0; k < e->property_count; k++) {
        const ply_property *p = &e->properties[k];
        if (format == FMT_ASCII)
            n += 2; /* a digit and a separator */
        else
            n += (uint64_t)type_size[p->count_type != T_NONE ? p->count_type : p->type];
    }
    return n;
}

static size_t remaining(const ply_reader *r)
{
    return r->format == FMT_ASCII ? (size_t)(r->text.end - r->text.p) : (size_t)(r->end - r->p);
}

static int find_property(const ply_element *e, const char *const *names)
{
    for (; *names; names++)
        for (int k = 0; k < e->property_count; k++)
            if (e->properties[k].count_type == T_NONE && strcmp(e->properties[k].name, *names) == 0)
                return k;
    return -1;
}

static double color_scale(int type)
{
    switch (type) {
    case T_U8: case T_I8: return 1.0 / 255.0;
    case T_U16: case T_I16: return 1.0 / 65535.0;
    case T_F32: case T_F64: return 1.0;
    default: return 1.0 / 4294967295.0;
    }
}

static lds_status read_vertices(ply_reader *r, const ply_element *e, lds_mesh_model *model)
{
    static const char *const xs[] = {"x", NULL}, *const ys[] = {"y", NULL}, *const zs[] = {"z", NULL};
    static const char *const nxs[] = {"nx", "normal_x", NULL}, *const nys[] = {"ny", "normal_y", NULL},
                             *const nzs[] = {"nz", "normal_z", NULL};
    static const char *const rs[] = {"red", "r", "diffuse_red", NULL}, *const gs[] = {"green", "g", "diffuse_green", NULL},
                             *const bs[] = {"blue", "b", "diffuse_blue", NULL}, *const as[] = {"alpha", "a", "diffuse_alpha", NULL};
    static const char *const us[] = {"u", "s", "texture_u", "texture_s", NULL},
                             *const vs[] = {"v", "t", "texture_v", "texture_t", NULL};
    /* slot of each property: 0..2 position, 3..5 normal, 6..9 colour, 10..11 uv, -1 skipped */
    int slot[MAX_PROPERTIES];
    for (int k = 0; k < MAX_PROPERTIES; k++)
        slot[k] = -1;
    const char *const *lists[] = {xs, ys, zs, nxs, nys, nzs, rs, gs, bs, as, us, vs};
    int where[12];
    for (int s = 0; s < 12; s++) {
        where[s] = find_property(e, lists[s]);
        if (where[s] >= 0)
            slot[where[s]] = s;
    }
    if (where[0] < 0 || where[1] < 0 || where[2] < 0)
        return lds_error_set(r->err, LDS_EFORMAT, "%s: PLY vertex element without x, y and z", r->ctx->name);
    int has_normals = where[3] >= 0 && where[4] >= 0 && where[5] >= 0;
    int has_colors = where[6] >= 0 && where[7] >= 0 && where[8] >= 0;
    int has_uvs = where[10] >= 0 && where[11] >= 0;
    double scale[12];
    for (int s = 0; s < 12; s++)
        scale[s] = (s >= 6 && s <= 9 && where[s] >= 0) ? color_scale(e->properties[where[s]].type) : 1.0;
    size_t n = (size_t)e->count;
    float *positions = malloc(n * 3 * sizeof(float) + 1);
    float *normals = has_normals ? malloc(n * 3 * sizeof(float) + 1) : NULL;
    float *colors = has_colors ? malloc(n * 4 * sizeof(float) + 1) : NULL;
    float *uvs = has_uvs ? malloc(n * 2 * sizeof(float) + 1) : NULL;
    lds_status st = LDS_OK;
    if (!positions || (has_normals && !normals) || (has_colors && !colors) || (has_uvs && !uvs)) {
        st = LDS_ENOMEM;
        goto out;
    }
    int simple_le = r->format == FMT_LE;
    for (int k = 0; k < e->property_count; k++)
        if (e->properties[k].count_type != T_NONE)
            simple_le = 0;
    for (size_t i = 0; i < n; i++) {
        double v[12] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0};
        for (int k = 0; k < e->property_count; k++) {
            const ply_property *p = &e->properties[k];
            if (slot[k] < 0) {
                if (simple_le) {
                    if ((size_t)(r->end - r->p) < (size_t)type_size[p->type]) {
                        st = truncated(r, e, i);
                        goto out;
                    }
                    r->p += type_size[p->type];
                    continue;
                }
                double ignored;
                if (p->count_type == T_NONE ? read_value(r, p->type, &ignored) != 0 : 0) {
                    st = truncated(r, e, i);
                    goto out;
                }
                if (p->count_type != T_NONE) {
                    ply_element one = *e;
                    one.property_count = 1;
                    one.properties[0] = *p;
                    if ((st = skip_element(r, &one, i)) != LDS_OK)
                        goto out;
                }
                continue;
            }
            if (read_value(r, p->type, &v[slot[k]]) != 0) {
                st = truncated(r, e, i);
                goto out;
            }
        }
        positions[3 * i] = (float)v[0];
        positions[3 * i + 1] = (float)v[1];
        positions[3 * i + 2] = (float)v[2];
        if (normals) {
            normals[3 * i] = (float)v[3];
            normals[3 * i + 1] = (float)v[4];
            normals[3 * i + 2] = (float)v[5];
        }
        if (colors)
            for (int c = 0; c < 4; c++)
                colors[4 * i + c] = (float)(v[6 + c] * scale[6 + c]);
        if (uvs) {
            uvs[2 * i] = (float)v[10];
            uvs[2 * i + 1] = (float)(1.0 - v[11]); /* PLY's v points up, glTF's down */
        }
    }
    free(model->positions);
    free(model->normals);
    free(model->colors);
    free(model->uvs);
    model->positions = positions;
    model->normals = normals;
    model->colors = colors;
    model->uvs = uvs;
    model->vertex_count = n;
    return LDS_OK;
out:
    free(positions);
    free(normals);
    free(colors);
    free(uvs);
    return st;
}

typedef struct index_list {
    uint32_t *data;
    size_t count, capacity, max;
} index_list;

static int push_triangle(index_list *l, uint32_t a, uint32_t b, uint32_t c)
{
    if (l->count + 3 > l->capacity) {
        if (l->count + 3 > l->max)
            return -2;
        size_t grown = l->capacity ? l->capacity * 2 : 3 * 4096;
        if (grown > l->max)
            grown = l->max;
        uint32_t *d = realloc(l->data, grown * sizeof(uint32_t));
        if (d == NULL)
            return -1;
        l->data = d;
        l->capacity = grown;
    }
    l->data[l->count++] = a;
    l->data[l->count++] = b;
    l->data[l->count++] = c;
    return 0;
}

static lds_status read_faces(ply_reader *r, const ply_element *e, int strips, index_list *out)
{
    int list = -1;
    for (int k = 0; k < e->property_count && list < 0; k++)
        if (e->properties[k].count_type != T_NONE &&
            (strcmp(e->properties[k].name, "vertex_indices") == 0 || strcmp(e->properties[k].name, "vertex_index") == 0))
            list = k;
    for (int k = 0; k < e->property_count && list < 0; k++)
        if (e->properties[k].count_type != T_NONE)
            list = k;
    if (list < 0)
        return lds_error_set(r->err, LDS_EFORMAT, "%s: PLY %s element without a vertex index list", r->ctx->name,
                             e->name);
    const ply_property *lp = &e->properties[list];
    int isize = type_size[lp->type];
    int fast = r->format == FMT_LE && e->property_count == 1 && lp->count_type == T_U8 &&
               (lp->type == T_I32 || lp->type == T_U32);
    uint32_t *poly = NULL;
    size_t poly_capacity = 0;
    lds_status st = LDS_OK;
    for (uint64_t i = 0; i < e->count; i++) {
        if (fast) { /* the common binary layout: uchar count, int32 indices */
            if (r->p >= r->end) {
                st = truncated(r, e, i);
                goto out;
            }
            unsigned n = *r->p++;
            if ((size_t)(r->end - r->p) < (size_t)n * 4) {
                st = truncated(r, e, i);
                goto out;
            }
            const unsigned char *q = r->p;
            r->p += (size_t)n * 4;
            uint32_t first, prev, cur;
            if (n < 3)
                continue;
            memcpy(&first, q, 4);
            memcpy(&prev, q + 4, 4);
            for (unsigned k = 2; k < n; k++) {
                memcpy(&cur, q + 4 * k, 4);
                int pr = push_triangle(out, first, prev, cur);
                if (pr != 0) {
                    st = pr == -1 ? LDS_ENOMEM
                                  : lds_import_check_limits(r->ctx, 0, r->ctx->max_triangles + 1, r->err);
                    goto out;
                }
                prev = cur;
            }
            continue;
        }
        for (int k = 0; k < e->property_count; k++) {
            const ply_property *p = &e->properties[k];
            if (k != list) {
                ply_element one = *e;
                one.property_count = 1;
                one.properties[0] = *p;
                if ((st = skip_element(r, &one, i)) != LDS_OK)
                    goto out;
                continue;
            }
            double v;
            if (read_value(r, p->count_type, &v) != 0 || !(v >= 0 && v <= 4e9)) { /* NaN fails too */
                st = truncated(r, e, i);
                goto out;
            }
            uint64_t n = (uint64_t)v;
            uint64_t need = r->format == FMT_ASCII ? n : n * (uint64_t)isize;
            if (need > remaining(r)) {
                st = truncated(r, e, i);
                goto out;
            }
            if (n > poly_capacity) {
                uint32_t *grown = realloc(poly, (size_t)n * sizeof(uint32_t));
                if (grown == NULL) {
                    st = LDS_ENOMEM;
                    goto out;
                }
                poly = grown;
                poly_capacity = (size_t)n;
            }
            for (uint64_t j = 0; j < n; j++) {
                if (read_value(r, p->type, &v) != 0) {
                    st = truncated(r, e, i);
                    goto out;
                }
                if (v < 0 && !(strips && v == -1)) {
                    st = lds_error_set(r->err, LDS_EFORMAT, "%s: PLY %s %llu has a negative vertex index", r->ctx->name,
                                       e->name, (unsigned long long)i);
                    goto out;
                }
                poly[j] = !(v >= 0) ? UINT32_MAX : v > 4294967294.0 ? UINT32_MAX - 1 : (uint32_t)v; /* NaN: invalid */
            }
            int pr = 0;
            if (!strips) {
                for (uint64_t j = 2; j < n && pr == 0; j++)
                    pr = push_triangle(out, poly[0], poly[j - 1], poly[j]);
            } else {
                /* strips separated by -1 (UINT32_MAX here); odd triangles are flipped to keep the
                 * winding; triangles with a repeated vertex only join strips and are dropped */
                uint64_t start = 0;
                for (uint64_t j = 0; j <= n && pr == 0; j++) {
                    if (j < n && poly[j] != UINT32_MAX)
                        continue;
                    for (uint64_t k2 = start + 2; k2 < j && pr == 0; k2++) {
                        uint32_t a = poly[k2 - 2], b = poly[k2 - 1], c = poly[k2];
                        if (a == b || b == c || a == c)
                            continue;
                        pr = ((k2 - start) & 1) ? push_triangle(out, b, a, c) : push_triangle(out, a, b, c);
                    }
                    start = j + 1;
                }
            }
            if (pr != 0) {
                st = pr == -1 ? LDS_ENOMEM : lds_import_check_limits(r->ctx, 0, r->ctx->max_triangles + 1, r->err);
                goto out;
            }
        }
    }
out:
    free(poly);
    return st;
}

static lds_status parse_header(ply_reader *r, const unsigned char *data, size_t size, ply_element *elements,
                               int *element_count, char *texture, size_t texture_size, size_t *body)
{
    const char *name = r->ctx->name;
    lds_text t = {(const char *)data, (const char *)data + size, 1};
    const char *w;
    size_t n;
    if (lds_text_token(&t, &w, &n) != 0 || !lds_text_token_is(w, n, "ply"))
        return lds_error_set(r->err, LDS_EFORMAT, "%s: not a PLY file", name);
    lds_text_next_line(&t);
    int have_format = 0;
    *element_count = 0;
    while (t.p < t.end) {
        uint64_t line = t.line;
        if (lds_text_token(&t, &w, &n) != 0) {
            lds_text_next_line(&t);
            continue;
        }
        if (lds_text_token_is(w, n, "end_header")) {
            lds_text_next_line(&t);
            if (!have_format)
                return lds_error_set(r->err, LDS_EFORMAT, "%s: PLY header without a format line", name);
            *body = (size_t)(t.p - (const char *)data);
            return LDS_OK;
        }
        if (lds_text_token_is(w, n, "format")) {
            if (lds_text_token(&t, &w, &n) != 0)
                return lds_error_set(r->err, LDS_EFORMAT, "%s: PLY line %llu: bad format", name, (unsigned long long)line);
            if (lds_text_token_is(w, n, "ascii"))
                r->format = FMT_ASCII;
            else if (lds_text_token_is(w, n, "binary_little_endian"))
                r->format = FMT_LE;
            else if (lds_text_token_is(w, n, "binary_big_endian"))
                r->format = FMT_BE;
            else
                return lds_error_set(r->err, LDS_EFORMAT, "%s: PLY format %.*s is unknown", name, (int)(n > 40 ? 40 : n), w);
            have_format = 1;
        } else if (lds_text_token_is(w, n, "element")) {
            int64_t count;
            if (*element_count >= MAX_ELEMENTS)
                return lds_error_set(r->err, LDS_ELIMIT, "%s: PLY header has more than %d elements", name, MAX_ELEMENTS);
            ply_element *e = &elements[(*element_count)++];
            e->property_count = 0;
            if (lds_text_token(&t, &w, &n) != 0 || lds_text_int(&t, &count) != 0 || count < 0)
                return lds_error_set(r->err, LDS_EFORMAT, "%s: PLY line %llu: bad element", name, (unsigned long long)line);
            snprintf(e->name, sizeof(e->name), "%.*s", (int)(n < sizeof(e->name) ? n : sizeof(e->name) - 1), w);
            e->count = (uint64_t)count;
        } else if (lds_text_token_is(w, n, "property")) {
            if (*element_count == 0)
                return lds_error_set(r->err, LDS_EFORMAT, "%s: PLY line %llu: property before any element", name,
                                     (unsigned long long)line);
            ply_element *e = &elements[*element_count - 1];
            if (e->property_count >= MAX_PROPERTIES)
                return lds_error_set(r->err, LDS_ELIMIT, "%s: PLY element %s has too many properties", name, e->name);
            ply_property *p = &e->properties[e->property_count];
            p->count_type = T_NONE;
            if (lds_text_token(&t, &w, &n) != 0)
                return lds_error_set(r->err, LDS_EFORMAT, "%s: PLY line %llu: bad property", name, (unsigned long long)line);
            if (lds_text_token_is(w, n, "list")) {
                if (lds_text_token(&t, &w, &n) != 0 || (p->count_type = parse_type(w, n)) == T_NONE ||
                    p->count_type == T_F32 || p->count_type == T_F64 || lds_text_token(&t, &w, &n) != 0)
                    return lds_error_set(r->err, LDS_EFORMAT, "%s: PLY line %llu: bad list property", name,
                                         (unsigned long long)line);
            }
            if ((p->type = parse_type(w, n)) == T_NONE || lds_text_token(&t, &w, &n) != 0)
                return lds_error_set(r->err, LDS_EFORMAT, "%s: PLY line %llu: bad property type", name,
                                     (unsigned long long)line);
            snprintf(p->name, sizeof(p->name), "%.*s", (int)(n < sizeof(p->name) ? n : sizeof(p->name) - 1), w);
            e->property_count++;
        } else if (lds_text_token_is(w, n, "comment")) {
            if (lds_text_token(&t, &w, &n) == 0 && lds_text_token_is(w, n, "TextureFile")) {
                lds_text_skip_blank(&t);
                const char *s = t.p;
                while (t.p < t.end && *t.p != '\n' && *t.p != '\r')
                    t.p++;
                snprintf(texture, texture_size, "%.*s", (int)((size_t)(t.p - s) < texture_size ? (size_t)(t.p - s) : texture_size - 1), s);
            }
        } /* obj_info and unknown lines (some exporters write free text) are skipped */
        lds_text_next_line(&t);
    }
    return lds_error_set(r->err, LDS_ETRUNC, "%s: PLY header without end_header", name);
}

lds_status lds_import_ply(const lds_import_ctx *ctx, const unsigned char *data, size_t size, lds_mesh_model *model,
                          lds_error *err)
{
    ply_reader r = {.ctx = ctx, .err = err};
    ply_element *elements = calloc(MAX_ELEMENTS, sizeof(ply_element));
    index_list faces = {.max = (size_t)ctx->max_triangles * 3};
    if (elements == NULL)
        return LDS_ENOMEM;
    int element_count = 0, have_vertices = 0;
    char texture[512] = "";
    size_t body = 0;
    lds_status st = parse_header(&r, data, size, elements, &element_count, texture, sizeof(texture), &body);
    if (st != LDS_OK)
        goto out;
    r.p = data + body;
    r.end = data + size;
    r.text = (lds_text){(const char *)data + body, (const char *)data + size, 1};
    for (int i = 0; i < element_count; i++) {
        ply_element *e = &elements[i];
        uint64_t min_bytes = min_element_bytes(e, r.format);
        /* ASCII: the last value of the file needs no separator after it */
        size_t room = remaining(&r) + (r.format == FMT_ASCII ? 1 : 0);
        if (e->count && (min_bytes == 0 || e->count > room / min_bytes)) {
            st = lds_error_set(err, LDS_ETRUNC,
                               "%s: PLY header declares %llu %s elements but the file has only %zu bytes left for them",
                               ctx->name, (unsigned long long)e->count, e->name, remaining(&r));
            goto out;
        }
        int is_vertex = strcmp(e->name, "vertex") == 0 && !have_vertices;
        int is_faces = strcmp(e->name, "face") == 0, is_strips = strcmp(e->name, "tristrips") == 0;
        if (is_vertex) {
            if ((st = lds_import_check_limits(ctx, e->count, 0, err)) != LDS_OK ||
                (st = read_vertices(&r, e, model)) != LDS_OK)
                goto out;
            have_vertices = 1;
        } else if (is_faces || is_strips) {
            if ((st = read_faces(&r, e, is_strips, &faces)) != LDS_OK)
                goto out;
        } else {
            for (uint64_t k = 0; k < e->count; k++)
                if ((st = skip_element(&r, e, k)) != LDS_OK)
                    goto out;
        }
    }
    if (!have_vertices || model->vertex_count == 0) {
        st = lds_error_set(err, LDS_ENOGEOM, "%s: PLY without vertices", ctx->name);
        goto out;
    }
    for (size_t i = 0; i < faces.count; i++)
        if (faces.data[i] >= model->vertex_count) {
            st = lds_error_set(err, LDS_EFORMAT, "%s: face %zu uses vertex %u of %zu", ctx->name, i / 3, faces.data[i],
                               model->vertex_count);
            goto out;
        }
    model->indices = faces.data;
    model->index_count = faces.count;
    faces.data = NULL;
    if ((model->submeshes = calloc(1, sizeof(lds_mesh_submesh))) == NULL) {
        st = LDS_ENOMEM;
        goto out;
    }
    model->submesh_count = 1;
    model->submeshes[0].vertex_count = (uint32_t)model->vertex_count;
    model->submeshes[0].index_count = (uint32_t)model->index_count;
    size_t material;
    if ((st = lds_import_add_material(model, NULL, &material)) != LDS_OK)
        goto out;
    if (texture[0] && model->uvs)
        st = lds_import_texture_file(ctx, model, texture, &model->materials[material].maps[LDS_MESH_MAP_BASE_COLOR].texture);
out:
    free(faces.data);
    free(elements);
    return st;
}
