/* The `binary` kernel: single-flip Metropolis annealing of a QUBO with
 * incrementally kept local fields, many replicas, parallel tempering. This
 * is the CPU reference; the Vulkan shader implements the same algorithm.
 *
 * The model is a QUBO in minimisation form over x in {0,1}^n:
 *   E(x) = offset + sum_i h_i x_i + sum_{i<j} J_ij x_i x_j
 * with integer h and J (callers scale float models to integers first).
 * Ising and Max-Cut problems are mapped onto it by their plugins.
 *
 * Determinism: as for `perm`, every random number comes from rng.h keyed by
 * (seed, replica, step) and acceptance is integer arithmetic, so the same
 * model, seed, replicas and sweeps give the same assignment on every run,
 * thread count and backend. */
#ifndef NEROX_BINARY_H
#define NEROX_BINARY_H

#include <stddef.h>
#include <stdint.h>

#include "anneal/anneal.h"

/* Largest number of variables the kernel accepts. */
#define BINARY_MAX_N 1000000

typedef struct binary_model {
  int n;
  const int64_t *h;          /* n linear terms */
  /* Couplings in CSR form, symmetric: the pair (i, j) with weight J_ij
   * appears in row i as column j and in row j as column i; no diagonal
   * entries (those are linear terms), no repeated columns in a row. */
  const int64_t *row_start;  /* n + 1 offsets into col and val */
  const int32_t *col;
  const int32_t *val;
  int64_t offset;            /* constant added to every energy */
} binary_model;

/* Run the kernel on the CPU. res->tour receives the best assignment (n
 * values, 0 or 1) and res->energy its energy, recomputed. Returns 0, or -1
 * with err (bad model, limits, no stopping rule). */
int binary_solve_cpu(const binary_model *m, const anneal_params *p,
                     anneal_progress_fn progress, void *ud,
                     anneal_result *res, char *err, size_t errlen);

/* E(x) of an assignment of n values 0/1, computed from the model. */
int64_t binary_energy(const binary_model *m, const int32_t *x);

/* Checks a model: n in 1..BINARY_MAX_N, CSR well formed and symmetric, and
 * every |h_i| + sum_j |J_ij| small enough for exact int64 fields and
 * energies. Returns 0, or -1 with err naming what is wrong. */
int binary_check_model(const binary_model *m, char *err, size_t errlen);

#endif
