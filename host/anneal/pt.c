/* Parallel-tempering pieces shared by kernels: ladder, -ln table, barrier
 * (pt.h describes them). */
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "anneal/pt.h"

/* Busy-wait iterations at the barrier before sleeping on a condition. */
#define PT_BARRIER_SPINS 20000

/* ---- ladder ---------------------------------------------------------- */

static uint32_t to_fixed(double v)
{
  double q = floor(v + 0.5);
  if (q < 1.0)
    return 1;
  return q > 4294967295.0 ? UINT32_MAX : (uint32_t)q;
}

void pt_ladder_build(pt_ladder *lad, int replicas, double t_cold,
                     double t_hot)
{
  pt_ladder_build_capped(lad, replicas, t_cold, t_hot, INT_MAX);
}

void pt_ladder_build_capped(pt_ladder *lad, int replicas, double t_cold,
                            double t_hot, int max_shift)
{
  double hi = t_hot, t[PT_MAX_LADDER], tx[PT_MAX_LADDER];
  int rep = replicas;
  memset(lad, 0, sizeof *lad);
  lad->replicas = rep;
  for (int s = 0; s < rep; s++) {
    double f = rep > 1 ? (double)s / (rep - 1) : 0;
    t[s] = t_cold * pow(t_hot / t_cold, f);
  }
  for (int s = 0; s + 1 < rep; s++) {
    tx[s] = 1.0 / (1.0 / t[s] - 1.0 / t[s + 1]);
    hi = tx[s] > hi ? tx[s] : hi;
  }
  while (lad->shift < max_shift
         && ldexp(hi, -lad->shift) >= ldexp(1.0, PT_SCALE_MAX_BITS - 1))
    lad->shift++;
  hi = ldexp(hi, -lad->shift);
  lad->scale_bits = PT_SCALE_MIN_BITS;
  while (lad->scale_bits < PT_SCALE_MAX_BITS
         && hi >= ldexp(1.0, lad->scale_bits - 1))
    lad->scale_bits++;
  for (int s = 0; s < rep; s++)
    lad->tq[s] = to_fixed(ldexp(t[s], 32 - lad->scale_bits - lad->shift));
  for (int s = 0; s + 1 < rep; s++)
    lad->txq[s] = to_fixed(ldexp(tx[s],
                                 32 - lad->scale_bits - lad->shift));
  for (int k = 0; k < PT_NEGLOG_SIZE; k++) {
    double u = (k + 0.5) / PT_NEGLOG_SIZE;
    lad->neglog[k] = to_fixed(ldexp(-log(u), lad->scale_bits));
  }
}

int64_t pt_delta_max(uint32_t tq, int shift, const uint32_t *neglog)
{
  uint64_t thr = pt_threshold(tq, neglog, 0);
  if (shift + 33 >= 63)
    return INT64_MAX;
  return (int64_t)(((thr + 1) << shift) - 1);
}

/* ---- barrier --------------------------------------------------------- */

static void note_failure(pt_sync *s, const char *what)
{
  int expected = 0;
  if (atomic_compare_exchange_strong(&s->failed, &expected, 1))
    snprintf(s->fail_msg, sizeof s->fail_msg, "%s failed", what);
}

int pt_sync_failed(pt_sync *s)
{
  return atomic_load(&s->failed);
}

int pt_sync_init(pt_sync *s, int nthreads)
{
  memset(s, 0, sizeof *s);
  s->nthreads = nthreads;
  atomic_init(&s->arrived, 0);
  atomic_init(&s->gen, 0);
  atomic_init(&s->failed, 0);
  if (pthread_mutex_init(&s->mu, NULL))
    return -1;
  if (pthread_cond_init(&s->cv_all, NULL)) {
    pthread_mutex_destroy(&s->mu);
    return -1;
  }
  if (pthread_cond_init(&s->cv_lead, NULL)) {
    pthread_cond_destroy(&s->cv_all);
    pthread_mutex_destroy(&s->mu);
    return -1;
  }
  return 0;
}

int pt_sync_destroy(pt_sync *s)
{
  int rc = 0;
  if (pthread_cond_destroy(&s->cv_lead))
    rc = -1;
  if (pthread_cond_destroy(&s->cv_all))
    rc = -1;
  if (pthread_mutex_destroy(&s->mu))
    rc = -1;
  return rc;
}

/* Spin, then sleep on cv, until *word differs from seen; falls back to
 * yielding if the pthread calls fail. */
static void wait_word(pt_sync *s, pthread_cond_t *cv, atomic_uint *word,
                      unsigned seen)
{
  for (int k = 0; k < PT_BARRIER_SPINS; k++)
    if (atomic_load_explicit(word, memory_order_acquire) != seen)
      return;
  if (pthread_mutex_lock(&s->mu)) {
    note_failure(s, "pthread_mutex_lock");
    while (atomic_load_explicit(word, memory_order_acquire) == seen)
      sched_yield();
    return;
  }
  while (atomic_load_explicit(word, memory_order_acquire) == seen)
    if (pthread_cond_wait(cv, &s->mu)) {
      note_failure(s, "pthread_cond_wait");
      break;
    }
  if (pthread_mutex_unlock(&s->mu))
    note_failure(s, "pthread_mutex_unlock");
  while (atomic_load_explicit(word, memory_order_acquire) == seen)
    sched_yield();
}

static void wake(pt_sync *s, pthread_cond_t *cv)
{
  if (pthread_mutex_lock(&s->mu)) {
    note_failure(s, "pthread_mutex_lock");
    return;
  }
  if (pthread_cond_broadcast(cv))
    note_failure(s, "pthread_cond_broadcast");
  if (pthread_mutex_unlock(&s->mu))
    note_failure(s, "pthread_mutex_unlock");
}

/* Thread 0: wait for the others to arrive. */
static void wait_arrivals(pt_sync *s)
{
  int want = s->nthreads - 1;
  for (int k = 0; k < PT_BARRIER_SPINS; k++)
    if (atomic_load_explicit(&s->arrived, memory_order_acquire) == want)
      return;
  if (pthread_mutex_lock(&s->mu)) {
    note_failure(s, "pthread_mutex_lock");
  } else {
    while (atomic_load_explicit(&s->arrived, memory_order_acquire) < want)
      if (pthread_cond_wait(&s->cv_lead, &s->mu)) {
        note_failure(s, "pthread_cond_wait");
        break;
      }
    if (pthread_mutex_unlock(&s->mu))
      note_failure(s, "pthread_mutex_unlock");
  }
  while (atomic_load_explicit(&s->arrived, memory_order_acquire) < want)
    sched_yield();
}

void pt_release(pt_sync *s)
{
  if (pthread_mutex_lock(&s->mu)) {
    note_failure(s, "pthread_mutex_lock");
    atomic_fetch_add_explicit(&s->gen, 1, memory_order_acq_rel);
    return;
  }
  atomic_fetch_add_explicit(&s->gen, 1, memory_order_acq_rel);
  if (pthread_cond_broadcast(&s->cv_all))
    note_failure(s, "pthread_cond_broadcast");
  if (pthread_mutex_unlock(&s->mu))
    note_failure(s, "pthread_mutex_unlock");
}

void pt_wait_start(pt_sync *s)
{
  wait_word(s, &s->cv_all, &s->gen, 0);
}

void pt_barrier(pt_sync *s, int id, void (*serial)(void *), void *arg)
{
  if (id != 0) {
    unsigned g = atomic_load_explicit(&s->gen, memory_order_acquire);
    int now = atomic_fetch_add_explicit(&s->arrived, 1,
                                        memory_order_acq_rel) + 1;
    if (now == s->nthreads - 1)
      wake(s, &s->cv_lead);
    wait_word(s, &s->cv_all, &s->gen, g);
    return;
  }
  if (s->nthreads > 1)
    wait_arrivals(s);
  atomic_store_explicit(&s->arrived, 0, memory_order_relaxed);
  serial(arg);
  if (s->nthreads > 1)
    pt_release(s);
}

int pt_check_params(const anneal_params *p, const char *kernel,
                    int max_replicas, int max_threads, char *err,
                    size_t errlen)
{
  char msg[160];
  if (!p)
    snprintf(msg, sizeof msg, "parameters are required");
  else if (p->replicas < 0 || p->replicas > max_replicas)
    snprintf(msg, sizeof msg, "replicas = %d is outside 0..%d",
             p->replicas, max_replicas);
  else if (p->threads < 0 || p->threads > max_threads)
    snprintf(msg, sizeof msg, "threads = %d is outside 0..%d", p->threads,
             max_threads);
  else if (p->sweeps < 0)
    snprintf(msg, sizeof msg, "sweeps must not be negative");
  else if (!(p->time_limit >= 0.0))
    snprintf(msg, sizeof msg, "time_limit must be a number >= 0");
  else if (p->sweeps == 0 && p->time_limit == 0.0 && !p->has_target)
    snprintf(msg, sizeof msg,
             "no stopping condition: set sweeps, time_limit or target");
  else
    return 0;
  if (err && errlen)
    snprintf(err, errlen, "%s: %s", kernel, msg);
  return -1;
}
