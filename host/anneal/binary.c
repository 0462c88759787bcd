/* The `binary` kernel on the CPU: parallel-tempering single-flip
 * Metropolis annealing of a QUBO with incrementally kept local fields.
 *
 * Each temperature slot owns an assignment x (bytes) and its fields
 * f_i = h_i + sum_j J_ij x_j (int32 when they fit, else int64). Worker
 * threads take slots round-robin and sweep them for one round of a fixed
 * number of sweeps, then meet at a barrier where thread 0 (the caller)
 * exchanges states between adjacent slots, tracks the best assignment,
 * checks the stopping rules and calls the progress callback. Rounds are
 * fixed in sweeps, so a sweep-limited run is the same whatever the threads
 * or the clock. binary_internal.h states the algorithm exactly. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anneal/binary.h"
#include "anneal/binary_internal.h"
#include "anneal/rng.h"
#include "util/clock.h"

#if defined(__GNUC__)
#define B_INLINE static inline __attribute__((always_inline))
#else
#define B_INLINE static inline
#endif

/* Seconds between progress callbacks. */
#define CALLBACK_PERIOD_S 0.010
/* Alignment of each slot's state. */
#define STATE_ALIGN 64

/* One temperature slot and the state it currently holds. */
typedef struct slot {
  uint8_t *x;
  void *f;               /* int32_t or int64_t fields (plan.narrow) */
  int64_t energy;        /* E - offset */
  int64_t dmax;          /* deltas above this are always rejected */
  uint32_t key;
  uint32_t tq;
  char pad[64];          /* slots are written by different threads */
} slot;

typedef struct run {
  const binary_model *m;
  binary_plan plan;
  const anneal_params *par;
  anneal_progress_fn progress;
  void *ud;
  int nthreads;
  uint32_t seed_key;

  slot *slots;
  unsigned char *mem;    /* states of every slot */
  int32_t *best;
  int64_t best_energy;   /* E - offset */
  int64_t sweeps_done, round_len, round;
  int stop;
  anneal_stop why;
  double t0, last_cb;
  pt_sync sync;
} run;

typedef struct worker {
  run *r;
  int id;
  pthread_t th;
} worker;

static int fail(char *err, size_t errlen, const char *msg)
{
  if (err && errlen)
    snprintf(err, errlen, "binary: %s", msg);
  return -1;
}

/* ---- sweeps ----------------------------------------------------------- */

/* Add +J (x_i became 1) or -J (became 0) of row i to the fields. */
B_INLINE void update(const run *r, void *fv, int i, int up, int narrow,
                     int dense)
{
  const binary_model *m = r->m;
  int32_t *f32 = fv;
  int64_t *f64 = fv;
  if (dense) {
    const int32_t *row = r->plan.mat + (size_t)i * (size_t)m->n;
    int n = m->n;
    if (narrow && up)
      for (int j = 0; j < n; j++)
        f32[j] += row[j];
    else if (narrow)
      for (int j = 0; j < n; j++)
        f32[j] -= row[j];
    else if (up)
      for (int j = 0; j < n; j++)
        f64[j] += row[j];
    else
      for (int j = 0; j < n; j++)
        f64[j] -= row[j];
    return;
  }
  {
    const int32_t *col = m->col, *val = m->val;
    int64_t a = m->row_start[i], b = m->row_start[i + 1];
    if (narrow && up)
      for (int64_t k = a; k < b; k++)
        f32[col[k]] += val[k];
    else if (narrow)
      for (int64_t k = a; k < b; k++)
        f32[col[k]] -= val[k];
    else if (up)
      for (int64_t k = a; k < b; k++)
        f64[col[k]] += val[k];
    else
      for (int64_t k = a; k < b; k++)
        f64[col[k]] -= val[k];
  }
}

B_INLINE void sweeps_k(const run *r, slot *s, int64_t from, int64_t count,
                       int narrow, int dense)
{
  const binary_plan *pl = &r->plan;
  const uint32_t *site = pl->site, *neglog = pl->lad.neglog;
  uint8_t *x = s->x;
  const int32_t *f32 = s->f;
  const int64_t *f64 = s->f;
  int64_t e = s->energy, dmax = s->dmax;
  void *fv = s->f;
  uint32_t tq = s->tq;
  int n = pl->n, shift = pl->lad.shift;
  for (int64_t w = from; w < from + count; w++) {
    uint32_t sk = rng_sweep_key(s->key, (uint32_t)w, (uint32_t)(w >> 32));
    for (int i = 0; i < n; i++) {
      int64_t fi = narrow ? f32[i] : f64[i];
      int64_t d = x[i] ? -fi : fi;
      if (d > 0) {
        uint32_t u;
        if (d > dmax)
          continue;
        u = rng_mix(sk ^ site[i]);
        if ((d >> shift) > (int64_t)pt_threshold(tq, neglog, u))
          continue;
      }
      e += d;
      x[i] ^= 1;
      update(r, fv, i, x[i], narrow, dense);
    }
  }
  s->energy = e;
}

static void sweeps_ns(const run *r, slot *s, int64_t w, int64_t c)
{
  sweeps_k(r, s, w, c, 1, 0);
}

static void sweeps_nd(const run *r, slot *s, int64_t w, int64_t c)
{
  sweeps_k(r, s, w, c, 1, 1);
}

static void sweeps_ws(const run *r, slot *s, int64_t w, int64_t c)
{
  sweeps_k(r, s, w, c, 0, 0);
}

static void sweeps_wd(const run *r, slot *s, int64_t w, int64_t c)
{
  sweeps_k(r, s, w, c, 0, 1);
}

static void run_sweeps(const run *r, slot *s, int64_t from, int64_t cnt)
{
  if (r->plan.narrow)
    (r->plan.dense ? sweeps_nd : sweeps_ns)(r, s, from, cnt);
  else
    (r->plan.dense ? sweeps_wd : sweeps_ws)(r, s, from, cnt);
}

/* ---- serial phases (thread 0, between rounds) ---------------------- */

static void track_best(run *r)
{
  int at = 0;
  for (int s = 1; s < r->plan.replicas; s++)
    if (r->slots[s].energy < r->slots[at].energy)
      at = s;
  if (r->slots[at].energy < r->best_energy) {
    const uint8_t *x = r->slots[at].x;
    r->best_energy = r->slots[at].energy;
    for (int i = 0; i < r->plan.n; i++)
      r->best[i] = x[i];
  }
}

/* Round `round` pairs slots (p, p+1) for p of the round's parity; a pair
 * swaps states iff pt_accept(E_hot - E_cold, txq[p], u). */
static void exchange(run *r)
{
  const pt_ladder *lad = &r->plan.lad;
  uint32_t lo = (uint32_t)r->round, hi = (uint32_t)(r->round >> 32);
  for (int p = (int)(r->round & 1); p + 1 < r->plan.replicas; p += 2) {
    slot *c = &r->slots[p], *h = &r->slots[p + 1];
    uint32_t u = rng_exchange(r->seed_key, lo, hi, (uint32_t)p);
    if (pt_accept(h->energy - c->energy, lad->txq[p], lad->shift,
                  lad->neglog, u)) {
      uint8_t *x = c->x;
      void *f = c->f;
      int64_t e = c->energy;
      c->x = h->x;
      c->f = h->f;
      c->energy = h->energy;
      h->x = x;
      h->f = f;
      h->energy = e;
    }
  }
}

static uint64_t proposals(const run *r)
{
  return (uint64_t)r->sweeps_done * (uint64_t)r->plan.n
         * (uint64_t)r->plan.replicas;
}

static int call_progress(run *r, double now)
{
  anneal_progress pg = { r->sweeps_done, r->best_energy + r->m->offset,
                         r->slots[0].energy + r->m->offset, now - r->t0,
                         r->plan.replicas, proposals(r), r->best };
  r->last_cb = now;
  return r->progress(r->ud, &pg) != 0;
}

static void decide_stop(run *r)
{
  const anneal_params *p = r->par;
  double now = clock_mono_s();
  if (pt_sync_failed(&r->sync))
    r->stop = 1;
  else if (anneal_budget_spent(p, r->best_energy + r->m->offset,
                               r->sweeps_done, now - r->t0, &r->why))
    r->stop = 1;
  else if (r->progress && now - r->last_cb >= CALLBACK_PERIOD_S
           && call_progress(r, now))
    r->stop = 1, r->why = ANNEAL_STOP_CALLBACK;
}

static void next_round_len(run *r)
{
  r->round_len = anneal_round_len(r->par, r->plan.round_sweeps,
                                  r->sweeps_done);
}

/* After the initial states: the starting best, then the first round. */
static void serial_start(void *arg)
{
  run *r = arg;
  track_best(r);
  decide_stop(r);
  next_round_len(r);
}

static void serial_round(void *arg)
{
  run *r = arg;
  r->sweeps_done += r->round_len;
  exchange(r);
  r->round++;
  track_best(r);
  decide_stop(r);
  next_round_len(r);
}

/* ---- initial states and workers -------------------------------------- */

/* x from the slot's stream, then its fields and energy. */
static void init_slot(const run *r, slot *s)
{
  const binary_model *m = r->m;
  int32_t *f32 = s->f;
  int64_t *f64 = s->f, e = 0;
  for (int i = 0; i < m->n; i++)
    s->x[i] = (uint8_t)(rng_hash3(s->key, RNG_DOMAIN_INIT, (uint32_t)i)
                        >> 31);
  for (int i = 0; i < m->n; i++) {
    int64_t f = m->h[i], g = 0;
    for (int64_t k = m->row_start[i]; k < m->row_start[i + 1]; k++)
      if (s->x[m->col[k]]) {
        f += m->val[k];
        if (m->col[k] > i)
          g += m->val[k];
      }
    if (r->plan.narrow)
      f32[i] = (int32_t)f;
    else
      f64[i] = f;
    if (s->x[i])
      e += m->h[i] + g;
  }
  s->energy = e;
}

static void *work(void *arg)
{
  worker *w = arg;
  run *r = w->r;
  int rep = r->plan.replicas;
  if (w->id != 0)
    pt_wait_start(&r->sync);
  for (int s = w->id; s < rep; s += r->nthreads)
    init_slot(r, &r->slots[s]);
  pt_barrier(&r->sync, w->id, serial_start, r);
  while (!r->stop) {
    for (int s = w->id; s < rep; s += r->nthreads)
      run_sweeps(r, &r->slots[s], r->sweeps_done, r->round_len);
    pt_barrier(&r->sync, w->id, serial_round, r);
  }
  return NULL;
}

/* ---- setup and the entry point -------------------------------------- */

static int default_threads(void)
{
  long c = sysconf(_SC_NPROCESSORS_ONLN);
  if (c < 1)
    return 1;
  return c > BINARY_MAX_THREADS ? BINARY_MAX_THREADS : (int)c;
}

static size_t round_up(size_t v)
{
  return (v + STATE_ALIGN - 1) / STATE_ALIGN * STATE_ALIGN;
}

/* Each slot's x and fields in one block, cache-line aligned. */
static int alloc_state(run *r)
{
  int rep = r->plan.replicas;
  size_t n = (size_t)r->plan.n;
  size_t fsz = round_up(n * (r->plan.narrow ? 4 : 8));
  size_t per = fsz + round_up(n);
  r->slots = calloc((size_t)rep, sizeof *r->slots);
  r->mem = aligned_alloc(STATE_ALIGN, per * (size_t)rep);
  r->best = malloc(n * sizeof *r->best);
  if (!r->slots || !r->mem || !r->best)
    return -1;
  for (int s = 0; s < rep; s++) {
    slot *sl = &r->slots[s];
    sl->f = r->mem + per * (size_t)s;
    sl->x = r->mem + per * (size_t)s + fsz;
    sl->key = rng_slot_key(r->seed_key, (uint32_t)s);
    sl->tq = r->plan.lad.tq[s];
    sl->dmax = pt_delta_max(sl->tq, r->plan.lad.shift, r->plan.lad.neglog);
  }
  return 0;
}

/* Start threads 1.., run thread 0 here, join. The others wait until all
 * are started; if pthread_create fails, the run goes on with the threads
 * it has (workers take slots by id modulo the thread count). */
static int run_threads(run *r, char *err, size_t errlen)
{
  worker ws[BINARY_MAX_THREADS];
  int rc = 0, started = 1;
  for (int t = 0; t < r->nthreads; t++)
    ws[t] = (worker){ r, t, 0 };
  for (int t = 1; t < r->nthreads; t++) {
    if (pthread_create(&ws[t].th, NULL, work, &ws[t]))
      break;
    started = t + 1;
  }
  r->nthreads = started;
  r->sync.nthreads = started;
  if (started > 1)
    pt_release(&r->sync);
  work(&ws[0]);
  for (int t = 1; t < started; t++)
    if (pthread_join(ws[t].th, NULL))
      rc = fail(err, errlen, "pthread_join failed");
  if (pt_sync_failed(&r->sync))
    rc = fail(err, errlen, r->sync.fail_msg);
  return rc;
}

static int finish(run *r, anneal_result *res, char *err, size_t errlen)
{
  memset(res, 0, sizeof *res);
  res->tour = r->best;
  r->best = NULL;
  res->energy = binary_energy(r->m, res->tour);
  res->sweeps = r->sweeps_done;
  res->replicas = r->plan.replicas;
  res->proposals = proposals(r);
  res->elapsed_s = clock_mono_s() - r->t0;
  res->stop = r->why;
  if (res->energy != r->best_energy + r->m->offset)
    return fail(err, errlen, "internal error: tracked energy differs");
  return 0;
}

static int setup(run *r, const binary_model *m, const anneal_params *p,
                 int layout, char *err, size_t errlen)
{
  int threads;
  memset(r, 0, sizeof *r);
  r->t0 = clock_mono_s();
  r->last_cb = r->t0;
  r->m = m;
  r->par = p;
  r->best_energy = INT64_MAX;
  r->seed_key = rng_seed_key((uint32_t)p->seed, (uint32_t)(p->seed >> 32));
  if (binary_plan_build(m, p->replicas, layout, &r->plan, err, errlen))
    return -1;
  threads = p->threads > 0 ? p->threads : default_threads();
  r->nthreads = threads < r->plan.replicas ? threads : r->plan.replicas;
  if (alloc_state(r))
    return fail(err, errlen, "out of memory (replica state)");
  return 0;
}

static void teardown(run *r)
{
  free(r->best);
  free(r->mem);
  free(r->slots);
  binary_plan_free(&r->plan);
}

int binary_solve_cpu_layout(const binary_model *m, const anneal_params *p,
                            int layout, anneal_progress_fn progress,
                            void *ud, anneal_result *res, char *err,
                            size_t errlen)
{
  run r;
  int rc = -1;
  if (!res)
    return fail(err, errlen, "a result is required");
  memset(res, 0, sizeof *res);
  if (binary_check_params(p, err, errlen)
      || binary_check_model(m, err, errlen))
    return -1;
  if (setup(&r, m, p, layout, err, errlen) == 0) {
    r.progress = progress;
    r.ud = ud;
    if (pt_sync_init(&r.sync, r.nthreads)) {
      fail(err, errlen, "pthread_mutex_init or pthread_cond_init failed");
    } else {
      rc = run_threads(&r, err, errlen);
      if (pt_sync_destroy(&r.sync))
        rc = fail(err, errlen, "destroying the barrier failed");
      if (rc == 0)
        rc = finish(&r, res, err, errlen);
    }
    if (rc != 0 && res->tour) {
      free(res->tour);
      res->tour = NULL;
    }
  }
  teardown(&r);
  return rc;
}

int binary_solve_cpu(const binary_model *m, const anneal_params *p,
                     anneal_progress_fn progress, void *ud,
                     anneal_result *res, char *err, size_t errlen)
{
  return binary_solve_cpu_layout(m, p, BINARY_LAYOUT_AUTO, progress, ud,
                                 res, err, errlen);
}
