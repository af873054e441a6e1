/*
 * report.c: the quality report of a (cleaned) model, manifest.json's "report" (DESIGN.md 6.2).
 *
 * Topology is computed on positions welded across the whole model by their bits (the hash pass of
 * weld.c), so a UV or normal seam, or a material boundary between submeshes, is not a boundary:
 *  - edges: every triangle's three undirected edges, bucketed by their smaller endpoint (a counting
 *    sort, linear); an edge used once is a boundary edge, more than twice non-manifold, and an edge
 *    used twice in the same direction marks inconsistently oriented neighbours;
 *  - components: union-find (path halving, union by size) over the welded positions, through the
 *    triangles' edges; point clouds do not count;
 *  - volume: only for a closed, consistently oriented surface (no boundary edge, no non-manifold
 *    edge): the divergence theorem, sum over triangles of a . (b x c) / 6 taken relative to the
 *    bbox centre for precision, absolute value.
 * Everything is linear in the input; sums are in double.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_internal.h"

#define PREFETCH_AHEAD 8             /* triangles */
#define REPORT_MAX_ISSUES 256      /* cap on issues one report holds */
#define REPORT_MAX_WARNINGS 64     /* import warnings carried into issues, the rest summarised */
#define REPORT_MANY_COMPONENTS 100 /* components from which the report says so */

lds_status lds_mesh_report_add_issue(lds_mesh_report *report, const char *code, const char *severity,
                                     const char *fmt, ...)
{
    if (report->issue_count >= REPORT_MAX_ISSUES)
        return LDS_ELIMIT;
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    lds_mesh_issue *issues = realloc(report->issues, (report->issue_count + 1) * sizeof(lds_mesh_issue));
    if (issues == NULL)
        return LDS_ENOMEM;
    report->issues = issues;
    lds_mesh_issue *issue = &issues[report->issue_count];
    memset(issue, 0, sizeof(*issue));
    snprintf(issue->code, sizeof(issue->code), "%s", code);
    snprintf(issue->severity, sizeof(issue->severity), "%s", severity);
    if ((issue->message = strdup(text)) == NULL)
        return LDS_ENOMEM;
    report->issue_count++;
    return LDS_OK;
}

void lds_mesh_report_cleanup(lds_mesh_report *report)
{
    if (report == NULL)
        return;
    for (size_t i = 0; i < report->issue_count; i++)
        free(report->issues[i].message);
    free(report->issues);
    for (size_t i = 0; i < report->texture_count; i++)
        free(report->textures[i].name);
    free(report->textures);
    memset(report, 0, sizeof(*report));
}

static uint32_t find_root(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

static void unite(uint32_t *parent, uint32_t *size, uint32_t a, uint32_t b)
{
    a = find_root(parent, a);
    b = find_root(parent, b);
    if (a == b)
        return;
    if (size[a] < size[b]) {
        uint32_t t = a;
        a = b;
        b = t;
    }
    parent[b] = a;
    size[a] += size[b];
}

typedef struct edge_stats {
    uint64_t boundary, non_manifold, misoriented;
} edge_stats;

/*
 * Counts the edges of triangles given as welded ids (3 per triangle, degenerate ones left out).
 * Each undirected edge (lo, hi) is stored in lo's bucket as hi << 1 | (1 when it runs hi -> lo).
 */
static int count_edges(const uint32_t *tris, size_t tri_count, size_t unique, edge_stats *stats)
{
    size_t *start = calloc(unique + 1, sizeof(size_t));
    uint64_t *entries = malloc((tri_count ? tri_count * 3 : 1) * sizeof(uint64_t));
    if (start == NULL || entries == NULL) {
        free(start);
        free(entries);
        return -1;
    }
    for (size_t t = 0; t < tri_count; t++) {
        const uint32_t *c = tris + t * 3;
        for (int k = 0; k < 3; k++) {
            uint32_t a = c[k], b = c[(k + 1) % 3];
            start[(a < b ? a : b) + 1]++;
        }
    }
    for (size_t v = 0; v < unique; v++)
        start[v + 1] += start[v];
    for (size_t t = 0; t < tri_count; t++) {
        const uint32_t *c = tris + t * 3;
        for (int k = 0; k < 3; k++) {
            uint32_t a = c[k], b = c[(k + 1) % 3];
            if (a < b)
                entries[start[a]++] = (uint64_t)b << 1;
            else
                entries[start[b]++] = ((uint64_t)a << 1) | 1;
        }
    }
    /* start[v] is now the end of v's bucket, which is where v + 1's begins. */
    size_t begin = 0;
    for (size_t v = 0; v < unique; v++) {
        size_t end = start[v], n = end - begin;
        uint64_t *e = entries + begin;
        lds_mesh_sort_u64(e, n);
        for (size_t i = 0; i < n;) {
            size_t j = i + 1, reversed = e[i] & 1;
            while (j < n && (e[j] >> 1) == (e[i] >> 1))
                reversed += e[j++] & 1;
            size_t uses = j - i;
            if (uses == 1)
                stats->boundary++;
            else if (uses > 2)
                stats->non_manifold++;
            else if (reversed != 1)
                stats->misoriented++;
            i = j;
        }
        begin = end;
    }
    free(start);
    free(entries);
    return 0;
}

static int mentions_texture(const char *text)
{
    static const char word[] = "texture";
    for (const char *p = text; *p; p++) {
        size_t i = 0;
        while (word[i] && tolower((unsigned char)p[i]) == word[i])
            i++;
        if (word[i] == '\0')
            return 1;
    }
    return 0;
}

lds_status lds_mesh_report_compute(const lds_mesh_model *m, lds_mesh_report *r, lds_error *err)
{
    lds_status st = LDS_OK;
    uint8_t *take = NULL, *referenced = NULL;
    uint32_t *ids = NULL, *tris = NULL, *parent = NULL, *size = NULL;
    uint64_t misoriented = 0;

    r->triangles = r->vertices = r->points = 0;
    r->meshes = m->submesh_count;
    r->materials = m->material_count;
    r->has_normals = m->normals != NULL;
    r->has_uvs = m->uvs != NULL;
    r->has_colors = m->colors != NULL;
    r->surface_area = r->volume = r->diagonal = 0;
    r->has_volume = 0;
    r->components = r->boundary_edges = r->non_manifold_edges = 0;
    memset(r->bbox_min, 0, sizeof(r->bbox_min));
    memset(r->bbox_max, 0, sizeof(r->bbox_max));

    take = calloc(m->vertex_count ? m->vertex_count : 1, 1);
    if (take == NULL)
        goto nomem;
    size_t take_count = 0;
    float lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (size_t s = 0; s < m->submesh_count; s++) {
        const lds_mesh_submesh *sm = &m->submeshes[s];
        if ((uint64_t)sm->vertex_offset + sm->vertex_count > m->vertex_count ||
            (uint64_t)sm->index_offset + sm->index_count > m->index_count || sm->index_count % 3 != 0) {
            st = lds_error_set(err, LDS_EINVAL, "report: submesh %zu is out of range", s);
            goto out;
        }
        for (uint32_t i = 0; i < sm->index_count; i++) {
            uint32_t v = m->indices[sm->index_offset + i];
            if (v < sm->vertex_offset || v - sm->vertex_offset >= sm->vertex_count) {
                st = lds_error_set(err, LDS_EINVAL, "report: index %u uses vertex %u outside submesh %zu",
                                   sm->index_offset + i, v, s);
                goto out;
            }
        }
        for (uint32_t v = sm->vertex_offset; v < sm->vertex_offset + sm->vertex_count; v++) {
            const float *p = m->positions + (size_t)v * 3;
            for (int k = 0; k < 3; k++) {
                lo[k] = p[k] < lo[k] ? p[k] : lo[k];
                hi[k] = p[k] > hi[k] ? p[k] : hi[k];
            }
        }
        if (sm->index_count == 0) {
            r->points += sm->vertex_count;
            continue;
        }
        r->triangles += sm->index_count / 3;
        r->vertices += sm->vertex_count;
        for (uint32_t v = sm->vertex_offset; v < sm->vertex_offset + sm->vertex_count; v++)
            if (!take[v]) {
                take[v] = 1;
                take_count++;
            }
    }
    if (r->triangles + r->points > 0) {
        double d2 = 0;
        for (int k = 0; k < 3; k++) {
            r->bbox_min[k] = lo[k];
            r->bbox_max[k] = hi[k];
            d2 += ((double)hi[k] - lo[k]) * ((double)hi[k] - lo[k]);
        }
        r->diagonal = sqrt(d2);
    }

    if (r->triangles > 0) {
        ids = malloc(m->vertex_count * sizeof(uint32_t));
        tris = malloc(r->triangles * 3 * sizeof(uint32_t));
        if (ids == NULL || tris == NULL)
            goto nomem;
        size_t unique = lds_mesh_weld_positions(m, take, take_count, ids);
        if (unique == SIZE_MAX)
            goto nomem;
        parent = malloc(unique * sizeof(uint32_t));
        size = malloc(unique * sizeof(uint32_t));
        referenced = calloc(unique, 1);
        if (parent == NULL || size == NULL || referenced == NULL)
            goto nomem;
        for (size_t i = 0; i < unique; i++) {
            parent[i] = (uint32_t)i;
            size[i] = 1;
        }
        double centre[3], area = 0, volume = 0;
        for (int k = 0; k < 3; k++)
            centre[k] = 0.5 * ((double)lo[k] + hi[k]);
        size_t kept = 0;
        for (size_t s = 0; s < m->submesh_count; s++) {
            const lds_mesh_submesh *sm = &m->submeshes[s];
            if (sm->index_count == 0)
                continue;
            const uint32_t *idx = m->indices + sm->index_offset;
            for (uint32_t t = 0; t + 2 < sm->index_count; t += 3) {
                /* Faces in shuffled order miss the cache at every step: prefetch the ids and
                 * positions two strides ahead, the union-find entries they lead to one ahead. */
                if (t + 6 * PREFETCH_AHEAD + 2 < sm->index_count)
                    for (int k = 0; k < 3; k++) {
                        uint32_t w = idx[t + 6 * PREFETCH_AHEAD + k];
                        __builtin_prefetch(&ids[w]);
                        __builtin_prefetch(m->positions + (size_t)w * 3);
                    }
                if (t + 3 * PREFETCH_AHEAD + 2 < sm->index_count)
                    for (int k = 0; k < 3; k++)
                        __builtin_prefetch(&parent[ids[idx[t + 3 * PREFETCH_AHEAD + k]]]);
                uint32_t a = ids[idx[t]], b = ids[idx[t + 1]], c = ids[idx[t + 2]];
                unite(parent, size, a, b);
                unite(parent, size, a, c);
                referenced[a] = referenced[b] = referenced[c] = 1;
                if (a == b || b == c || a == c)
                    continue;
                tris[kept * 3] = a;
                tris[kept * 3 + 1] = b;
                tris[kept * 3 + 2] = c;
                kept++;
                const float *p0 = m->positions + (size_t)idx[t] * 3, *p1 = m->positions + (size_t)idx[t + 1] * 3,
                            *p2 = m->positions + (size_t)idx[t + 2] * 3;
                double ax = p0[0] - centre[0], ay = p0[1] - centre[1], az = p0[2] - centre[2];
                double bx = p1[0] - centre[0], by = p1[1] - centre[1], bz = p1[2] - centre[2];
                double cx = p2[0] - centre[0], cy = p2[1] - centre[1], cz = p2[2] - centre[2];
                double ux = bx - ax, uy = by - ay, uz = bz - az, vx = cx - ax, vy = cy - ay, vz = cz - az;
                double nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
                area += 0.5 * sqrt(nx * nx + ny * ny + nz * nz);
                volume += (ax * (by * cz - bz * cy) + ay * (bz * cx - bx * cz) + az * (bx * cy - by * cx)) / 6.0;
            }
        }
        r->surface_area = area;
        /* Components: roots among the positions some triangle uses. */
        for (size_t i = 0; i < unique; i++)
            r->components += parent[i] == i && referenced[i];
        edge_stats stats = {0, 0, 0};
        if (count_edges(tris, kept, unique, &stats) != 0)
            goto nomem;
        r->boundary_edges = stats.boundary;
        r->non_manifold_edges = stats.non_manifold;
        if (kept > 0 && stats.boundary == 0 && stats.non_manifold == 0 && stats.misoriented == 0) {
            r->has_volume = 1;
            r->volume = fabs(volume);
        }
        misoriented = stats.misoriented;
    }

    /* Textures. */
    if (m->texture_count) {
        r->textures = calloc(m->texture_count, sizeof(*r->textures));
        if (r->textures == NULL)
            goto nomem;
        r->texture_count = m->texture_count;
        for (size_t i = 0; i < m->texture_count; i++) {
            const lds_mesh_texture *t = &m->textures[i];
            r->textures[i].name = strdup(t->name ? t->name : "");
            if (r->textures[i].name == NULL)
                goto nomem;
            r->textures[i].width = t->width;
            r->textures[i].height = t->height;
            r->textures[i].bytes = t->data ? t->size : 0;
            r->textures[i].missing = t->data == NULL;
        }
    }

    /* Issues, most severe first. */
    if (r->triangles == 0 && r->points == 0)
        lds_mesh_report_add_issue(r, "no_geometry", "error", "the model has no triangles and no points");
    else if (r->triangles == 0)
        lds_mesh_report_add_issue(r, "point_cloud", "info",
                                  "point cloud of %llu points: no surface, so no area, volume or edges",
                                  (unsigned long long)r->points);
    if (r->non_manifold_edges)
        lds_mesh_report_add_issue(r, "non_manifold", "warning", "%llu edges are shared by more than two triangles",
                                  (unsigned long long)r->non_manifold_edges);
    if (misoriented)
        lds_mesh_report_add_issue(r, "inconsistent_winding", "warning",
                                  "%llu edges join triangles of opposite orientation (flipped faces)",
                                  (unsigned long long)misoriented);
    size_t shown = 0;
    for (size_t i = 0; i < m->warning_count; i++) {
        if (shown == REPORT_MAX_WARNINGS) {
            lds_mesh_report_add_issue(r, "import_warning", "warning", "and %zu more import warnings",
                                      m->warning_count - i);
            break;
        }
        lds_mesh_report_add_issue(r, mentions_texture(m->warnings[i]) ? "missing_texture" : "import_warning",
                                  "warning", "%s", m->warnings[i]);
        shown++;
    }
    for (size_t i = 0; i < m->texture_count; i++) {
        const char *name = m->textures[i].name ? m->textures[i].name : "";
        if (m->textures[i].data != NULL)
            continue;
        int told = 0;
        for (size_t w = 0; w < m->warning_count && !told; w++)
            told = name[0] && strstr(m->warnings[w], name) != NULL;
        if (!told)
            lds_mesh_report_add_issue(r, "missing_texture", "warning", "texture %s is missing", name);
    }
    if (r->boundary_edges)
        lds_mesh_report_add_issue(r, "open_boundary", "info",
                                  "%llu boundary edges: the surface is not closed, so it has no volume",
                                  (unsigned long long)r->boundary_edges);
    if (r->components >= REPORT_MANY_COMPONENTS)
        lds_mesh_report_add_issue(r, "many_components", "info", "%llu separate parts (connected components)",
                                  (unsigned long long)r->components);
    if (r->degenerate_triangles)
        lds_mesh_report_add_issue(r, "degenerate_triangles", "info",
                                  "removed %llu degenerate triangles (repeated vertex or zero area)",
                                  (unsigned long long)r->degenerate_triangles);
    if (r->duplicate_triangles)
        lds_mesh_report_add_issue(r, "duplicate_triangles", "info", "removed %llu duplicate triangles",
                                  (unsigned long long)r->duplicate_triangles);
    goto out;

nomem:
    st = lds_error_set(err, LDS_ENOMEM, "report: out of memory for %zu vertices", m->vertex_count);
out:
    free(take);
    free(referenced);
    free(ids);
    free(tris);
    free(parent);
    free(size);
    return st;
}
