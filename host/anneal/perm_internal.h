/* The `perm` kernel's plan: everything the host computes before annealing
 * (neighbour lists, the temperature ladder in fixed point, the -ln table)
 * and the constants that fix the algorithm. The CPU reference and the
 * Vulkan backend build the same plan, so they run the same arithmetic.
 *
 * The algorithm, per replica slot s (0 = coldest) and sweep w, all in
 * 32-bit unsigned arithmetic (rng.h):
 *   sk = rng_sweep_key(rng_slot_key(seed_key, s), w_lo, w_hi)
 *   for i in 0..n-1:
 *     h = rng_draw(sk, i, 0); u = rng_draw(sk, i, 1)
 *     a = mulhi(h, n); f = mullo(h, n); j = mulhi(f, k); f = mullo(f, k)
 *     b = nb[a*k + j]; side = f >> 31; end = (f >> 30) & 1
 *     m = i % PERM_MOVE_PERIOD: m < PERM_OR_MOVES: or-opt of 1 + m % 3
 *       cities, else 2-opt (perm.c describes both)
 *     accept iff delta <= 0 or delta <= mulhi(tq[s], neglog[u >> 20])
 * After every round of round_sweeps sweeps r, pairs (p, p+1) with
 * p = r % 2, r % 2 + 2, ... swap states iff the same rule accepts
 * E[p+1] - E[p] at txq[p] with u = rng_exchange(seed_key, r_lo, r_hi, p).
 */
#ifndef NEROX_PERM_INTERNAL_H
#define NEROX_PERM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "anneal/perm.h"
#include "anneal/pt.h"

/* Neighbour-list length: moves always join a city to one of these. */
#define PERM_NEIGHBOURS 8
/* The -ln table and the fixed-point scale are pt.h's, used with no
 * shift: the table holds -ln((k + 0.5) / 2^12) * 2^scale_bits and
 * temperatures are T * 2^(32 - scale_bits), so their product >> 32 is
 * T * -ln(u). */
#define PERM_NEGLOG_BITS PT_NEGLOG_BITS
#define PERM_NEGLOG_SIZE PT_NEGLOG_SIZE
#define PERM_SCALE_MIN_BITS PT_SCALE_MIN_BITS
#define PERM_SCALE_MAX_BITS PT_SCALE_MAX_BITS
/* Move mix: proposal i is an or-opt of 1 + i % 3 cities when
 * i % PERM_MOVE_PERIOD < PERM_OR_MOVES, else a 2-opt. */
#define PERM_MOVE_PERIOD 8
#define PERM_OR_MOVES 3
/* Moves that would rewrite more than this many tour positions (the
 * shorter side of a reversal, the shorter stretch an or-opt shifts) are
 * rejected, so that hot replicas of large instances stay cheap; it never
 * binds for n <= 2 * PERM_MAX_SPAN, where runs start from random tours
 * (above, from the nearest-neighbour tour). */
#define PERM_MAX_SPAN 5000
/* Sweeps per exchange round: ceil(PERM_ROUND_PROPOSALS / n), at least 1. */
#define PERM_ROUND_PROPOSALS 2048
/* Temperature ladder, as multiples of the mean neighbour-list edge. */
#define PERM_T_HOT 0.35
#define PERM_T_COLD 0.02

typedef struct perm_plan {
  int n;
  int k;                  /* neighbours per city: min(PERM_NEIGHBOURS, n-1) */
  int replicas;
  int round_sweeps;       /* sweeps between exchange rounds */
  int scale_bits;
  int32_t *nb;            /* n*k neighbours, nearest first, ties by index */
  int32_t *nbd;           /* their distances */
  uint32_t *tq;           /* replicas slot temperatures, coldest first */
  uint32_t *txq;          /* replicas-1 exchange temperatures */
  uint32_t neglog[PERM_NEGLOG_SIZE];
  double t_cold, t_hot;   /* the ladder's ends, in distance units */
} perm_plan;

/* Default number of replicas for n cities. */
int perm_default_replicas(int n);

/* Build the plan for a checked model (replicas 0 = default); neighbour
 * lists are computed on `threads` threads. Returns 0, or -1 with err. */
int perm_plan_build(const perm_model *m, int replicas, int threads,
                    perm_plan *pl, char *err, size_t errlen);
void perm_plan_free(perm_plan *pl);

/* Distance from city i to city j as the kernel computes it (the matrix,
 * else EUC_2D inline, else tsplib_dist). */
int64_t perm_model_dist(const perm_model *m, int i, int j);

/* The checks perm_solve_cpu makes of its arguments. Returns 0, or -1
 * with err. */
int perm_check_args(const perm_model *m, const perm_params *p,
                    char *err, size_t errlen);

/* The tour every slot starts from for n > 2 * PERM_MAX_SPAN (the
 * nearest-neighbour tour from city 0, malloc'd into *start); *start is
 * NULL below that. Returns 0, or -1 when out of memory. */
int perm_start_tour(const perm_model *m, const perm_plan *pl,
                    int32_t **start);

/* The starting tour of the slot whose key is `key`: a copy of `start`
 * when not NULL, else a random permutation from the slot's stream. */
void perm_init_tour(int n, const int32_t *start, uint32_t key,
                    int32_t *tour);

/* Integer acceptance shared by moves and exchanges: pt_accept with no
 * shift. */
static inline int perm_accept(int64_t delta, uint32_t tq,
                              const uint32_t *neglog, uint32_t u)
{
  return pt_accept(delta, tq, 0, neglog, u);
}

#endif
