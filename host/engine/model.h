/* A problem model as the engine runs it: today the `perm` kernel's model
 * (a TSP distance matrix or coordinates). Models are immutable once built
 * and reference-counted, since a job keeps its model while the script that
 * made it may drop it. */
#ifndef NEROX_MODEL_H
#define NEROX_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "anneal/perm.h"
#include "formats/tsplib.h"

typedef struct nx_model nx_model;

/* Read a TSPLIB file into a model. NULL with err filled on failure. */
nx_model *model_from_tsplib(const char *path, char *err, size_t errlen);
/* Take ownership of an n*n symmetric, non-negative matrix (malloc'd). */
nx_model *model_from_matrix(int n, int32_t *matrix, char *err,
                            size_t errlen);
/* Euclidean coordinates (x, y pairs), distances nint(euclid * scale). */
nx_model *model_from_coords(int n, const double *xy, double scale,
                            char *err, size_t errlen);

void model_retain(nx_model *m);
void model_release(nx_model *m);

int model_n(const nx_model *m);
const char *model_name(const nx_model *m);   /* "" when unnamed */
const char *model_hash(const nx_model *m);   /* 16 hex digits */
const perm_model *model_perm(const nx_model *m);
int32_t model_dist(const nx_model *m, int i, int j);

#endif
