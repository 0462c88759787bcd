/* The `perm` kernel's plan: everything the host computes before annealing
 * (neighbour lists, the temperature ladder in fixed point, the -ln table)
 * and the constants that fix the algorithm. The CPU reference and the
 * Vulkan backend build the same plan, so they run the same arithmetic.
 *
 * The algorithm, per replica slot s (0 = coldest) and sweep w:
 *   sk = rng_sweep_key(rng_slot_key(seed_key, s), w_lo, w_hi)
 *   for i in 0..n-1:  h = rng_draw(sk, i, 0)
 *     a = mulhi(h, n); f = mullo(h, n); j = mulhi(f, K); f = mullo(f, K)
 *     b = nb[a*K + j]; v = f >> 28; side = f >> 27 & 1; end = f >> 26 & 1
 *     v < PERM_OR_CUT: or-opt of L = 1 + v % 3 cities, else 2-opt;
 *     accept iff delta <= 0 or delta <= mulhi(tq[s],
 *                                  neglog[rng_draw(sk, i, 1) >> 20])
 * (see perm.c for the moves). Every PERM_ROUND_PROPOSALS / n sweeps the
 * slots exchange states with the same rule (perm_exchange_accept). */
#ifndef NEROX_PERM_INTERNAL_H
#define NEROX_PERM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "anneal/perm.h"

/* Neighbour-list length: moves always join a city to one of these. */
#define PERM_NEIGHBOURS 8
/* Bits of the uniform draw that index the -ln table. */
#define PERM_NEGLOG_BITS 12
#define PERM_NEGLOG_SIZE (1 << PERM_NEGLOG_BITS)
/* The table holds -ln((k + 0.5) / 2^12) * 2^scale_bits; temperatures are
 * T * 2^(32 - scale_bits), so their product >> 32 is T * -ln(u). */
#define PERM_SCALE_MIN_BITS 16
#define PERM_SCALE_MAX_BITS 28
/* Move mix: proposal i is an or-opt of 1 + i % 3 cities when
 * i % PERM_MOVE_PERIOD < PERM_OR_MOVES, else a 2-opt. */
#define PERM_MOVE_PERIOD 8
#define PERM_OR_MOVES 3
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

/* Integer acceptance shared by moves and exchanges. */
static inline int perm_accept(int64_t delta, uint32_t tq,
                              const uint32_t *neglog, uint32_t u)
{
  uint32_t thr;
  if (delta <= 0)
    return 1;
  thr = (uint32_t)(((uint64_t)tq * neglog[u >> (32 - PERM_NEGLOG_BITS)])
                   >> 32);
  return delta <= (int64_t)thr;
}

#endif
