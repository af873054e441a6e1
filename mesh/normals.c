/* normals.c: vertex normals for a model that has none (mesh.h lds_mesh_generate_normals).
 *
 * Each corner's normal is the area-weighted sum of the face normals (the cross products, whose
 * length is twice the area) of the triangles around its position, counting only those within the
 * crease angle of the corner's own triangle: smooth across gentle bends, split at sharp edges, as
 * 3D packages do with their "auto smooth" angle (Max, Blender; Thürmer & Wüthrich 1998 discuss
 * the weighting). Positions are welded first (weld.c), so seams in UVs or materials do not split
 * the smoothing. Corners of one vertex whose normals differ become separate vertices, kept inside
 * their submesh's range. */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mesh.h"
#include "mesh_internal.h"

typedef struct normal_scratch {
    uint32_t *ids;       /* welded position of each vertex */
    uint32_t *start;     /* CSR: triangles around position p are tris[start[p] .. start[p+1]) */
    uint32_t *tris;
    double *face;        /* 3 per triangle: cross product (2 x area, unnormalised) */
    float *corner;       /* 3 per index: the corner's normal */
    uint32_t *head;      /* per old vertex: first new vertex made from it, or ~0 */
    uint32_t *next;      /* per new vertex: the next one from the same old vertex */
    uint32_t *origin;    /* per new vertex: its old vertex */
    float *new_normals;  /* 3 per new vertex */
    uint32_t *indices;   /* the rewritten index buffer */
    lds_mesh_submesh *ranges; /* the rewritten submeshes */
} normal_scratch;

static void scratch_free(normal_scratch *s)
{
    free(s->ids), free(s->start), free(s->tris), free(s->face), free(s->corner);
    free(s->head), free(s->next), free(s->origin), free(s->new_normals), free(s->indices), free(s->ranges);
}

/* 1-2: welded positions, face normals and the triangles around each position. */
static int build_adjacency(const lds_mesh_model *m, normal_scratch *s, size_t *positions)
{
    size_t nv = m->vertex_count, nt = m->index_count / 3;
    uint8_t *take = malloc(nv ? nv : 1);
    s->ids = malloc((nv ? nv : 1) * sizeof(uint32_t));
    s->face = malloc((nt ? nt : 1) * 3 * sizeof(double));
    s->tris = malloc((nt ? nt : 1) * 3 * sizeof(uint32_t));
    if (take == NULL || s->ids == NULL || s->face == NULL || s->tris == NULL) {
        free(take);
        return -1;
    }
    memset(take, 1, nv);
    size_t np = lds_mesh_weld_positions(m, take, nv, s->ids);
    free(take);
    if (np == SIZE_MAX || (s->start = calloc(np + 1, sizeof(uint32_t))) == NULL)
        return -1;
    for (size_t t = 0; t < nt; t++) {
        const float *a = m->positions + 3 * (size_t)m->indices[3 * t], *b = m->positions + 3 * (size_t)m->indices[3 * t + 1],
                    *c = m->positions + 3 * (size_t)m->indices[3 * t + 2];
        double u[3] = {(double)b[0] - a[0], (double)b[1] - a[1], (double)b[2] - a[2]};
        double v[3] = {(double)c[0] - a[0], (double)c[1] - a[1], (double)c[2] - a[2]};
        double *f = s->face + 3 * t;
        f[0] = u[1] * v[2] - u[2] * v[1], f[1] = u[2] * v[0] - u[0] * v[2], f[2] = u[0] * v[1] - u[1] * v[0];
        for (int k = 0; k < 3; k++)
            s->start[s->ids[m->indices[3 * t + k]] + 1]++;
    }
    for (size_t p = 0; p < np; p++)
        s->start[p + 1] += s->start[p];
    uint32_t *fill = malloc((np ? np : 1) * sizeof(uint32_t));
    if (fill == NULL)
        return -1;
    memcpy(fill, s->start, np * sizeof(uint32_t));
    for (size_t t = 0; t < nt; t++)
        for (int k = 0; k < 3; k++)
            s->tris[fill[s->ids[m->indices[3 * t + k]]]++] = (uint32_t)t;
    free(fill);
    *positions = np;
    return 0;
}

static double length3(const double *v)
{
    return sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
}

/* 3: each corner's normal from the faces around its position within the crease angle. */
static void corner_normals(const lds_mesh_model *m, normal_scratch *s, double cos_crease)
{
    size_t nt = m->index_count / 3;
    for (size_t t = 0; t < nt; t++) {
        const double *ft = s->face + 3 * t;
        double lt = length3(ft);
        for (int k = 0; k < 3; k++) {
            uint32_t p = s->ids[m->indices[3 * t + k]];
            double sum[3] = {0, 0, 0};
            for (uint32_t i = s->start[p]; i < s->start[p + 1]; i++) {
                const double *fo = s->face + 3 * (size_t)s->tris[i];
                double lo = length3(fo);
                if (lt > 0 && lo > 0 && (ft[0] * fo[0] + ft[1] * fo[1] + ft[2] * fo[2]) < cos_crease * lt * lo)
                    continue;
                sum[0] += fo[0], sum[1] += fo[1], sum[2] += fo[2];
            }
            double l = length3(sum);
            float *n = s->corner + 3 * (3 * t + k);
            if (l > 0)
                n[0] = (float)(sum[0] / l), n[1] = (float)(sum[1] / l), n[2] = (float)(sum[2] / l);
            else
                n[0] = 0, n[1] = 0, n[2] = 1;
        }
    }
}

/* 4: one new vertex per distinct (old vertex, normal), submesh by submesh, into s->indices and
 * s->ranges. */
static size_t split_vertices(const lds_mesh_model *m, normal_scratch *s)
{
    size_t count = 0;
    memcpy(s->ranges, m->submeshes, m->submesh_count * sizeof(lds_mesh_submesh));
    for (size_t sm = 0; sm < m->submesh_count; sm++) {
        lds_mesh_submesh *r = &s->ranges[sm];
        size_t first = count;
        for (uint32_t i = r->index_offset; i < r->index_offset + r->index_count; i++) {
            uint32_t v = m->indices[i], w;
            const float *n = s->corner + 3 * (size_t)i;
            for (w = s->head[v]; w != ~0u; w = s->next[w])
                if (memcmp(s->new_normals + 3 * (size_t)w, n, 3 * sizeof(float)) == 0)
                    break;
            if (w == ~0u) {
                w = (uint32_t)count++;
                s->origin[w] = v;
                memcpy(s->new_normals + 3 * (size_t)w, n, 3 * sizeof(float));
                s->next[w] = s->head[v];
                s->head[v] = w;
            }
            s->indices[i] = w;
        }
        r->vertex_offset = (uint32_t)first;
        r->vertex_count = (uint32_t)(count - first);
    }
    return count;
}

lds_status lds_mesh_generate_normals(lds_mesh_model *m, double crease_degrees, size_t *added, lds_error *err)
{
    assert(m != NULL && m->normals == NULL);
    *added = 0;
    if (m->index_count == 0)
        return LDS_OK;
    for (size_t sm = 0; sm < m->submesh_count; sm++)
        if (m->submeshes[sm].index_count == 0)
            return LDS_OK; /* points have no surface to take a normal from */
    normal_scratch s;
    memset(&s, 0, sizeof(s));
    lds_mesh_model *tmp = NULL;
    lds_status st = LDS_ENOMEM;
    size_t positions, nv = m->vertex_count, ni = m->index_count;
    if (build_adjacency(m, &s, &positions) != 0 || (s.corner = malloc(ni * 3 * sizeof(float))) == NULL ||
        (s.head = malloc(nv * sizeof(uint32_t))) == NULL || (s.next = malloc(ni * sizeof(uint32_t))) == NULL ||
        (s.origin = malloc(ni * sizeof(uint32_t))) == NULL ||
        (s.new_normals = malloc(ni * 3 * sizeof(float))) == NULL ||
        (s.indices = malloc(ni * sizeof(uint32_t))) == NULL ||
        (s.ranges = malloc(m->submesh_count * sizeof(lds_mesh_submesh))) == NULL)
        goto out;
    memset(s.head, 0xff, nv * sizeof(uint32_t));
    corner_normals(m, &s, cos(crease_degrees * M_PI / 180.0));
    size_t count = split_vertices(m, &s);
    if ((tmp = lds_mesh_model_create()) == NULL || lds_mesh_model_alloc_like(tmp, m, count, 0) != LDS_OK ||
        lds_mesh_model_alloc_attribute(tmp, LDS_MESH_ATTR_NORMALS) != LDS_OK)
        goto out;
    for (size_t w = 0; w < count; w++) {
        memcpy(tmp->positions + 3 * w, m->positions + 3 * (size_t)s.origin[w], 3 * sizeof(float));
        for (unsigned a = 0; a < LDS_MESH_ATTRIBUTE_COUNT; a++) {
            const float *src = lds_mesh_attribute_data(m, a);
            unsigned width = lds_mesh_attributes[a].width;
            if (src)
                memcpy(lds_mesh_attribute_data(tmp, a) + width * w, src + width * (size_t)s.origin[w],
                       width * sizeof(float));
        }
        memcpy(tmp->normals + 3 * w, s.new_normals + 3 * w, 3 * sizeof(float));
    }
    free(tmp->indices);
    free(tmp->submeshes);
    tmp->indices = s.indices, tmp->index_count = ni;
    tmp->submeshes = s.ranges, tmp->submesh_count = m->submesh_count;
    s.indices = NULL, s.ranges = NULL;
    lds_mesh_model_take_geometry(m, tmp);
    *added = count > nv ? count - nv : 0;
    st = LDS_OK;
out:
    scratch_free(&s);
    lds_mesh_model_destroy(tmp);
    if (st != LDS_OK)
        return lds_error_set(err, st, "normals: out of memory for %zu vertices", nv);
    return LDS_OK;
}
