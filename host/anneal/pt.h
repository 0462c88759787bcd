/* Parallel-tempering pieces a kernel can share: the fixed-point
 * temperature ladder with its -ln table, the integer acceptance rule, and
 * the round barrier of the worker threads.
 *
 * The scheme is perm's (perm_internal.h): the table holds
 * -ln((k + 0.5) / 2^PT_NEGLOG_BITS) * 2^scale_bits and temperatures are
 * T * 2^(32 - scale_bits), so mulhi(tq, neglog[u >> (32 - bits)]) is
 * T * -ln(u) in energy units. Kernels whose energies outgrow 32 bits add
 * a shift: temperatures are stored divided by 2^shift and a positive delta
 * d is accepted iff (d >> shift) <= that product. perm builds its ladder
 * with no shift (pt_ladder_build_capped, cap 0). */
#ifndef NEROX_PT_H
#define NEROX_PT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "anneal/anneal.h"

/* Bits of the uniform draw that index the -ln table. */
#define PT_NEGLOG_BITS 12
#define PT_NEGLOG_SIZE (1 << PT_NEGLOG_BITS)
/* Range of the table's fixed-point scale. */
#define PT_SCALE_MIN_BITS 16
#define PT_SCALE_MAX_BITS 28
/* Largest ladder: temperatures plus exchange temperatures. */
#define PT_MAX_LADDER 256

typedef struct pt_ladder {
  int replicas;
  int scale_bits;
  int shift;        /* deltas are shifted right by this before comparing */
  uint32_t tq[PT_MAX_LADDER];   /* slot temperatures, coldest first */
  uint32_t txq[PT_MAX_LADDER];  /* replicas-1 exchange temperatures */
  uint32_t neglog[PT_NEGLOG_SIZE];
} pt_ladder;

/* Geometric ladder of `replicas` (1..PT_MAX_LADDER) temperatures from
 * t_cold to t_hot (> 0), exchange temperatures 1 / (1/T_s - 1/T_{s+1}),
 * and the smallest shift and scale that hold them all. */
void pt_ladder_build(pt_ladder *lad, int replicas, double t_cold,
                     double t_hot);
/* The same with the shift held to at most max_shift: temperatures that
 * still do not fit saturate (to UINT32_MAX) at the largest scale. */
void pt_ladder_build_capped(pt_ladder *lad, int replicas, double t_cold,
                            double t_hot, int max_shift);

/* Threshold of draw u at fixed-point temperature tq: T * -ln(u) >> shift
 * (GLSL: umulExtended(tq, neglog[u >> 20], hi, lo); hi). */
static inline uint32_t pt_threshold(uint32_t tq, const uint32_t *neglog,
                                    uint32_t u)
{
  return (uint32_t)(((uint64_t)tq * neglog[u >> (32 - PT_NEGLOG_BITS)])
                    >> 32);
}

/* Integer Metropolis rule shared by moves and exchanges. */
static inline int pt_accept(int64_t delta, uint32_t tq, int shift,
                            const uint32_t *neglog, uint32_t u)
{
  if (delta <= 0)
    return 1;
  return (delta >> shift) <= (int64_t)pt_threshold(tq, neglog, u);
}

/* Largest delta pt_accept can accept at tq: above it no draw is needed. */
int64_t pt_delta_max(uint32_t tq, int shift, const uint32_t *neglog);

/* A barrier for worker threads 0..n-1 where thread 0 runs a serial step
 * while the others wait: spins first, then sleeps on a condition. A
 * failing pthread call is noted (pt_sync_failed) and the barrier falls
 * back to yielding, so the run ends cleanly and reports it. */
typedef struct pt_sync {
  pthread_mutex_t mu;
  pthread_cond_t cv_all, cv_lead;
  atomic_int arrived;
  atomic_uint gen;
  atomic_int failed;
  int nthreads;
  char fail_msg[128];
} pt_sync;

/* Returns 0, or -1 when a pthread object could not be made. */
int pt_sync_init(pt_sync *s, int nthreads);
/* Returns 0, or -1 when destroying one failed. */
int pt_sync_destroy(pt_sync *s);
/* Everyone meets; thread 0 runs serial(arg) before the others go on. */
void pt_barrier(pt_sync *s, int id, void (*serial)(void *), void *arg);
/* Threads other than 0 wait here until thread 0 calls pt_release (once,
 * after starting them), then go on. */
void pt_wait_start(pt_sync *s);
void pt_release(pt_sync *s);
/* Nonzero once a pthread call failed; fail_msg names it. */
int pt_sync_failed(pt_sync *s);

/* Checks the parameters every kernel shares: replicas in 0..max_replicas,
 * threads in 0..max_threads, sweeps >= 0, time_limit >= 0, and some way
 * to stop. 0, or -1 with "kernel: reason" in err. */
int pt_check_params(const anneal_params *p, const char *kernel,
                    int max_replicas, int max_threads, char *err,
                    size_t errlen);

#endif
