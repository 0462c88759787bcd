/* The `binary` kernel's plan: what the host computes before annealing
 * (temperature ladder in fixed point, -ln table, per-site hashes, the
 * optional dense coupling matrix) and the constants that fix the
 * algorithm. The CPU reference and a Vulkan port build the same plan, so
 * they run the same arithmetic.
 *
 * The algorithm, all integer; energies are E - offset (int64):
 *   seed_key = rng_seed_key(seed_lo, seed_hi)
 *   slot s (0 = coldest) starts from x_i = rng_hash3(rng_slot_key(seed_key,
 *     s), RNG_DOMAIN_INIT, i) >> 31 and its fields f_i = h_i + sum_j J_ij x_j.
 *   Sweep w of slot s: sk = rng_sweep_key(rng_slot_key(seed_key, s), w_lo,
 *     w_hi); for i in 0..n-1: d = x_i ? -f_i : f_i; flip iff d <= 0 or
 *     (d >> shift) <= mulhi(tq[s], neglog[u >> 20]) with
 *     u = rng_draw(sk, i, 0) = rng_mix(sk ^ site[i]), site[i] = rng_mix(2i)
 *     (u is only needed when 0 < d <= pt_delta_max(tq[s])); a flip sets
 *     x_i ^= 1, E += d and f_j += (x_i ? J_ij : -J_ij) for j in row i.
 *   After round r (round_sweeps sweeps, the last one cut to the sweeps
 *   left), pairs (p, p+1), p = r % 2, r % 2 + 2, ..., swap states iff
 *   pt_accept(E[p+1] - E[p], txq[p], shift, neglog,
 *   rng_exchange(seed_key, r_lo, r_hi, p)); then the best state is taken
 *   from the slots' energies (lowest, ties to the lowest slot). */
#ifndef NEROX_BINARY_INTERNAL_H
#define NEROX_BINARY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "anneal/binary.h"
#include "anneal/pt.h"

/* Largest replica count a caller may ask for. */
#define BINARY_MAX_REPLICAS PT_MAX_LADDER
/* Most worker threads a run uses. */
#define BINARY_MAX_THREADS 256
/* Replicas used when params.replicas is 0. */
#define BINARY_DEFAULT_REPLICAS 24
/* Sweeps per exchange round: ceil(BINARY_ROUND_FLIPS / n), at least 1. */
#define BINARY_ROUND_FLIPS 4096
/* Bound on sum_i (|h_i| + sum_j |J_ij|) and on |offset|: energies, their
 * differences and every field then stay within int64. */
#define BINARY_MAX_ABS_SUM ((int64_t)1 << 61)
/* Fields are kept as int32 when every |h_i| + sum_j |J_ij| is at most
 * this (exact either way; int32 is faster). */
#define BINARY_NARROW_MAX INT32_MAX
/* A dense n*n coupling matrix replaces CSR for the field updates when
 * n <= BINARY_DENSE_MAX_N and nnz * BINARY_DENSE_DIV >= n * n (density of
 * at least 1 / BINARY_DENSE_DIV); same results either way. Measured on one
 * core (bench_binary randN.P, M flips per CPU second, sparse / dense):
 * n = 200: 10% 146/104, 20% 124/106, 30% 110/104, 50% 92/101;
 * n = 500: 20% 96/80, 40% 61/73; n = 1000: 30% 41/40, 50% 25/39;
 * n = 2000: 30% 15/16, 50% 8/13. The matrix takes 4 n^2 bytes. */
#define BINARY_DENSE_MAX_N 4096
#define BINARY_DENSE_DIV 3
/* Temperature ladder, as multiples of the field scale: the root mean
 * square of f_i over sites and uniformly random states (sqrt(degree) for
 * +-1 Max-Cut). Tried on G1, G43 and G22: hot 0.4..0.5, cold 0.04..0.06,
 * 16..32 replicas all met issue 4's targets; 0.5, 0.05 and 24 replicas
 * reached G22's 13359 in 10 of 10 seeds in every trial. */
#define BINARY_T_HOT 0.5
#define BINARY_T_COLD 0.05

/* Layout flags for binary_plan_build: 0 chooses by the rules above; the
 * others force a choice (tests, benches). Results are the same for all. */
enum {
  BINARY_LAYOUT_AUTO = 0,
  BINARY_LAYOUT_SPARSE = 1,  /* field updates read the CSR rows */
  BINARY_LAYOUT_DENSE = 2,   /* field updates read an n*n matrix */
  BINARY_LAYOUT_WIDE = 4     /* int64 fields even where int32 would do */
};

typedef struct binary_plan {
  int n;
  int replicas;
  int round_sweeps;    /* sweeps between exchange rounds */
  int narrow;          /* fields fit int32 */
  int dense;           /* field updates read `mat` */
  int32_t *mat;        /* n*n couplings, row-major, or NULL */
  uint32_t *site;      /* rng_mix(2i): the per-site half of rng_draw */
  double scale, t_cold, t_hot;
  pt_ladder lad;       /* tq, txq, neglog, scale_bits, shift */
} binary_plan;

/* The checks binary_solve_cpu makes of its parameters. */
int binary_check_params(const anneal_params *p, char *err, size_t errlen);

/* Root mean square field over sites and uniformly random states:
 * sqrt(mean_i ((h_i + sum_j J_ij / 2)^2 + sum_j J_ij^2 / 4)), at least 1. */
double binary_field_scale(const binary_model *m);

/* Build the plan for a checked model (replicas 0 = default; layout a set
 * of BINARY_LAYOUT_* flags). Returns 0, or -1 with err. */
int binary_plan_build(const binary_model *m, int replicas, int layout,
                      binary_plan *pl, char *err, size_t errlen);
void binary_plan_free(binary_plan *pl);

/* binary_solve_cpu with layout flags (BINARY_LAYOUT_*) forced. */
int binary_solve_cpu_layout(const binary_model *m, const anneal_params *p,
                            int layout, anneal_progress_fn progress,
                            void *ud, anneal_result *res, char *err,
                            size_t errlen);

#endif
