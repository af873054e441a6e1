/* test_clean.c: lds_mesh_clean and lds_mesh_report_compute on synthetic meshes whose answers are
 * known: welding, degenerate and duplicate triangles, submesh ranges, area, volume, boundary and
 * non-manifold edges, components, attributes, textures and issues. */
#include <math.h>

#include "mesh.h"
#include "testlib.h"

/* Cube [-1,1]^3, outward winding (counter-clockwise seen from outside). */
static const float cube_corners[8][3] = {{-1, -1, -1}, {1, -1, -1}, {1, 1, -1}, {-1, 1, -1},
                                         {-1, -1, 1},  {1, -1, 1},  {1, 1, 1},  {-1, 1, 1}};
static const uint32_t cube_faces[12][3] = {{0, 2, 1}, {0, 3, 2}, {4, 5, 6}, {4, 6, 7}, {0, 1, 5}, {0, 5, 4},
                                           {2, 3, 7}, {2, 7, 6}, {1, 2, 6}, {1, 6, 5}, {0, 4, 7}, {0, 7, 3}};

static lds_mesh_model *model_new(size_t vertices, size_t indices, int normals, int uvs)
{
    lds_mesh_model *m = lds_mesh_model_create();
    LDS_CHECK(m != NULL);
    LDS_CHECK_INT(lds_mesh_model_alloc(m, vertices, indices, normals, uvs, 0), ==, LDS_OK);
    m->material_count = 1;
    m->materials = calloc(1, sizeof(lds_mesh_material));
    lds_mesh_material_init(&m->materials[0]);
    m->submesh_count = 1;
    m->submeshes = calloc(1, sizeof(lds_mesh_submesh));
    m->submeshes[0].vertex_count = (uint32_t)vertices;
    m->submeshes[0].index_count = (uint32_t)indices;
    return m;
}

/* Indexed cube: 8 vertices, 12 triangles, offset by (dx, 0, 0). */
static void put_cube(lds_mesh_model *m, size_t vertex_base, size_t index_base, float dx)
{
    for (int v = 0; v < 8; v++) {
        m->positions[(vertex_base + v) * 3] = cube_corners[v][0] + dx;
        m->positions[(vertex_base + v) * 3 + 1] = cube_corners[v][1];
        m->positions[(vertex_base + v) * 3 + 2] = cube_corners[v][2];
    }
    for (int t = 0; t < 12; t++)
        for (int k = 0; k < 3; k++)
            m->indices[index_base + t * 3 + k] = (uint32_t)vertex_base + cube_faces[t][k];
}

/* STL-style cube: 36 vertices, each triangle its own three, with per-face normals when asked. */
static lds_mesh_model *split_cube(int normals)
{
    lds_mesh_model *m = model_new(36, 36, normals, 0);
    for (int t = 0; t < 12; t++) {
        const float *a = cube_corners[cube_faces[t][0]], *b = cube_corners[cube_faces[t][1]],
                    *c = cube_corners[cube_faces[t][2]];
        float n[3] = {(b[1] - a[1]) * (c[2] - a[2]) - (b[2] - a[2]) * (c[1] - a[1]),
                      (b[2] - a[2]) * (c[0] - a[0]) - (b[0] - a[0]) * (c[2] - a[2]),
                      (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])};
        for (int k = 0; k < 3; k++) {
            memcpy(m->positions + (t * 3 + k) * 3, cube_corners[cube_faces[t][k]], 3 * sizeof(float));
            if (normals)
                for (int j = 0; j < 3; j++)
                    m->normals[(t * 3 + k) * 3 + j] = n[j] / 4.0f;
            m->indices[t * 3 + k] = (uint32_t)(t * 3 + k);
        }
    }
    return m;
}

/* n x n quads in the unit square at z = 0: (n+1)^2 vertices, 2n^2 triangles. */
static lds_mesh_model *grid(int n)
{
    lds_mesh_model *m = model_new((size_t)(n + 1) * (n + 1), (size_t)n * n * 6, 0, 0);
    for (int y = 0; y <= n; y++)
        for (int x = 0; x <= n; x++) {
            float *p = m->positions + ((size_t)y * (n + 1) + x) * 3;
            p[0] = (float)x / n;
            p[1] = (float)y / n;
            p[2] = 0;
        }
    uint32_t *i = m->indices;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            uint32_t a = (uint32_t)(y * (n + 1) + x), b = a + 1, c = a + (uint32_t)n + 1, d = c + 1;
            *i++ = a, *i++ = b, *i++ = d;
            *i++ = a, *i++ = d, *i++ = c;
        }
    return m;
}

static int has_issue(const lds_mesh_report *r, const char *code, const char *severity)
{
    for (size_t i = 0; i < r->issue_count; i++)
        if (strcmp(r->issues[i].code, code) == 0 && (!severity || strcmp(r->issues[i].severity, severity) == 0))
            return 1;
    return 0;
}

static void clean_and_report(lds_mesh_model *m, lds_mesh_report *r)
{
    lds_error err;
    lds_error_clear(&err);
    memset(r, 0, sizeof(*r));
    LDS_CHECK_OK(lds_mesh_clean(m, r, &err), &err);
    LDS_CHECK_OK(lds_mesh_model_validate(m, "cleaned", &err), &err);
    LDS_CHECK_OK(lds_mesh_report_compute(m, r, &err), &err);
}

static void test_closed_cube(void)
{
    lds_mesh_model *m = model_new(8, 36, 0, 0);
    put_cube(m, 0, 0, 0);
    lds_mesh_report r;
    clean_and_report(m, &r);
    LDS_CHECK_INT(r.triangles, ==, 12);
    LDS_CHECK_INT(r.vertices, ==, 8);
    LDS_CHECK_INT(r.points, ==, 0);
    LDS_CHECK_INT(r.meshes, ==, 1);
    LDS_CHECK_INT(r.materials, ==, 1);
    LDS_CHECK(fabs(r.surface_area - 24.0) < 1e-9);
    LDS_CHECK(r.has_volume);
    LDS_CHECK(fabs(r.volume - 8.0) < 1e-9);
    LDS_CHECK(fabs(r.diagonal - sqrt(12.0)) < 1e-6);
    LDS_CHECK(r.bbox_min[0] == -1 && r.bbox_max[2] == 1);
    LDS_CHECK_INT(r.boundary_edges, ==, 0);
    LDS_CHECK_INT(r.non_manifold_edges, ==, 0);
    LDS_CHECK_INT(r.components, ==, 1);
    LDS_CHECK_INT(r.degenerate_triangles, ==, 0);
    LDS_CHECK_INT(r.duplicate_triangles, ==, 0);
    LDS_CHECK_INT(r.issue_count, ==, 0);
    LDS_CHECK(!r.has_normals && !r.has_uvs && !r.has_colors);
    lds_mesh_report_cleanup(&r);
    LDS_CHECK_INT(r.issue_count, ==, 0);
    lds_mesh_model_destroy(m);

    /* Inverted winding: still volume 8 (absolute value). */
    m = model_new(8, 36, 0, 0);
    put_cube(m, 0, 0, 0);
    for (int t = 0; t < 12; t++) {
        uint32_t s = m->indices[t * 3 + 1];
        m->indices[t * 3 + 1] = m->indices[t * 3 + 2];
        m->indices[t * 3 + 2] = s;
    }
    clean_and_report(m, &r);
    LDS_CHECK(r.has_volume && fabs(r.volume - 8.0) < 1e-9);
    lds_mesh_report_cleanup(&r);
    lds_mesh_model_destroy(m);
}

static void test_weld(void)
{
    /* STL-style: 36 vertices weld to 8. */
    lds_mesh_model *m = split_cube(0);
    lds_mesh_report r;
    clean_and_report(m, &r);
    LDS_CHECK_INT(m->vertex_count, ==, 8);
    LDS_CHECK_INT(m->index_count, ==, 36);
    LDS_CHECK_INT(r.vertices, ==, 8);
    LDS_CHECK(r.has_volume && fabs(r.volume - 8.0) < 1e-9);
    lds_mesh_report_cleanup(&r);
    lds_mesh_model_destroy(m);

    /* Per-face normals: 24 distinct vertices stay; the normal seams are not boundaries. */
    m = split_cube(1);
    clean_and_report(m, &r);
    LDS_CHECK_INT(m->vertex_count, ==, 24);
    LDS_CHECK_INT(r.triangles, ==, 12);
    LDS_CHECK_INT(r.boundary_edges, ==, 0);
    LDS_CHECK_INT(r.non_manifold_edges, ==, 0);
    LDS_CHECK_INT(r.components, ==, 1);
    LDS_CHECK(r.has_normals);
    LDS_CHECK(r.has_volume && fabs(r.volume - 8.0) < 1e-9);
    lds_mesh_report_cleanup(&r);
    lds_mesh_model_destroy(m);

    /* -0.0 and +0.0 weld; an unused vertex goes. */
    m = model_new(5, 3, 0, 0);
    float p[5][3] = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {-0.0f, -0.0f, 0}, {7, 7, 7}};
    memcpy(m->positions, p, sizeof(p));
    uint32_t idx[3] = {3, 1, 2};
    memcpy(m->indices, idx, sizeof(idx));
    clean_and_report(m, &r);
    LDS_CHECK_INT(m->vertex_count, ==, 3);
    LDS_CHECK_INT(r.boundary_edges, ==, 3);
    LDS_CHECK(!r.has_volume);
    LDS_CHECK(has_issue(&r, "open_boundary", "info"));
    uint32_t bits;
    memcpy(&bits, &m->positions[m->indices[0] * 3], 4);
    LDS_CHECK_INT(bits, ==, 0);
    lds_mesh_report_cleanup(&r);
    lds_mesh_model_destroy(m);
}

static void test_degenerate_and_duplicates(void)
{
    /* Cube + repeated-index triangle + collinear triangle on 3 extra vertices + a duplicate
     * (rotated) + the same triangle repeated exactly + a reversed twin (kept, non-manifold). */
    lds_mesh_model *m = model_new(11, 36 + 5 * 3, 0, 0);
    put_cube(m, 0, 0, 0);
    float extra[3][3] = {{5, 5, 5}, {6, 6, 6}, {7, 7, 7}};
    memcpy(m->positions + 8 * 3, extra, sizeof(extra));
    uint32_t more[5][3] = {{0, 0, 1}, {8, 9, 10}, {2, 1, 0}, {0, 2, 1}, {0, 1, 2}};
    memcpy(m->indices + 36, more, sizeof(more));
    lds_mesh_report r;
    clean_and_report(m, &r);
    LDS_CHECK_INT(r.degenerate_triangles, ==, 2);
    LDS_CHECK_INT(r.duplicate_triangles, ==, 2);
    LDS_CHECK_INT(r.triangles, ==, 13);
    LDS_CHECK_INT(r.vertices, ==, 8);
    LDS_CHECK_INT(r.non_manifold_edges, ==, 3);
    LDS_CHECK(!r.has_volume);
    LDS_CHECK(has_issue(&r, "non_manifold", "warning"));
    LDS_CHECK(has_issue(&r, "degenerate_triangles", "info"));
    LDS_CHECK(has_issue(&r, "duplicate_triangles", "info"));
    lds_mesh_report_cleanup(&r);
    lds_mesh_model_destroy(m);

    /* Two corners at the same position but different UVs: zero area, dropped. */
    m = model_new(4, 6, 0, 1);
    float p[4][3] = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {1, 0, 0}};
    memcpy(m->positions, p, sizeof(p));
    m->uvs[3 * 2] = 0.5f;
    uint32_t idx[6] = {0, 1, 2, 1, 3, 2};
    memcpy(m->indices, idx, sizeof(idx));
    clean_and_report(m, &r);
    LDS_CHECK_INT(r.degenerate_triangles, ==, 1);
    LDS_CHECK_INT(r.triangles, ==, 1);
    LDS_CHECK_INT(m->vertex_count, ==, 3);
    lds_mesh_report_cleanup(&r);
    lds_mesh_model_destroy(m);

    /* Everything degenerate: an empty model (no submeshes), and the report says no_geometry. */
    m = model_new(3, 3, 0, 0);
    float q[3][3] = {{0, 0, 0}, {1, 1, 1}, {2, 2, 2}};
    memcpy(m->positions, q, sizeof(q));
    m->indices[0] = 0, m->indices[1] = 1, m->indices[2] = 2;
    lds_error err;
    lds_error_clear(&err);
    memset(&r, 0, sizeof(r));
    LDS_CHECK_OK(lds_mesh_clean(m, &r, &err), &err);
    LDS_CHECK_INT(m->vertex_count, ==, 0);
    LDS_CHECK_INT(m->submesh_count, ==, 0);
    LDS_CHECK_INT(r.degenerate_triangles, ==, 1);
    LDS_CHECK_OK(lds_mesh_report_compute(m, &r, &err), &err);
    LDS_CHECK(has_issue(&r, "no_geometry", "error"));
    LDS_CHECK(has_issue(&r, "degenerate_triangles", "info"));
    char fp[LDS_MESH_GEOMETRY_FP_MAX];
    LDS_CHECK_INT(lds_mesh_fingerprint_geometry(m, fp, &err), ==, LDS_ENOGEOM);
    lds_mesh_report_cleanup(&r);
    lds_mesh_model_destroy(m);
}

static void test_submeshes_and_components(void)
{
    /* Three submeshes: cube A, a fully degenerate one (removed), cube B; plus a point cloud with a
     * repeated point. Ranges must stay valid. */
    lds_mesh_model *m = model_new(8 + 3 + 8 + 4, 36 + 3 + 36, 0, 0);
    free(m->submeshes);
    m->submesh_count = 4;
    m->submeshes = calloc(4, sizeof(lds_mesh_submesh));
    put_cube(m, 0, 0, 0);
    m->submeshes[0] = (lds_mesh_submesh){0, 8, 0, 36, 0, 0};
    float line[3][3] = {{0, 0, 9}, {1, 0, 9}, {2, 0, 9}};
    memcpy(m->positions + 8 * 3, line, sizeof(line));
    m->indices[36] = 8, m->indices[37] = 9, m->indices[38] = 10;
    m->submeshes[1] = (lds_mesh_submesh){8, 3, 36, 3, 0, 0};
    put_cube(m, 11, 39, 10.0f);
    m->submeshes[2] = (lds_mesh_submesh){11, 8, 39, 36, 0, 0};
    float pts[4][3] = {{0, 0, 20}, {1, 0, 20}, {0, 0, 20}, {2, 0, 20}};
    memcpy(m->positions + 19 * 3, pts, sizeof(pts));
    m->submeshes[3] = (lds_mesh_submesh){19, 4, 75, 0, 0, 0};
    lds_mesh_report r;
    clean_and_report(m, &r);
    LDS_CHECK_INT(m->submesh_count, ==, 3);
    LDS_CHECK_INT(r.meshes, ==, 3);
    LDS_CHECK_INT(r.triangles, ==, 24);
    LDS_CHECK_INT(r.vertices, ==, 16);
    LDS_CHECK_INT(r.points, ==, 3);
    LDS_CHECK_INT(r.degenerate_triangles, ==, 1);
    LDS_CHECK_INT(r.components, ==, 2);
    LDS_CHECK(r.has_volume && fabs(r.volume - 16.0) < 1e-9);
    LDS_CHECK(fabs(r.surface_area - 48.0) < 1e-9);
    LDS_CHECK_INT(m->submeshes[1].vertex_offset, ==, 8);
    LDS_CHECK_INT(m->submeshes[1].index_offset, ==, 36);
    LDS_CHECK_INT(m->submeshes[2].vertex_offset, ==, 16);
    LDS_CHECK_INT(m->submeshes[2].index_count, ==, 0);
    LDS_CHECK(r.bbox_max[2] == 20);
    lds_mesh_report_cleanup(&r);
    lds_mesh_model_destroy(m);

    /* A cube split into two submeshes along a material boundary: still closed, one component. */
    m = model_new(16, 36, 0, 0);
    free(m->submeshes);
    m->submesh_count = 2;
    m->submeshes = calloc(2, sizeof(lds_mesh_submesh));
    put_cube(m, 0, 0, 0);
    memcpy(m->positions + 8 * 3, m->positions, 8 * 3 * sizeof(float));
    m->submeshes[0] = (lds_mesh_submesh){0, 8, 0, 18, 0, 0};
    m->submeshes[1] = (lds_mesh_submesh){8, 8, 18, 18, 0, 0};
    for (int i = 0; i < 18; i++)
        m->indices[i] = cube_faces[i / 3][i % 3];
    for (int i = 18; i < 36; i++)
        m->indices[i] = 8 + cube_faces[i / 3][i % 3];
    clean_and_report(m, &r);
    LDS_CHECK_INT(r.boundary_edges, ==, 0);
    LDS_CHECK_INT(r.components, ==, 1);
    LDS_CHECK(r.has_volume && fabs(r.volume - 8.0) < 1e-9);
    lds_mesh_report_cleanup(&r);
    lds_mesh_model_destroy(m);
}

static void test_grid_and_winding(void)
{
    lds_mesh_model *m = grid(10);
    lds_mesh_report r;
    clean_and_report(m, &r);
    LDS_CHECK_INT(r.triangles, ==, 200);
    LDS_CHECK_INT(r.vertices, ==, 121);
    LDS_CHECK_INT(r.boundary_edges, ==, 40);
    LDS_CHECK_INT(r.non_manifold_edges, ==, 0);
    LDS_CHECK_INT(r.components, ==, 1);
    LDS_CHECK(fabs(r.surface_area - 1.0) < 1e-6);
    LDS_CHECK(!r.has_volume);
    LDS_CHECK(has_issue(&r, "open_boundary", "info"));
    lds_mesh_report_cleanup(&r);
    lds_mesh_model_destroy(m);

    /* One flipped face on the cube: closed but not orientable as given, no volume. */
    m = model_new(8, 36, 0, 0);
    put_cube(m, 0, 0, 0);
    uint32_t s = m->indices[1];
    m->indices[1] = m->indices[2];
    m->indices[2] = s;
    clean_and_report(m, &r);
    LDS_CHECK_INT(r.boundary_edges, ==, 0);
    LDS_CHECK(!r.has_volume);
    LDS_CHECK(has_issue(&r, "inconsistent_winding", "warning"));
    lds_mesh_report_cleanup(&r);
    lds_mesh_model_destroy(m);

    /* Many components: 120 separate triangles. */
    m = model_new(360, 360, 0, 0);
    for (int t = 0; t < 120; t++) {
        float tri[3][3] = {{(float)t * 3, 0, 0}, {(float)t * 3 + 1, 0, 0}, {(float)t * 3, 1, 0}};
        memcpy(m->positions + t * 9, tri, sizeof(tri));
        for (int k = 0; k < 3; k++)
            m->indices[t * 3 + k] = (uint32_t)(t * 3 + k);
    }
    clean_and_report(m, &r);
    LDS_CHECK_INT(r.components, ==, 120);
    LDS_CHECK_INT(r.boundary_edges, ==, 360);
    LDS_CHECK(has_issue(&r, "many_components", NULL));
    lds_mesh_report_cleanup(&r);
    lds_mesh_model_destroy(m);
}

static void test_textures_and_issues(void)
{
    lds_mesh_model *m = model_new(8, 36, 0, 1);
    put_cube(m, 0, 0, 0);
    m->texture_count = 2;
    m->textures = calloc(2, sizeof(lds_mesh_texture));
    m->textures[0].name = strdup("skin.png");
    m->textures[0].data = malloc(100);
    m->textures[0].size = 100;
    m->textures[0].width = 64;
    m->textures[0].height = 32;
    m->textures[1].name = strdup("lost.jpg");
    m->materials[0].maps[LDS_MESH_MAP_BASE_COLOR].texture = 0;
    LDS_CHECK_INT(lds_mesh_model_warn(m, "cube.obj: texture lost.jpg not found"), ==, LDS_OK);
    LDS_CHECK_INT(lds_mesh_model_warn(m, "cube.obj: unknown statement 'foo'"), ==, LDS_OK);
    lds_mesh_report r;
    clean_and_report(m, &r);
    LDS_CHECK(r.has_uvs);
    LDS_CHECK_INT(r.texture_count, ==, 2);
    LDS_CHECK_STR(r.textures[0].name, "skin.png");
    LDS_CHECK_INT(r.textures[0].width, ==, 64);
    LDS_CHECK_INT(r.textures[0].height, ==, 32);
    LDS_CHECK_INT(r.textures[0].bytes, ==, 100);
    LDS_CHECK_INT(r.textures[0].missing, ==, 0);
    LDS_CHECK_INT(r.textures[1].missing, ==, 1);
    size_t missing = 0;
    for (size_t i = 0; i < r.issue_count; i++)
        missing += strcmp(r.issues[i].code, "missing_texture") == 0;
    LDS_CHECK_INT(missing, ==, 1); /* the warning, not a second issue for the same texture */
    LDS_CHECK(has_issue(&r, "import_warning", "warning"));
    LDS_CHECK_INT(lds_mesh_report_add_issue(&r, "possible_duplicate", "warning", "looks like asset %d", 42),
                  ==, LDS_OK);
    LDS_CHECK_STR(r.issues[r.issue_count - 1].message, "looks like asset 42");
    lds_mesh_report_cleanup(&r);
    lds_mesh_report_cleanup(NULL);
    lds_mesh_model_destroy(m);

    /* A pure point cloud. */
    m = model_new(5, 0, 0, 0);
    for (int i = 0; i < 5; i++)
        m->positions[i * 3] = (float)i;
    clean_and_report(m, &r);
    LDS_CHECK_INT(r.points, ==, 5);
    LDS_CHECK_INT(r.triangles, ==, 0);
    LDS_CHECK_INT(r.components, ==, 0);
    LDS_CHECK(has_issue(&r, "point_cloud", "info"));
    lds_mesh_report_cleanup(&r);
    lds_mesh_model_destroy(m);
}

int main(void)
{
    test_closed_cube();
    test_weld();
    test_degenerate_and_duplicates();
    test_submeshes_and_components();
    test_grid_and_winding();
    test_textures_and_issues();
    return lds_test_result();
}
