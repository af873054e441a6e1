/* import_obj.c: Wavefront OBJ (v, vt, vn, f with v, v/vt, v//vn and v/vt/vn corners, 1-based and
 * negative relative indices; polygons fan-triangulated; o, g and usemtl start submeshes; "v x y z
 * r g b" vertex colours) and its MTL materials (newmtl, Kd, d, Tr, map_Kd with options), per the
 * Wavefront "Advanced Visualizer" appendices B1 (OBJ) and B2 (MTL).
 *
 * OBJ indexes positions, UVs and normals separately; glTF needs one index per vertex. Each
 * submesh gets its own vertices: a hash of (v, vt, vn) corner triples gives every distinct triple
 * one vertex, so the submesh's vertex range is contiguous. Sidecars come through ctx->reader. */
#include <stdlib.h>
#include <string.h>

#include "import_internal.h"

#define NONE UINT32_MAX
#define MAX_MATERIALS 65536
#define MAX_GROUPS (1u << 22)

typedef struct fbuf { float *data; size_t count, capacity; } fbuf; /* floats */
typedef struct cbuf { uint32_t *data; size_t count, capacity; } cbuf; /* corner triples: 3 per corner */

static int fbuf_push(fbuf *b, const float *v, size_t n)
{
    if (b->count + n > b->capacity) {
        size_t grown = b->capacity ? b->capacity * 2 : 3 * 4096;
        float *d = realloc(b->data, grown * sizeof(float));
        if (d == NULL)
            return -1;
        b->data = d;
        b->capacity = grown;
    }
    memcpy(b->data + b->count, v, n * sizeof(float));
    b->count += n;
    return 0;
}

static int cbuf_push(cbuf *b, const uint32_t *c)
{
    if (b->count + 3 > b->capacity) {
        size_t grown = b->capacity ? b->capacity * 2 : 3 * 3 * 4096;
        uint32_t *d = realloc(b->data, grown * sizeof(uint32_t));
        if (d == NULL)
            return -1;
        b->data = d;
        b->capacity = grown;
    }
    memcpy(b->data + b->count, c, 3 * sizeof(uint32_t));
    b->count += 3;
    return 0;
}

typedef struct group {
    size_t first_corner, corner_count; /* in corners (each a v/vt/vn triple) */
    uint32_t material;
} group;

typedef struct obj_state {
    const lds_import_ctx *ctx;
    lds_error *err;
    fbuf v, vt, vn, colors;
    int any_colors;
    cbuf corners; /* 3 corners per triangle */
    group *groups;
    size_t group_count, group_capacity;
    char **material_names;
    size_t material_count;
    uint32_t current_material;
    char **libraries;
    size_t library_count;
} obj_state;

static lds_status start_group(obj_state *s)
{
    if (s->group_count && s->groups[s->group_count - 1].corner_count == 0) {
        s->groups[s->group_count - 1].first_corner = s->corners.count / 3;
        s->groups[s->group_count - 1].material = s->current_material;
        return LDS_OK;
    }
    if (s->group_count >= MAX_GROUPS)
        return lds_error_set(s->err, LDS_ELIMIT, "%s: more than %u groups", s->ctx->name, MAX_GROUPS);
    if (s->group_count == s->group_capacity) {
        size_t grown = s->group_capacity ? s->group_capacity * 2 : 16;
        group *g = realloc(s->groups, grown * sizeof(group));
        if (g == NULL)
            return LDS_ENOMEM;
        s->groups = g;
        s->group_capacity = grown;
    }
    s->groups[s->group_count++] = (group){s->corners.count / 3, 0, s->current_material};
    return LDS_OK;
}

static lds_status use_material(obj_state *s, const char *name, size_t len)
{
    for (size_t i = 0; i < s->material_count; i++)
        if (strlen(s->material_names[i]) == len && memcmp(s->material_names[i], name, len) == 0) {
            s->current_material = (uint32_t)i;
            return LDS_OK;
        }
    if (s->material_count >= MAX_MATERIALS)
        return lds_error_set(s->err, LDS_ELIMIT, "%s: more than %d materials", s->ctx->name, MAX_MATERIALS);
    char **names = realloc(s->material_names, (s->material_count + 1) * sizeof(char *));
    if (names == NULL)
        return LDS_ENOMEM;
    s->material_names = names;
    if ((names[s->material_count] = strndup(name, len)) == NULL)
        return LDS_ENOMEM;
    s->current_material = (uint32_t)s->material_count++;
    return LDS_OK;
}

/* Rest of the line with surrounding blanks trimmed. */
static void rest_of_line(lds_text *t, const char **start, size_t *len)
{
    lds_text_skip_blank(t);
    const char *s = t->p, *e = t->p;
    while (e < t->end && *e != '\n' && *e != '#')
        e++;
    t->p = e;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
    *start = s;
    *len = (size_t)(e - s);
}

/* Resolves an OBJ index (1-based, or negative from the end) against count elements so far. */
static int resolve(int64_t index, size_t count, uint32_t *out)
{
    if (index > 0) {
        if (index > UINT32_MAX - 1)
            return -1;
        *out = (uint32_t)(index - 1); /* forward references are checked after the whole file */
        return 0;
    }
    if (index < 0 && (uint64_t)(-index) <= count) {
        *out = (uint32_t)(count - (size_t)(-index));
        return 0;
    }
    return -1;
}

static lds_status parse_face(obj_state *s, lds_text *t)
{
    uint32_t first[3], prev[3], cur[3];
    int corners = 0;
    for (;;) {
        lds_text_skip_blank(t);
        if (t->p >= t->end || *t->p == '\n' || *t->p == '#')
            break;
        if (*t->p == '\\') { /* line continuation */
            t->p++;
            lds_text_skip_blank(t);
            if (t->p < t->end && *t->p == '\n') {
                t->p++;
                t->line++;
            }
            continue;
        }
        int64_t v, vt = 0, vn = 0;
        if (lds_text_int(t, &v) != 0)
            goto bad;
        if (t->p < t->end && *t->p == '/') {
            t->p++;
            if (t->p < t->end && *t->p != '/' && lds_text_int(t, &vt) != 0)
                goto bad;
            if (t->p < t->end && *t->p == '/') {
                t->p++;
                if (lds_text_int(t, &vn) != 0)
                    goto bad;
            }
        }
        cur[1] = cur[2] = NONE;
        if (resolve(v, s->v.count / 3, &cur[0]) != 0 || (vt && resolve(vt, s->vt.count / 2, &cur[1]) != 0) ||
            (vn && resolve(vn, s->vn.count / 3, &cur[2]) != 0))
            return lds_error_set(s->err, LDS_EFORMAT, "%s: line %llu: face index out of range", s->ctx->name,
                                 (unsigned long long)t->line);
        if (corners == 0)
            memcpy(first, cur, sizeof(cur));
        else if (corners >= 2) {
            if (s->corners.count / 9 >= s->ctx->max_triangles)
                return lds_import_check_limits(s->ctx, 0, s->ctx->max_triangles + 1, s->err);
            if (cbuf_push(&s->corners, first) || cbuf_push(&s->corners, prev) || cbuf_push(&s->corners, cur))
                return LDS_ENOMEM;
            s->groups[s->group_count - 1].corner_count += 3;
        }
        memcpy(prev, cur, sizeof(cur));
        corners++;
    }
    return LDS_OK;
bad:
    return lds_error_set(s->err, LDS_EFORMAT, "%s: line %llu: malformed face", s->ctx->name, (unsigned long long)t->line);
}

static lds_status parse_obj(obj_state *s, const unsigned char *data, size_t size)
{
    lds_text t = {(const char *)data, (const char *)data + size, 1};
    lds_status st;
    if ((st = start_group(s)) != LDS_OK)
        return st;
    while (t.p < t.end) {
        const char *w;
        size_t n;
        if (lds_text_token(&t, &w, &n) != 0 || w[0] == '#') {
            lds_text_next_line(&t);
            continue;
        }
        if (n == 1 && w[0] == 'v') {
            float xyz[7];
            int count = 0;
            while (count < 7 && lds_text_float(&t, &xyz[count]) == 0)
                count++;
            if (count < 3)
                return lds_error_set(s->err, LDS_EFORMAT, "%s: line %llu: vertex with fewer than 3 coordinates",
                                     s->ctx->name, (unsigned long long)t.line);
            if (s->v.count / 3 >= s->ctx->max_vertices)
                return lds_import_check_limits(s->ctx, s->ctx->max_vertices + 1, 0, s->err);
            if (fbuf_push(&s->v, xyz, 3) != 0)
                return LDS_ENOMEM;
            if (count >= 6 && !s->any_colors) { /* first coloured vertex: earlier ones are white */
                s->any_colors = 1;
                for (size_t i = 0; i + 1 < s->v.count / 3; i++) {
                    float white[3] = {1, 1, 1};
                    if (fbuf_push(&s->colors, white, 3) != 0)
                        return LDS_ENOMEM;
                }
            }
            if (s->any_colors) {
                float white[3] = {1, 1, 1};
                if (fbuf_push(&s->colors, count >= 6 ? &xyz[3] : white, 3) != 0)
                    return LDS_ENOMEM;
            }
        } else if (n == 2 && w[0] == 'v' && w[1] == 't') {
            float uv[3] = {0, 0, 0};
            if (lds_text_float(&t, &uv[0]) != 0)
                return lds_error_set(s->err, LDS_EFORMAT, "%s: line %llu: bad texture coordinate", s->ctx->name,
                                     (unsigned long long)t.line);
            if (lds_text_float(&t, &uv[1]) != 0)
                uv[1] = 0.0f;
            if (fbuf_push(&s->vt, uv, 2) != 0)
                return LDS_ENOMEM;
        } else if (n == 2 && w[0] == 'v' && w[1] == 'n') {
            float nrm[3];
            if (lds_text_float(&t, &nrm[0]) || lds_text_float(&t, &nrm[1]) || lds_text_float(&t, &nrm[2]))
                return lds_error_set(s->err, LDS_EFORMAT, "%s: line %llu: bad normal", s->ctx->name,
                                     (unsigned long long)t.line);
            if (fbuf_push(&s->vn, nrm, 3) != 0)
                return LDS_ENOMEM;
        } else if (n == 1 && w[0] == 'f') {
            if ((st = parse_face(s, &t)) != LDS_OK)
                return st;
        } else if ((n == 1 && (w[0] == 'o' || w[0] == 'g')) || lds_text_token_is(w, n, "usemtl")) {
            if (w[0] == 'u') {
                const char *name;
                size_t len;
                rest_of_line(&t, &name, &len);
                if ((st = use_material(s, name, len)) != LDS_OK)
                    return st;
            }
            if ((st = start_group(s)) != LDS_OK)
                return st;
        } else if (lds_text_token_is(w, n, "mtllib")) {
            const char *name;
            size_t len;
            while (lds_text_token(&t, &name, &len) == 0 && name[0] != '#' && s->library_count < 16) {
                char **libs = realloc(s->libraries, (s->library_count + 1) * sizeof(char *));
                if (libs == NULL)
                    return LDS_ENOMEM;
                s->libraries = libs;
                if ((libs[s->library_count] = strndup(name, len)) == NULL)
                    return LDS_ENOMEM;
                s->library_count++;
            }
        }
        lds_text_next_line(&t);
    }
    return LDS_OK;
}

/* map_Kd [-option args...] file name: the options of MTL appendix B2 and their argument counts. */
static void texture_name(lds_text *t, char *out, size_t out_size)
{
    static const struct { const char *name; int args; } options[] = {
        {"-blendu", 1}, {"-blendv", 1}, {"-cc", 1}, {"-clamp", 1}, {"-texres", 1}, {"-bm", 1}, {"-boost", 1},
        {"-imfchan", 1}, {"-type", 1}, {"-mm", 2}, {"-o", 3}, {"-s", 3}, {"-t", 3}};
    out[0] = '\0';
    for (;;) {
        lds_text_skip_blank(t);
        if (t->p >= t->end || *t->p != '-')
            break;
        const char *w;
        size_t n;
        if (lds_text_token(t, &w, &n) != 0)
            return;
        int args = 0;
        for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
            if (lds_text_token_is(w, n, options[i].name))
                args = options[i].args;
        for (int a = 0; a < args; a++) {
            lds_text probe = *t;
            double ignored;
            if (args == 3 && a > 0 && lds_text_double(&probe, &ignored) != 0)
                break; /* -o/-s/-t take 1 to 3 numbers */
            if (lds_text_token(t, &w, &n) != 0)
                return;
        }
    }
    const char *name;
    size_t len;
    rest_of_line(t, &name, &len);
    if (len < out_size) {
        memcpy(out, name, len);
        out[len] = '\0';
    }
}

static lds_status parse_mtl(obj_state *s, lds_mesh_model *model, const unsigned char *data, size_t size)
{
    lds_text t = {(const char *)data, (const char *)data + size, 1};
    lds_mesh_material *current = NULL;
    lds_status st;
    while (t.p < t.end) {
        const char *w;
        size_t n;
        if (lds_text_token(&t, &w, &n) != 0) {
            lds_text_next_line(&t);
            continue;
        }
        if (lds_text_token_is(w, n, "newmtl")) {
            const char *name;
            size_t len;
            rest_of_line(&t, &name, &len);
            current = NULL;
            for (size_t i = 0; i < s->material_count; i++)
                if (strlen(s->material_names[i]) == len && memcmp(s->material_names[i], name, len) == 0)
                    current = &model->materials[i];
        } else if (current && lds_text_token_is(w, n, "Kd")) {
            float c[3];
            if (lds_text_float(&t, &c[0]) == 0) {
                if (lds_text_float(&t, &c[1]) != 0 || lds_text_float(&t, &c[2]) != 0)
                    c[1] = c[2] = c[0];
                memcpy(current->base_color, c, sizeof(c));
            }
        } else if (current && (lds_text_token_is(w, n, "d") || lds_text_token_is(w, n, "Tr"))) {
            float a;
            if (lds_text_float(&t, &a) == 0)
                current->base_color[3] = w[0] == 'T' ? 1.0f - a : a;
        } else if (current && lds_text_token_is(w, n, "Ke")) {
            float c[3];
            if (lds_text_float(&t, &c[0]) == 0) {
                if (lds_text_float(&t, &c[1]) != 0 || lds_text_float(&t, &c[2]) != 0)
                    c[1] = c[2] = c[0];
                memcpy(current->emissive, c, sizeof(c));
            }
        } else if (current && (lds_text_token_is(w, n, "Pr") || lds_text_token_is(w, n, "Pm"))) {
            float v; /* the PBR extension of MTL: roughness, metallic */
            if (lds_text_float(&t, &v) == 0 && v >= 0.0f && v <= 1.0f)
                *(w[1] == 'r' ? &current->roughness : &current->metallic) = v;
        } else if (current && (lds_text_token_is(w, n, "map_Pr") || lds_text_token_is(w, n, "map_Pm"))) {
            lds_mesh_model_warn(model, "%s: %.*s (a separate roughness or metallic map) is not carried: glTF packs "
                                "both in one texture", s->ctx->name, (int)n, w);
        } else if (current) {
            /* texture slots: base colour, normal (norm, or bump maps as exporters write them), emissive */
            int slot = lds_text_token_is(w, n, "map_Kd")                                     ? LDS_MESH_MAP_BASE_COLOR
                       : lds_text_token_is(w, n, "norm") || lds_text_token_is(w, n, "map_Bump") ||
                                 lds_text_token_is(w, n, "map_bump") || lds_text_token_is(w, n, "bump")
                           ? LDS_MESH_MAP_NORMAL
                       : lds_text_token_is(w, n, "map_Ke") ? LDS_MESH_MAP_EMISSIVE
                                                           : -1;
            char name[1024];
            if (slot >= 0) {
                texture_name(&t, name, sizeof(name));
                if (name[0] &&
                    (st = lds_import_texture_file(s->ctx, model, name, &current->maps[slot].texture)) != LDS_OK)
                    return st;
                if (slot == LDS_MESH_MAP_EMISSIVE && current->maps[slot].texture >= 0 && current->emissive[0] == 0 &&
                    current->emissive[1] == 0 && current->emissive[2] == 0)
                    current->emissive[0] = current->emissive[1] = current->emissive[2] = 1.0f;
            }
        }
        lds_text_next_line(&t);
    }
    return LDS_OK;
}

static uint64_t hash3(const uint32_t *c)
{
    uint64_t h = c[0] * 0x9E3779B97F4A7C15ull;
    h ^= (c[1] + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full;
    h ^= (c[2] + 0x165667B19E3779F9ull) * 0xD6E8FEB86659FD93ull;
    return h ^ (h >> 29);
}

/* Builds the model's vertices and indices from the corner triples, group by group. */
static lds_status build(obj_state *s, lds_mesh_model *model)
{
    size_t nv = s->v.count / 3, nvt = s->vt.count / 2, nvn = s->vn.count / 3;
    size_t corner_count = s->corners.count / 3;
    for (size_t i = 0; i < corner_count; i++) {
        const uint32_t *c = &s->corners.data[3 * i];
        if (c[0] >= nv || (c[1] != NONE && c[1] >= nvt) || (c[2] != NONE && c[2] >= nvn))
            return lds_error_set(s->err, LDS_EFORMAT, "%s: face %zu uses vertex %u of %zu", s->ctx->name, i / 3,
                                 c[0] >= nv ? c[0] + 1 : c[1] != NONE && c[1] >= nvt ? c[1] + 1 : c[2] + 1,
                                 c[0] >= nv ? nv : c[1] != NONE && c[1] >= nvt ? nvt : nvn);
    }
    int with_uvs = nvt > 0, with_normals = nvn > 0, with_colors = s->any_colors;
    lds_status st;
    if (corner_count == 0) { /* a point cloud: every v is a point */
        if ((st = lds_mesh_model_alloc(model, nv, 0, 0, 0, with_colors)) != LDS_OK)
            return st;
        memcpy(model->positions, s->v.data, nv * 3 * sizeof(float));
        for (size_t i = 0; with_colors && i < nv; i++) {
            memcpy(&model->colors[4 * i], &s->colors.data[3 * i], 3 * sizeof(float));
            model->colors[4 * i + 3] = 1.0f;
        }
        if ((model->submeshes = calloc(1, sizeof(lds_mesh_submesh))) == NULL)
            return LDS_ENOMEM;
        model->submesh_count = 1;
        model->submeshes[0].vertex_count = (uint32_t)nv;
        model->submeshes[0].material = 0;
        return LDS_OK;
    }
    /* per group: distinct triples -> vertex; the table is sized per group, so the total work is
     * linear in the number of corners */
    size_t table_capacity = 0;
    uint32_t *table = NULL; /* vertex index (into the output) per slot, NONE empty */
    uint32_t *vertex_of = malloc(corner_count * sizeof(uint32_t) + 1);
    uint32_t *first_corner = malloc(corner_count * sizeof(uint32_t) + 1); /* which corner made a vertex */
    lds_mesh_submesh *submeshes = calloc(s->group_count, sizeof(lds_mesh_submesh));
    size_t vertex_total = 0, submesh_count = 0;
    if (!vertex_of || !first_corner || !submeshes) {
        st = LDS_ENOMEM;
        goto out;
    }
    for (size_t g = 0; g < s->group_count; g++) {
        const group *gr = &s->groups[g];
        if (gr->corner_count == 0)
            continue;
        size_t want = 16;
        while (want < 2 * gr->corner_count)
            want *= 2;
        if (want > table_capacity) {
            free(table);
            if ((table = malloc(want * sizeof(uint32_t))) == NULL) {
                st = LDS_ENOMEM;
                goto out;
            }
            table_capacity = want;
        }
        memset(table, 0xff, want * sizeof(uint32_t));
        size_t group_start = vertex_total;
        for (size_t i = gr->first_corner; i < gr->first_corner + gr->corner_count; i++) {
            const uint32_t *c = &s->corners.data[3 * i];
            size_t slot = (size_t)hash3(c) & (want - 1);
            for (;;) {
                uint32_t vi = table[slot];
                if (vi == NONE) {
                    table[slot] = (uint32_t)vertex_total;
                    first_corner[vertex_total] = (uint32_t)i;
                    vertex_of[i] = (uint32_t)vertex_total++;
                    break;
                }
                const uint32_t *o = &s->corners.data[3 * first_corner[vi]];
                if (o[0] == c[0] && o[1] == c[1] && o[2] == c[2]) {
                    vertex_of[i] = vi;
                    break;
                }
                slot = (slot + 1) & (want - 1);
            }
        }
        lds_mesh_submesh *sm = &submeshes[submesh_count++];
        sm->vertex_offset = (uint32_t)group_start;
        sm->vertex_count = (uint32_t)(vertex_total - group_start);
        sm->index_offset = (uint32_t)gr->first_corner;
        sm->index_count = (uint32_t)gr->corner_count;
        sm->material = gr->material;
    }
    if ((st = lds_import_check_limits(s->ctx, vertex_total, corner_count / 3, s->err)) != LDS_OK)
        goto out;
    if ((st = lds_mesh_model_alloc(model, vertex_total, corner_count, with_normals, with_uvs, with_colors)) != LDS_OK)
        goto out;
    for (size_t vi = 0; vi < vertex_total; vi++) {
        const uint32_t *c = &s->corners.data[3 * first_corner[vi]];
        memcpy(&model->positions[3 * vi], &s->v.data[3 * (size_t)c[0]], 3 * sizeof(float));
        if (with_uvs && c[1] != NONE) {
            model->uvs[2 * vi] = s->vt.data[2 * (size_t)c[1]];
            model->uvs[2 * vi + 1] = 1.0f - s->vt.data[2 * (size_t)c[1] + 1]; /* OBJ v is up, glTF v down */
        }
        if (with_normals && c[2] != NONE)
            memcpy(&model->normals[3 * vi], &s->vn.data[3 * (size_t)c[2]], 3 * sizeof(float));
        if (with_colors) {
            memcpy(&model->colors[4 * vi], &s->colors.data[3 * (size_t)c[0]], 3 * sizeof(float));
            model->colors[4 * vi + 3] = 1.0f;
        }
    }
    memcpy(model->indices, vertex_of, corner_count * sizeof(uint32_t));
    model->submeshes = submeshes;
    model->submesh_count = submesh_count;
    submeshes = NULL;
out:
    free(table);
    free(vertex_of);
    free(first_corner);
    free(submeshes);
    return st;
}

lds_status lds_import_obj(const lds_import_ctx *ctx, const unsigned char *data, size_t size, lds_mesh_model *model,
                          lds_error *err)
{
    obj_state s = {.ctx = ctx, .err = err, .current_material = NONE};
    lds_status st = parse_obj(&s, data, size);
    if (st != LDS_OK)
        goto out;
    if (s.v.count == 0) {
        st = lds_error_set(err, LDS_ENOGEOM, "%s: OBJ without vertices", ctx->name);
        goto out;
    }
    /* faces before any usemtl (material NONE) get a default material of their own */
    int needs_default = 0;
    for (size_t g = 0; g < s.group_count; g++)
        needs_default |= s.groups[g].material == NONE && s.groups[g].corner_count > 0;
    if (needs_default || s.material_count == 0) {
        uint32_t before = s.current_material;
        if ((st = use_material(&s, "default", 7)) != LDS_OK)
            goto out;
        for (size_t g = 0; g < s.group_count; g++)
            if (s.groups[g].material == NONE)
                s.groups[g].material = s.current_material;
        s.current_material = before;
    }
    for (size_t i = 0; i < s.material_count; i++)
        if ((st = lds_import_add_material(model, s.material_names[i], NULL)) != LDS_OK)
            goto out;
    for (size_t i = 0; i < s.library_count; i++) {
        unsigned char *mtl = NULL;
        size_t mtl_size = 0;
        if (!ctx->reader || !ctx->reader->read || ctx->reader->read(ctx->reader->ctx, s.libraries[i], &mtl, &mtl_size) != 0) {
            lds_mesh_model_warn(model, "%s: material library %s is missing", ctx->name, s.libraries[i]);
            continue;
        }
        st = parse_mtl(&s, model, mtl, mtl_size);
        free(mtl);
        if (st != LDS_OK)
            goto out;
    }
    st = build(&s, model);
out:
    free(s.v.data);
    free(s.vt.data);
    free(s.vn.data);
    free(s.colors.data);
    free(s.corners.data);
    free(s.groups);
    for (size_t i = 0; i < s.material_count; i++)
        free(s.material_names[i]);
    free(s.material_names);
    for (size_t i = 0; i < s.library_count; i++)
        free(s.libraries[i]);
    free(s.libraries);
    return st;
}
