/* model_wire.c: the flat model the sandboxed child sends to its parent.
 *
 * Format (native byte order: both ends are the same binary on the same machine):
 *   "LDSMODL3"
 *   u64 vertex_count, u64 index_count, u64 submesh_count, u64 material_count, u64 texture_count,
 *   u64 warning_count, u32 attribute flags (bit a: lds_mesh_attributes[a] is present)
 *   f32 positions[3V], then each present attribute's floats in lds_mesh_attributes order,
 *   u32 indices[I]
 *   submeshes: 6 x u32 (vertex_offset, vertex_count, index_offset, index_count, material, primitive)
 *   materials: string name, f32 factors[11] (base_color[4], metallic, roughness, emissive[3],
 *              emissive_strength, alpha_cutoff), u32 alpha_mode, u32 double_sided,
 *              5 slots x (i32 texture, i32 tex_coord, f32 scale, i32 sampler[4], i32 transform
 *              present, f32 offset[2], f32 rotation, f32 scale[2], i32 transform tex_coord),
 *              blob extensions (JSON text, no NUL)
 *   textures: string name, string mime, blob data, i32 width, i32 height
 *   warnings: string
 *   scene: blob (JSON text, no NUL)
 *   string = u32 length (0xffffffff for NULL) + bytes; blob = u64 length (all ones for NULL) + bytes
 *
 * The decoder is the parent's first line of defence against a compromised child: every count is
 * checked against the bytes that remain before anything is allocated, so memory stays bounded by
 * the message, and the result still goes through lds_mesh_model_validate. */
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"

static const char magic[8] = {'L', 'D', 'S', 'M', 'O', 'D', 'L', '3'};

#define NAME_MAX_BYTES (64u * 1024)
#define NULL_STRING 0xffffffffu
#define NULL_BLOB UINT64_MAX

static lds_status put(lds_buf *out, const void *data, size_t size)
{
    return size ? lds_buf_append(out, data, size) : LDS_OK;
}

static lds_status put_u32(lds_buf *out, uint32_t v)
{
    return put(out, &v, sizeof(v));
}

static lds_status put_u64(lds_buf *out, uint64_t v)
{
    return put(out, &v, sizeof(v));
}

static lds_status put_string(lds_buf *out, const char *s)
{
    if (s == NULL)
        return put_u32(out, NULL_STRING);
    size_t n = strlen(s);
    if (n > NAME_MAX_BYTES)
        n = NAME_MAX_BYTES; /* names and warnings this long are truncated, never refused */
    lds_status st = put_u32(out, (uint32_t)n);
    return st != LDS_OK ? st : put(out, s, n);
}

/* A slot as 8 ints and 6 floats (the wire's slot record). */
typedef struct wire_slot {
    int32_t ints[8]; /* texture, tex_coord, mag, min, wrap_s, wrap_t, transform present, transform tex_coord */
    float floats[6]; /* scale, offset[2], rotation, transform scale[2] */
} wire_slot;

static void slot_to_wire(const lds_mesh_texture_ref *ref, wire_slot *w)
{
    const lds_mesh_sampler *sa = &ref->sampler;
    const lds_mesh_texture_transform *t = &ref->transform;
    int32_t ints[8] = {ref->texture, ref->tex_coord, sa->mag_filter, sa->min_filter,
                       sa->wrap_s, sa->wrap_t, t->present, t->tex_coord};
    float floats[6] = {ref->scale, t->offset[0], t->offset[1], t->rotation, t->scale[0], t->scale[1]};
    memcpy(w->ints, ints, sizeof(ints));
    memcpy(w->floats, floats, sizeof(floats));
}

static void slot_from_wire(const wire_slot *w, lds_mesh_texture_ref *ref)
{
    ref->texture = w->ints[0], ref->tex_coord = w->ints[1];
    ref->sampler = (lds_mesh_sampler){w->ints[2], w->ints[3], w->ints[4], w->ints[5]};
    ref->transform.present = w->ints[6], ref->transform.tex_coord = w->ints[7];
    ref->scale = w->floats[0];
    ref->transform.offset[0] = w->floats[1], ref->transform.offset[1] = w->floats[2];
    ref->transform.rotation = w->floats[3];
    ref->transform.scale[0] = w->floats[4], ref->transform.scale[1] = w->floats[5];
}

/* A blob of text without its NUL (all ones for NULL). */
static lds_status put_text(lds_buf *out, const char *text)
{
    size_t n = text ? strlen(text) : 0;
    lds_status st = put_u64(out, text ? (uint64_t)n : NULL_BLOB);
    if (st == LDS_OK && n)
        st = put(out, text, n);
    return st;
}

static lds_status put_material(lds_buf *out, const lds_mesh_material *mat)
{
    float factors[11] = {mat->base_color[0], mat->base_color[1], mat->base_color[2], mat->base_color[3],
                         mat->metallic, mat->roughness, mat->emissive[0], mat->emissive[1], mat->emissive[2],
                         mat->emissive_strength, mat->alpha_cutoff};
    uint32_t flags[2] = {(uint32_t)mat->alpha_mode, mat->double_sided != 0};
    lds_status st = put_string(out, mat->name);
    if (st == LDS_OK)
        st = put(out, factors, sizeof(factors));
    if (st == LDS_OK)
        st = put(out, flags, sizeof(flags));
    for (int k = 0; st == LDS_OK && k < LDS_MESH_MAP_COUNT; k++) {
        wire_slot w;
        slot_to_wire(&mat->maps[k], &w);
        if ((st = put(out, w.ints, sizeof(w.ints))) == LDS_OK)
            st = put(out, w.floats, sizeof(w.floats));
    }
    return st == LDS_OK ? put_text(out, mat->extensions) : st;
}

lds_status lds_sandbox_encode_model(const lds_mesh_model *m, lds_buf *out)
{
    lds_status st = LDS_OK;
    uint32_t flags = 0;
    for (unsigned a = 0; a < LDS_MESH_ATTRIBUTE_COUNT; a++)
        flags |= lds_mesh_attribute_data(m, a) ? 1u << a : 0;
    size_t nv = m->vertex_count;
#define TRY(call)              \
    if ((st = (call)) != LDS_OK) \
        return st;
    TRY(put(out, magic, sizeof(magic)));
    TRY(put_u64(out, nv));
    TRY(put_u64(out, m->index_count));
    TRY(put_u64(out, m->submesh_count));
    TRY(put_u64(out, m->material_count));
    TRY(put_u64(out, m->texture_count));
    TRY(put_u64(out, m->warning_count));
    TRY(put_u32(out, flags));
    TRY(put(out, m->positions, nv * 3 * sizeof(float)));
    for (unsigned a = 0; a < LDS_MESH_ATTRIBUTE_COUNT; a++)
        if (lds_mesh_attribute_data(m, a))
            TRY(put(out, lds_mesh_attribute_data(m, a), nv * lds_mesh_attributes[a].width * sizeof(float)));
    TRY(put(out, m->indices, m->index_count * sizeof(uint32_t)));
    for (size_t i = 0; i < m->submesh_count; i++) {
        const lds_mesh_submesh *s = &m->submeshes[i];
        uint32_t v[6] = {s->vertex_offset, s->vertex_count, s->index_offset, s->index_count, s->material,
                         s->primitive};
        TRY(put(out, v, sizeof(v)));
    }
    for (size_t i = 0; i < m->material_count; i++)
        TRY(put_material(out, &m->materials[i]));
    for (size_t i = 0; i < m->texture_count; i++) {
        const lds_mesh_texture *t = &m->textures[i];
        int32_t wh[2] = {t->width, t->height};
        TRY(put_string(out, t->name));
        TRY(put_string(out, t->mime));
        TRY(put_u64(out, t->data ? (uint64_t)t->size : NULL_BLOB));
        if (t->data)
            TRY(put(out, t->data, t->size));
        TRY(put(out, wh, sizeof(wh)));
    }
    for (size_t i = 0; i < m->warning_count; i++)
        TRY(put_string(out, m->warnings[i]));
    TRY(put_text(out, m->scene));
#undef TRY
    return LDS_OK;
}

/* ---- decoding ---- */

typedef struct reader {
    const unsigned char *p;
    size_t left;
} reader;

static int take(reader *r, void *dst, size_t size)
{
    if (size > r->left)
        return -1;
    if (size)
        memcpy(dst, r->p, size);
    r->p += size;
    r->left -= size;
    return 0;
}

/* Allocates and fills count*elem bytes, only if the input holds them. */
static int take_array(reader *r, uint64_t count, size_t elem, void **out)
{
    *out = NULL;
    if (count == 0)
        return 0;
    if (count > r->left / elem)
        return -1;
    size_t bytes = (size_t)count * elem;
    void *p = malloc(bytes);
    if (p == NULL || take(r, p, bytes) != 0) {
        free(p);
        return -1;
    }
    *out = p;
    return 0;
}

static int take_string(reader *r, char **out)
{
    uint32_t n;
    *out = NULL;
    if (take(r, &n, sizeof(n)) != 0)
        return -1;
    if (n == NULL_STRING)
        return 0;
    if (n > NAME_MAX_BYTES || n > r->left || memchr(r->p, '\0', n) != NULL)
        return -1;
    char *s = malloc((size_t)n + 1);
    if (s == NULL)
        return -1;
    memcpy(s, r->p, n);
    s[n] = '\0';
    r->p += n;
    r->left -= n;
    *out = s;
    return 0;
}

/* A blob of text (put_text): *out is NULL or a malloc'd NUL-terminated copy. */
static int take_text(reader *r, char **out)
{
    uint64_t n;
    *out = NULL;
    if (take(r, &n, 8))
        return -1;
    if (n == NULL_BLOB)
        return 0;
    if (n > r->left || memchr(r->p, '\0', (size_t)n) != NULL || (*out = malloc((size_t)n + 1)) == NULL)
        return -1;
    memcpy(*out, r->p, (size_t)n);
    (*out)[n] = '\0';
    r->p += n;
    r->left -= (size_t)n;
    return 0;
}

static int take_material(reader *r, lds_mesh_material *mat)
{
    float f[11];
    uint32_t flags[2];
    lds_mesh_material_init(mat);
    if (take_string(r, &mat->name) || take(r, f, sizeof(f)) || take(r, flags, sizeof(flags)))
        return -1;
    memcpy(mat->base_color, f, 4 * sizeof(float));
    mat->metallic = f[4], mat->roughness = f[5];
    memcpy(mat->emissive, f + 6, 3 * sizeof(float));
    mat->emissive_strength = f[9], mat->alpha_cutoff = f[10];
    if (flags[0] > LDS_MESH_ALPHA_BLEND || flags[1] > 1)
        return -1;
    mat->alpha_mode = (lds_mesh_alpha_mode)flags[0];
    mat->double_sided = (int)flags[1];
    for (int k = 0; k < LDS_MESH_MAP_COUNT; k++) {
        wire_slot w;
        if (take(r, w.ints, sizeof(w.ints)) || take(r, w.floats, sizeof(w.floats)))
            return -1;
        slot_from_wire(&w, &mat->maps[k]);
    }
    return take_text(r, &mat->extensions);
}

lds_status lds_sandbox_decode_model(const char *name, const unsigned char *data, size_t size, lds_mesh_model **out,
                                    lds_error *err)
{
    *out = NULL;
    reader r = {data, size};
    char head[8];
    uint64_t nv, ni, ns, nm, nt, nw;
    uint32_t flags;
    if (take(&r, head, sizeof(head)) != 0 || memcmp(head, magic, sizeof(magic)) != 0)
        return lds_error_set(err, LDS_EFORMAT, "%s: the parser returned a malformed model (bad header)", name);
    if (take(&r, &nv, 8) || take(&r, &ni, 8) || take(&r, &ns, 8) || take(&r, &nm, 8) || take(&r, &nt, 8) ||
        take(&r, &nw, 8) || take(&r, &flags, 4) || (flags >> LDS_MESH_ATTRIBUTE_COUNT) != 0)
        return lds_error_set(err, LDS_EFORMAT, "%s: the parser returned a malformed model (bad counts)", name);
    /* Every element costs at least one byte on the wire, so these bounds keep the calloc's below
     * proportional to the message. */
    if (nv > r.left / 12 || ni > r.left / 4 || ns > r.left / 24 || nm > r.left / 344 || nt > r.left / 24 ||
        nw > r.left / 4)
        return lds_error_set(err, LDS_EFORMAT, "%s: the parser returned a malformed model (counts beyond its size)",
                             name);
    lds_mesh_model *m = lds_mesh_model_create();
    if (m == NULL)
        return lds_error_set(err, LDS_ENOMEM, "%s: out of memory reading the parsed model", name);
    int bad = 0;
    m->vertex_count = (size_t)nv;
    m->index_count = (size_t)ni;
    bad |= take_array(&r, nv, 3 * sizeof(float), (void **)&m->positions);
    for (unsigned a = 0; a < LDS_MESH_ATTRIBUTE_COUNT; a++)
        if (!bad && (flags & (1u << a)))
            bad |= take_array(&r, nv, lds_mesh_attributes[a].width * sizeof(float),
                              (void **)lds_mesh_attribute_slot(m, a));
    if (!bad)
        bad |= take_array(&r, ni, sizeof(uint32_t), (void **)&m->indices);
    if (!bad && ns) {
        m->submeshes = calloc((size_t)ns, sizeof(lds_mesh_submesh));
        bad |= m->submeshes == NULL;
        for (uint64_t i = 0; !bad && i < ns; i++) {
            uint32_t v[6];
            bad |= take(&r, v, sizeof(v));
            lds_mesh_submesh *s = &m->submeshes[i];
            s->vertex_offset = v[0], s->vertex_count = v[1], s->index_offset = v[2], s->index_count = v[3];
            s->material = v[4], s->primitive = v[5];
            m->submesh_count = (size_t)i + 1;
        }
    }
    if (!bad && nm) {
        m->materials = calloc((size_t)nm, sizeof(lds_mesh_material));
        bad |= m->materials == NULL;
        for (uint64_t i = 0; !bad && i < nm; i++) {
            m->material_count = (size_t)i + 1;
            bad |= take_material(&r, &m->materials[i]);
        }
    }
    if (!bad && nt) {
        m->textures = calloc((size_t)nt, sizeof(lds_mesh_texture));
        bad |= m->textures == NULL;
        for (uint64_t i = 0; !bad && i < nt; i++) {
            lds_mesh_texture *t = &m->textures[i];
            char *mime = NULL;
            uint64_t blob = NULL_BLOB;
            int32_t wh[2] = {0, 0};
            m->texture_count = (size_t)i + 1;
            bad |= take_string(&r, &t->name) || take_string(&r, &mime) || take(&r, &blob, 8);
            if (!bad && mime) {
                if (strlen(mime) >= sizeof(t->mime))
                    bad = 1;
                else
                    strcpy(t->mime, mime);
            }
            free(mime);
            if (!bad && blob != NULL_BLOB) {
                if (blob > r.left) {
                    bad = 1;
                } else {
                    t->data = malloc(blob ? (size_t)blob : 1);
                    bad |= t->data == NULL || take(&r, t->data, (size_t)blob);
                    t->size = (size_t)blob;
                }
            }
            bad |= take(&r, wh, sizeof(wh));
            t->width = wh[0], t->height = wh[1];
        }
    }
    if (!bad && nw) {
        m->warnings = calloc((size_t)nw, sizeof(char *));
        bad |= m->warnings == NULL;
        for (uint64_t i = 0; !bad && i < nw; i++) {
            m->warning_count = (size_t)i + 1;
            bad |= take_string(&r, &m->warnings[i]) || m->warnings[i] == NULL;
        }
    }
    if (!bad)
        bad |= take_text(&r, &m->scene);
    if (!bad && r.left != 0)
        bad = 1;
    if (bad) {
        lds_mesh_model_destroy(m);
        return lds_error_set(err, LDS_EFORMAT, "%s: the parser returned a malformed model", name);
    }
    *out = m;
    return LDS_OK;
}
