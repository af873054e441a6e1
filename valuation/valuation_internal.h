/* valuation_internal.h: what the files of valuation/ share (not a public header). */
#ifndef LDS_VALUATION_INTERNAL_H
#define LDS_VALUATION_INTERNAL_H

#include "valuation.h"

/* Factor values in [0, 1] of the item-only factors (score.c); explain (may be NULL) gets the
 * checks behind the value, capped at size bytes. */
double val_quality(const lds_valuation_item *item, char *explain, size_t size);
double val_completeness(const lds_valuation_item *item, char *explain, size_t size);
double val_provenance(const lds_valuation_item *item, char *explain, size_t size);

/* The raw characteristics of the regression (model.c): out[0..LDS_VALUATION_BASE_FEATURES),
 * NaN where unknown. */
void val_base_features(const lds_valuation_item *item, double *out);
/* The factor each column of the design row belongs to. */
lds_valuation_factor val_column_factor(const lds_valuation_model *model, size_t column);
/* The standardised design row of an item (x[0] = 1), model->dim values. */
void val_design_row(const lds_valuation_model *model, const lds_valuation_item *item, double *x);

#endif
