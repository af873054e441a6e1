/*
 * thumbnail.c: turntable thumbnails of a model, rendered on the CPU without a display: a small
 * deferred rasteriser (no GPU, no Mesa).
 *
 *  1. Camera: the bounding sphere of the model seen from yaw/pitch around the glTF up axis (+Y),
 *     30 degree field of view, distance so that the sphere fits.
 *  2. Visibility: every triangle (both faces: scans have unreliable winding) is rasterised at
 *     supersample x the output size with edge functions and a depth buffer of 1/w (it interpolates
 *     linearly in screen space); a sample keeps the triangle id and its perspective-correct
 *     barycentrics (b_i/w_i normalised: Heckbert & Moreton 1991). Point clouds are splatted.
 *  3. Shading, once per primitive a pixel shows (multisampling): the glTF metallic-roughness
 *     material (base colour, metallic-roughness, occlusion and emissive factors and textures,
 *     bilinear, repeat, texCoord sets and KHR_texture_transform; colour textures sRGB-decoded)
 *     x vertex colour; Lambert diffuse and normalised Blinn-Phong specular from a key and a fill
 *     light fixed to the camera (every view lit alike) plus ambient. Normal maps are not applied.
 *  4. Resolve: box filter of the supersamples in linear light, coverage becomes alpha (the
 *     background is transparent), colour is stored straight (not premultiplied) in sRGB.
 *
 * Deterministic: single-threaded float arithmetic in a fixed order, so the same model gives the
 * same pixels and (image.c's encoder being deterministic) the same PNG bytes.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mesh.h"

#define FOV_DEGREES 30.0f
#define NO_TRIANGLE UINT32_MAX
#define BAND_PIXELS 16 /* output rows per band */

typedef struct camera {
    float eye[3], right[3], up[3], forward[3];
    float focal; /* pixels (sample grid) per unit of x/w */
    float cx, cy;
} camera;

typedef struct sample {
    float inv_w;  /* 0: empty */
    uint32_t tri; /* triangle index, or NO_TRIANGLE for a point splat */
    float b1, b2; /* perspective-correct barycentrics of corners 1 and 2 (or the point's vertex in b1) */
} sample;

typedef struct raster {
    const lds_mesh_model *model;
    const lds_mesh_image *textures;
    uint32_t *tri_material; /* material of each triangle */
    int width, height;      /* sample grid */
    int band_y0, band_rows; /* the rows of the sample grid held in samples (rendered band by band) */
    sample *samples;        /* band_rows x width */
    float *screen;          /* projected vertices: x, y, w */
    camera cam;
    float srgb_to_linear[256], unorm[256]; /* texel byte to colour (sRGB decoded) or data value */
} raster;

static float dot3(const float a[3], const float b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void cross3(const float a[3], const float b[3], float out[3])
{
    out[0] = a[1] * b[2] - a[2] * b[1];
    out[1] = a[2] * b[0] - a[0] * b[2];
    out[2] = a[0] * b[1] - a[1] * b[0];
}

static void normalize3(float v[3])
{
    float n = sqrtf(dot3(v, v));
    if (n > 0) {
        v[0] /= n;
        v[1] /= n;
        v[2] /= n;
    }
}

/* The bounding sphere: the box centre and the farthest vertex from it. */
static void bounding_sphere(const lds_mesh_model *m, float centre[3], float *radius)
{
    float lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < m->vertex_count; i++)
        for (int k = 0; k < 3; k++) {
            lo[k] = fminf(lo[k], m->positions[3 * i + k]);
            hi[k] = fmaxf(hi[k], m->positions[3 * i + k]);
        }
    float r2 = 0;
    for (int k = 0; k < 3; k++)
        centre[k] = 0.5f * (lo[k] + hi[k]);
    for (size_t i = 0; i < m->vertex_count; i++) {
        float d[3] = {m->positions[3 * i] - centre[0], m->positions[3 * i + 1] - centre[1],
                      m->positions[3 * i + 2] - centre[2]};
        r2 = fmaxf(r2, dot3(d, d));
    }
    *radius = r2 > 0 ? sqrtf(r2) : 1.0f;
}

static void camera_init(camera *cam, const lds_mesh_model *m, float yaw_degrees, float pitch_degrees, int width,
                        int height)
{
    float centre[3], radius;
    bounding_sphere(m, centre, &radius);
    float yaw = yaw_degrees * (float)M_PI / 180.0f, pitch = pitch_degrees * (float)M_PI / 180.0f;
    float half = 0.5f * FOV_DEGREES * (float)M_PI / 180.0f;
    float distance = radius / sinf(half) * 1.12f; /* a margin around the model */
    float dir[3] = {cosf(pitch) * sinf(yaw), sinf(pitch), cosf(pitch) * cosf(yaw)};
    for (int k = 0; k < 3; k++) {
        cam->eye[k] = centre[k] + distance * dir[k];
        cam->forward[k] = -dir[k];
    }
    float world_up[3] = {0, 1, 0};
    cross3(cam->forward, world_up, cam->right);
    if (dot3(cam->right, cam->right) < 1e-12f) { /* looking straight down or up */
        float z[3] = {0, 0, -1};
        cross3(cam->forward, z, cam->right);
    }
    normalize3(cam->right);
    cross3(cam->right, cam->forward, cam->up);
    int side = width < height ? width : height;
    cam->focal = 0.5f * (float)side / tanf(half);
    cam->cx = 0.5f * (float)width;
    cam->cy = 0.5f * (float)height;
}

/* Projects a world point to the sample grid: x, y and w (the depth along the view direction). */
static void project(const camera *cam, const float p[3], float out[3])
{
    float d[3] = {p[0] - cam->eye[0], p[1] - cam->eye[1], p[2] - cam->eye[2]};
    float w = dot3(d, cam->forward);
    if (w < 1e-6f)
        w = 1e-6f; /* never happens: the camera is outside the bounding sphere */
    out[0] = cam->cx + cam->focal * dot3(d, cam->right) / w;
    out[1] = cam->cy - cam->focal * dot3(d, cam->up) / w;
    out[2] = w;
}

static void raster_triangle(raster *r, uint32_t tri, const float a[3], const float b[3], const float c[3])
{
    float area = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
    if (fabsf(area) < 1e-12f)
        return;
    int x0 = (int)floorf(fminf(a[0], fminf(b[0], c[0]))), x1 = (int)ceilf(fmaxf(a[0], fmaxf(b[0], c[0])));
    int y0 = (int)floorf(fminf(a[1], fminf(b[1], c[1]))), y1 = (int)ceilf(fmaxf(a[1], fmaxf(b[1], c[1])));
    if (x0 < 0)
        x0 = 0;
    if (y0 < r->band_y0)
        y0 = r->band_y0;
    if (x1 > r->width - 1)
        x1 = r->width - 1;
    if (y1 > r->band_y0 + r->band_rows - 1)
        y1 = r->band_y0 + r->band_rows - 1;
    if (y0 > y1 || x0 > x1)
        return;
    float inv_area = 1.0f / area;
    float iw0 = 1.0f / a[2], iw1 = 1.0f / b[2], iw2 = 1.0f / c[2];
    for (int y = y0; y <= y1; y++) {
        float py = (float)y + 0.5f;
        for (int x = x0; x <= x1; x++) {
            float px = (float)x + 0.5f;
            /* barycentrics in screen space; both windings are drawn */
            float l1 = ((px - a[0]) * (c[1] - a[1]) - (py - a[1]) * (c[0] - a[0])) * inv_area;
            float l2 = ((b[0] - a[0]) * (py - a[1]) - (b[1] - a[1]) * (px - a[0])) * inv_area;
            float l0 = 1.0f - l1 - l2;
            if (l0 < 0 || l1 < 0 || l2 < 0)
                continue;
            float inv_w = l0 * iw0 + l1 * iw1 + l2 * iw2;
            sample *s = &r->samples[(size_t)(y - r->band_y0) * (size_t)r->width + (size_t)x];
            if (inv_w <= s->inv_w)
                continue;
            s->inv_w = inv_w;
            s->tri = tri;
            s->b1 = l1 * iw1 / inv_w;
            s->b2 = l2 * iw2 / inv_w;
        }
    }
}

/* A point of a point cloud: a square splat about 1.5 output pixels wide. */
static void raster_point(raster *r, uint32_t vertex, const float p[3], int supersample)
{
    int half = (supersample * 3 + 3) / 4;
    int cx = (int)floorf(p[0]), cy = (int)floorf(p[1]);
    float inv_w = 1.0f / p[2];
    for (int y = cy - half; y <= cy + half; y++)
        for (int x = cx - half; x <= cx + half; x++) {
            if (x < 0 || y < r->band_y0 || x >= r->width || y >= r->band_y0 + r->band_rows)
                continue;
            sample *s = &r->samples[(size_t)(y - r->band_y0) * (size_t)r->width + (size_t)x];
            if (inv_w <= s->inv_w)
                continue;
            s->inv_w = inv_w;
            s->tri = NO_TRIANGLE;
            s->b1 = (float)vertex;
        }
}

/* Rasterises every primitive into the current band (r->screen holds the projected vertices). */
static void raster_band(raster *r, int supersample)
{
    const lds_mesh_model *m = r->model;
    const float *screen = r->screen;
    for (size_t s = 0; s < m->submesh_count; s++) {
        const lds_mesh_submesh *sub = &m->submeshes[s];
        if (sub->index_count == 0) {
            for (uint32_t v = sub->vertex_offset; v < sub->vertex_offset + sub->vertex_count; v++)
                raster_point(r, v, &screen[3 * v], supersample);
            continue;
        }
        for (uint32_t t = sub->index_offset / 3; t < (sub->index_offset + sub->index_count) / 3; t++) {
            const uint32_t *idx = &m->indices[3 * (size_t)t];
            raster_triangle(r, t, &screen[3 * idx[0]], &screen[3 * idx[1]], &screen[3 * idx[2]]);
        }
    }
}

/* ---- shading ---- */

/* Bilinear, repeat; linear RGBA out. glTF UVs: v grows downwards, as image rows do. */
static void texture_sample(const float lut[256], const lds_mesh_image *img, float u, float v, float out[4])
{
    float x = u * (float)img->width - 0.5f, y = v * (float)img->height - 0.5f;
    float fx = floorf(x), fy = floorf(y);
    float tx = x - fx, ty = y - fy;
    long ix = (long)fx, iy = (long)fy;
    float acc[4] = {0, 0, 0, 0};
    for (int k = 0; k < 4; k++) {
        long sx = ix + (k & 1), sy = iy + (k >> 1);
        sx %= img->width;
        sy %= img->height;
        if (sx < 0)
            sx += img->width;
        if (sy < 0)
            sy += img->height;
        const unsigned char *p = &img->rgba[4 * ((size_t)sy * (size_t)img->width + (size_t)sx)];
        float weight = ((k & 1) ? tx : 1 - tx) * ((k >> 1) ? ty : 1 - ty);
        for (int c = 0; c < 3; c++)
            acc[c] += weight * lut[p[c]];
        acc[3] += weight * (float)p[3] / 255.0f;
    }
    memcpy(out, acc, sizeof(acc));
}

/* The material at a point: glTF metallic-roughness (section 3.9 of the glTF 2.0 spec). */
typedef struct pbr_sample {
    float base[4];     /* linear */
    float metallic, roughness, occlusion;
    float emissive[3]; /* linear */
} pbr_sample;

static void pbr_defaults(pbr_sample *p)
{
    p->base[0] = p->base[1] = p->base[2] = 0.7f;
    p->base[3] = 1;
    p->metallic = 0;
    p->roughness = 0.6f;
    p->occlusion = 1;
    p->emissive[0] = p->emissive[1] = p->emissive[2] = 0;
}

/* Samples one texture slot at the interpolated UV of its set and transform (KHR_texture_transform:
 * uv' = offset + R(rotation) (scale * uv)), colour (sRGB decoded) or data; 0 when the slot has no
 * usable texture. */
static int map_sample(const raster *r, const lds_mesh_texture_ref *ref, int colour, const uint32_t v[3],
                      const float b[3], float texel[4])
{
    const lds_mesh_model *m = r->model;
    int set = ref->transform.present && ref->transform.tex_coord >= 0 ? ref->transform.tex_coord : ref->tex_coord;
    const float *uvs = set == 1 ? m->uvs1 : m->uvs;
    if (ref->texture < 0 || (size_t)ref->texture >= m->texture_count || r->textures == NULL ||
        r->textures[ref->texture].rgba == NULL || uvs == NULL)
        return 0;
    float u = b[0] * uvs[2 * v[0]] + b[1] * uvs[2 * v[1]] + b[2] * uvs[2 * v[2]];
    float w = b[0] * uvs[2 * v[0] + 1] + b[1] * uvs[2 * v[1] + 1] + b[2] * uvs[2 * v[2] + 1];
    if (ref->transform.present) {
        const lds_mesh_texture_transform *t = &ref->transform;
        float su = u * t->scale[0], sw = w * t->scale[1], c = cosf(t->rotation), sn = sinf(t->rotation);
        u = t->offset[0] + c * su + sn * sw;
        w = t->offset[1] - sn * su + c * sw;
    }
    texture_sample(colour ? r->srgb_to_linear : r->unorm, &r->textures[ref->texture], u, w, texel);
    return 1;
}

static void material_sample(const raster *r, const lds_mesh_material *mat, const uint32_t v[3], const float b[3],
                            pbr_sample *p)
{
    float texel[4];
    memcpy(p->base, mat->base_color, sizeof(p->base));
    p->metallic = mat->metallic;
    p->roughness = mat->roughness;
    for (int k = 0; k < 3; k++)
        p->emissive[k] = mat->emissive[k] * mat->emissive_strength;
    if (map_sample(r, &mat->maps[LDS_MESH_MAP_BASE_COLOR], 1, v, b, texel))
        for (int k = 0; k < 4; k++)
            p->base[k] *= texel[k];
    if (map_sample(r, &mat->maps[LDS_MESH_MAP_METALLIC_ROUGHNESS], 0, v, b, texel)) {
        p->roughness *= texel[1];
        p->metallic *= texel[2];
    }
    if (map_sample(r, &mat->maps[LDS_MESH_MAP_OCCLUSION], 0, v, b, texel))
        p->occlusion = 1.0f + mat->maps[LDS_MESH_MAP_OCCLUSION].scale * (texel[0] - 1.0f);
    if (map_sample(r, &mat->maps[LDS_MESH_MAP_EMISSIVE], 1, v, b, texel))
        for (int k = 0; k < 3; k++)
            p->emissive[k] *= texel[k];
}

/* The surface at a sample: world position, unit normal facing the camera, material. */
static void surface(const raster *r, const sample *s, float pos[3], float normal[3], pbr_sample *pbr)
{
    const lds_mesh_model *m = r->model;
    uint32_t v[3];
    float b[3];
    if (s->tri == NO_TRIANGLE) {
        v[0] = v[1] = v[2] = (uint32_t)s->b1;
        b[0] = 1;
        b[1] = b[2] = 0;
    } else {
        memcpy(v, &m->indices[3 * (size_t)s->tri], sizeof(v));
        b[0] = 1.0f - s->b1 - s->b2;
        b[1] = s->b1;
        b[2] = s->b2;
    }
    for (int k = 0; k < 3; k++)
        pos[k] = b[0] * m->positions[3 * v[0] + k] + b[1] * m->positions[3 * v[1] + k] +
                 b[2] * m->positions[3 * v[2] + k];
    float to_eye[3] = {r->cam.eye[0] - pos[0], r->cam.eye[1] - pos[1], r->cam.eye[2] - pos[2]};
    if (m->normals) {
        for (int k = 0; k < 3; k++)
            normal[k] = b[0] * m->normals[3 * v[0] + k] + b[1] * m->normals[3 * v[1] + k] +
                        b[2] * m->normals[3 * v[2] + k];
    } else if (s->tri != NO_TRIANGLE) {
        const float *p0 = &m->positions[3 * v[0]], *p1 = &m->positions[3 * v[1]], *p2 = &m->positions[3 * v[2]];
        float e1[3] = {p1[0] - p0[0], p1[1] - p0[1], p1[2] - p0[2]}, e2[3] = {p2[0] - p0[0], p2[1] - p0[1], p2[2] - p0[2]};
        cross3(e1, e2, normal);
    } else {
        memcpy(normal, to_eye, sizeof(to_eye));
    }
    normalize3(normal);
    if (dot3(normal, to_eye) < 0) /* the back face: light it as the front */
        for (int k = 0; k < 3; k++)
            normal[k] = -normal[k];

    pbr_defaults(pbr);
    if (s->tri != NO_TRIANGLE && m->material_count)
        material_sample(r, &m->materials[r->tri_material[s->tri]], v, b, pbr);
    if (m->colors)
        for (int k = 0; k < 4; k++)
            pbr->base[k] *= b[0] * m->colors[4 * v[0] + k] + b[1] * m->colors[4 * v[1] + k] +
                            b[2] * m->colors[4 * v[2] + k];
}

/* Under two lights fixed to the camera plus ambient: Lambert diffuse of the non-metallic part,
 * normalised Blinn-Phong specular whose exponent follows the roughness (alpha = roughness^2,
 * exponent 2/alpha^2 - 2) with F0 = mix(0.04, base colour, metallic), and emission. Linear RGB. */
static void shade(const raster *r, const sample *s, float out[3])
{
    float pos[3], n[3];
    pbr_sample p;
    surface(r, s, pos, n, &p);
    float view[3] = {r->cam.eye[0] - pos[0], r->cam.eye[1] - pos[1], r->cam.eye[2] - pos[2]};
    normalize3(view);
    /* camera-space directions: key from upper left front, fill from the right */
    static const float key_cam[3] = {-0.45f, 0.65f, 0.6f}, fill_cam[3] = {0.7f, 0.1f, 0.45f};
    static const float intensity[2] = {0.7f, 0.22f};
    const float *dirs_cam[2] = {key_cam, fill_cam};
    float rough = fminf(fmaxf(p.roughness, 0.05f), 1.0f), alpha = rough * rough;
    float exponent = fminf(fmaxf(2.0f / (alpha * alpha) - 2.0f, 1.0f), 2048.0f);
    float f0[3], diffuse[3];
    for (int k = 0; k < 3; k++) {
        f0[k] = 0.04f + (p.base[k] - 0.04f) * p.metallic;
        diffuse[k] = p.base[k] * (1.0f - p.metallic);
    }
    float lit = 0.12f * p.occlusion, specular = 0;
    for (int l = 0; l < 2; l++) {
        float dir[3];
        for (int k = 0; k < 3; k++)
            dir[k] = dirs_cam[l][0] * r->cam.right[k] + dirs_cam[l][1] * r->cam.up[k] - dirs_cam[l][2] * r->cam.forward[k];
        normalize3(dir);
        float ndl = dot3(n, dir);
        if (ndl <= 0)
            continue;
        lit += intensity[l] * ndl;
        float h[3] = {dir[0] + view[0], dir[1] + view[1], dir[2] + view[2]};
        normalize3(h);
        float ndh = dot3(n, h);
        if (ndh > 0)
            specular += intensity[l] * (exponent + 8.0f) / 8.0f * powf(ndh, exponent) * ndl;
    }
    /* metals have no diffuse: an ambient reflection of their colour stands in for the environment */
    float ambient_specular = 0.35f * p.occlusion;
    for (int k = 0; k < 3; k++)
        out[k] = diffuse[k] * lit + f0[k] * (specular + ambient_specular) + p.emissive[k];
}

static unsigned char linear_to_srgb8(float v)
{
    if (!(v > 0))
        return 0;
    if (v >= 1)
        return 255;
    float s = v <= 0.0031308f ? 12.92f * v : 1.055f * powf(v, 1.0f / 2.4f) - 0.055f;
    return (unsigned char)lrintf(s * 255.0f);
}

/* Resolves one output pixel as multisampling does: its samples grouped by the primitive they
 * show, each group shaded once at its mean barycentrics and weighted by its sample count (most
 * pixels show one triangle: one shading instead of supersample^2). */
static void resolve_pixel(const raster *r, int supersample, int x, int y, unsigned char p[4])
{
    enum { GROUPS_MAX = 8 * 8 };
    struct group {
        uint32_t tri;
        float vertex, b1, b2;
        int count;
    } groups[GROUPS_MAX];
    int group_count = 0, covered = 0;
    for (int sy = 0; sy < supersample; sy++)
        for (int sx = 0; sx < supersample; sx++) {
            const sample *s =
                &r->samples[(size_t)(y * supersample + sy) * (size_t)r->width + (size_t)(x * supersample + sx)];
            if (s->inv_w <= 0)
                continue;
            covered++;
            int g = 0;
            while (g < group_count &&
                   !(groups[g].tri == s->tri && (s->tri != NO_TRIANGLE || groups[g].vertex == s->b1)))
                g++;
            if (g == group_count)
                groups[group_count++] = (struct group){s->tri, s->b1, 0, 0, 0};
            groups[g].b1 += s->b1;
            groups[g].b2 += s->b2;
            groups[g].count++;
        }
    if (covered == 0) {
        memset(p, 0, 4);
        return;
    }
    float acc[3] = {0, 0, 0};
    for (int g = 0; g < group_count; g++) {
        sample mean = {1, groups[g].tri, groups[g].b1 / (float)groups[g].count, groups[g].b2 / (float)groups[g].count};
        if (groups[g].tri == NO_TRIANGLE)
            mean.b1 = groups[g].vertex;
        float c[3];
        shade(r, &mean, c);
        for (int k = 0; k < 3; k++)
            acc[k] += (float)groups[g].count * fminf(c[k], 1.0f);
    }
    for (int k = 0; k < 3; k++)
        p[k] = linear_to_srgb8(acc[k] / (float)covered);
    p[3] = (unsigned char)((covered * 255 + supersample * supersample / 2) / (supersample * supersample));
}

/* Resolves the output rows of the current band. */
static void resolve_band(const raster *r, int supersample, lds_mesh_image *out)
{
    int first = r->band_y0 / supersample, last = (r->band_y0 + r->band_rows) / supersample;
    for (int y = first; y < last && y < out->height; y++)
        for (int x = 0; x < out->width; x++)
            resolve_pixel(r, supersample, x, y - first, &out->rgba[4 * ((size_t)y * (size_t)out->width + (size_t)x)]);
}

/* The image in bands of BAND_PIXELS output rows: the sample buffer stays small and is reused
 * (allocating and first touching a full-frame buffer cost more than rendering into it). */
static void render_bands(raster *r, int supersample, lds_mesh_image *out)
{
    const lds_mesh_model *m = r->model;
    for (size_t i = 0; i < m->vertex_count; i++)
        project(&r->cam, &m->positions[3 * i], &r->screen[3 * i]);
    for (size_t s = 0; s < m->submesh_count; s++)
        for (uint32_t t = m->submeshes[s].index_offset / 3;
             t < (m->submeshes[s].index_offset + m->submeshes[s].index_count) / 3; t++)
            r->tri_material[t] = m->submeshes[s].material;
    int rows = r->band_rows;
    for (r->band_y0 = 0; r->band_y0 < r->height; r->band_y0 += rows) {
        r->band_rows = r->height - r->band_y0 < rows ? r->height - r->band_y0 : rows;
        memset(r->samples, 0, (size_t)r->band_rows * (size_t)r->width * sizeof(sample));
        raster_band(r, supersample);
        resolve_band(r, supersample, out);
    }
}

lds_status lds_mesh_render(const lds_mesh_model *model, const lds_mesh_image *textures,
                           const lds_mesh_render_view *view, lds_mesh_image *out, lds_error *err)
{
    assert(model && view && out);
    memset(out, 0, sizeof(*out));
    int ss = view->supersample > 0 ? view->supersample : 3;
    if (view->width < 1 || view->height < 1 || view->width > 4096 || view->height > 4096 || ss > 8)
        return lds_error_set(err, LDS_EINVAL, "render: %dx%d at %dx supersampling is outside 1..4096, 1..8",
                             view->width, view->height, ss);
    raster r;
    memset(&r, 0, sizeof(r));
    r.model = model;
    r.textures = textures;
    r.width = view->width * ss;
    r.height = view->height * ss;
    for (int i = 0; i < 256; i++) {
        float c = (float)i / 255.0f;
        r.srgb_to_linear[i] = c <= 0.04045f ? c / 12.92f : powf((c + 0.055f) / 1.055f, 2.4f);
        r.unorm[i] = c;
    }
    r.band_rows = BAND_PIXELS * ss;
    r.samples = malloc((size_t)r.band_rows * (size_t)r.width * sizeof(sample));
    r.tri_material = calloc(lds_mesh_triangle_count(model) + 1, sizeof(uint32_t));
    r.screen = malloc((model->vertex_count + 1) * 3 * sizeof(float));
    out->rgba = calloc((size_t)view->width * (size_t)view->height, 4);
    lds_status st = LDS_OK;
    out->width = view->width;
    out->height = view->height;
    if (r.samples == NULL || r.tri_material == NULL || r.screen == NULL || out->rgba == NULL) {
        st = lds_error_set(err, LDS_ENOMEM, "render: out of memory for %dx%d", view->width, view->height);
        lds_mesh_image_cleanup(out);
    } else if (model->vertex_count > 0) {
        camera_init(&r.cam, model, view->yaw_degrees, view->pitch_degrees, r.width, r.height);
        render_bands(&r, ss, out);
    }
    free(r.samples);
    free(r.tri_material);
    free(r.screen);
    return st;
}

/* ---- turntable ---- */

lds_status lds_mesh_thumbnails(const lds_mesh_model *model, int size, lds_buf pngs[LDS_THUMBNAIL_VIEWS],
                               lds_error *err)
{
    lds_mesh_image *textures = calloc(model->texture_count + 1, sizeof(lds_mesh_image));
    if (textures == NULL)
        return lds_error_set(err, LDS_ENOMEM, "thumbnails: out of memory");
    /* a texture that does not decode is left out (the model is drawn with its factors) */
    for (size_t t = 0; t < model->texture_count; t++) {
        const lds_mesh_texture *tex = &model->textures[t];
        if (tex->data && tex->size) {
            lds_error ignored;
            lds_error_clear(&ignored);
            lds_mesh_image_decode(tex->name ? tex->name : "texture", tex->data, tex->size, NULL, &textures[t],
                                  &ignored);
        }
    }
    lds_status st = LDS_OK;
    for (int i = 0; i < LDS_THUMBNAIL_VIEWS && st == LDS_OK; i++) {
        lds_mesh_render_view view = {lds_mesh_thumbnail_yaw(i), LDS_THUMBNAIL_PITCH, size, size, 0};
        lds_mesh_image image;
        st = lds_mesh_render(model, textures, &view, &image, err);
        if (st == LDS_OK)
            st = lds_mesh_image_encode(&image, LDS_MESH_IMAGE_PNG, NULL, &pngs[i], err);
        lds_mesh_image_cleanup(&image);
    }
    for (size_t t = 0; t < model->texture_count; t++)
        lds_mesh_image_cleanup(&textures[t]);
    free(textures);
    return st;
}

float lds_mesh_thumbnail_yaw(int view)
{
    return 360.0f * (float)view / (float)LDS_THUMBNAIL_VIEWS;
}
