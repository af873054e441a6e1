/* sandbox_internal.h: shared between the files of sandbox/ only. */
#ifndef LDS_SANDBOX_INTERNAL_H
#define LDS_SANDBOX_INTERNAL_H

/* Installs the child's seccomp filter (sets no_new_privs). Returns 0 or -1. */
int lds_sandbox_seccomp_install(void);


/* ---- previews (preview.c, preview_align.c) ---- */
#include "sandbox.h"

/* Nearest-point queries over a fixed point set (a uniform grid of buckets). */
typedef struct preview_grid {
    const float *points; /* not owned */
    size_t count;
    float origin[3];
    float cell;
    int dims[3];
    uint32_t *start; /* dims product + 1 */
    uint32_t *items;
} preview_grid;
lds_status preview_grid_build(preview_grid *g, const float *points, size_t count);
void preview_grid_cleanup(preview_grid *g);
/* The index of the nearest point to q, or -1 when the set is empty; *d2 its squared distance. */
long preview_grid_nearest(const preview_grid *g, const double q[3], double *d2);

struct lds_preview_base {
    lds_mesh_model *model;  /* simplified, textures capped, snapped to the grid */
    double *direction;      /* unit normals used for the watermark, 3 per vertex */
    double origin[3], step, amplitude;
    size_t chips;
    uint32_t *weight_start; /* per vertex, into weight_chip / weight_value (CSR) */
    uint32_t *weight_chip;
    float *weight_value;
    double mean[3], axes[9], eigen[3]; /* area-weighted moments: centroid, principal axes (columns) */
    double diagonal;
    preview_grid grid;      /* over model->positions */
};

/* Area-weighted centroid and covariance of a model's surface (its points when it has no
 * triangles). */
void preview_moments(const lds_mesh_model *m, double mean[3], double cov[9]);
/* Eigen decomposition of a symmetric 3x3 matrix: values descending, vectors as columns. */
void preview_eigen3(const double a[9], double values[3], double vectors[9]);

#endif
