/* A problem model as the engine runs it: the `perm` kernel's (a TSP
 * distance matrix or coordinates) or the `binary` kernel's (a QUBO with
 * integer terms, couplings in CSR form). Models are immutable once built
 * and reference-counted, since a job keeps its model while the script that
 * made it may drop it. */
#ifndef NEROX_MODEL_H
#define NEROX_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "anneal/binary.h"
#include "anneal/perm.h"
#include "formats/bqp.h"
#include "formats/rudy.h"
#include "formats/tsplib.h"

typedef struct nx_model nx_model;

typedef enum model_kind {
  MODEL_PERM = 0,   /* permutations: the perm kernel */
  MODEL_BINARY      /* 0/1 assignments: the binary kernel */
} model_kind;

/* Read a TSPLIB file into a model. NULL with err filled on failure. */
nx_model *model_from_tsplib(const char *path, char *err, size_t errlen);
/* The same from the contents of a TSPLIB file (len bytes); `label`
 * names the source in errors ("label:LINE: reason"). */
nx_model *model_from_tsplib_text(const char *text, size_t len,
                                 const char *label, char *err,
                                 size_t errlen);
/* Take ownership of an n*n symmetric, non-negative matrix (malloc'd). */
nx_model *model_from_matrix(int n, int32_t *matrix, char *err,
                            size_t errlen);
/* Euclidean coordinates (x, y pairs), distances nint(euclid * scale). */
nx_model *model_from_coords(int n, const double *xy, double scale,
                            char *err, size_t errlen);

/* A QUBO over n variables: n linear terms h and m couplings (ei[k],
 * ej[k], w[k]) with ei != ej, each pair listed once (either order). The
 * arrays are copied. NULL with err (naming the coupling) on failure. */
nx_model *model_from_couplings(int n, const int64_t *h, int64_t m,
                               const int32_t *ei, const int32_t *ej,
                               const int32_t *w, int64_t offset,
                               char *err, size_t errlen);
/* Max-Cut of a graph as a QUBO to minimise: energy = -cut, with
 * h_i = -sum_j w_ij and J_ij = 2 w_ij. The weights must be integers. */
nx_model *model_from_maxcut(const rudy_graph *g, char *err, size_t errlen);
/* An OR-Library instance (maximised) as a QUBO to minimise: energy =
 * -f(x), with h_i = -q_ii and J_ij = -2 q_ij. The values must be
 * integers. */
nx_model *model_from_bqp(const bqp_instance *b, char *err, size_t errlen);

void model_retain(nx_model *m);
void model_release(nx_model *m);

int model_n(const nx_model *m);
const char *model_name(const nx_model *m);   /* "" when unnamed */
const char *model_hash(const nx_model *m);   /* 16 hex digits */
model_kind model_get_kind(const nx_model *m);
const char *model_kind_name(const nx_model *m);  /* "perm", "binary" */
const perm_model *model_perm(const nx_model *m);     /* perm models */
const binary_model *model_binary(const nx_model *m); /* binary models */
int32_t model_dist(const nx_model *m, int i, int j);

#endif
