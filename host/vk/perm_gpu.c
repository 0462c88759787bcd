/* The `perm` kernel through Vulkan: shaders/perm.comp anneals every
 * temperature slot on the device (one invocation per slot); this file runs
 * the rounds and does between them what host/anneal/perm.c does at its
 * barrier, in the same order: exchanges, best tracking, stopping rules and
 * the progress callback. So a sweep-limited run gives the same tour and
 * energy on both backends.
 *
 * Device state: tours and positions of every state (replicas x n int32),
 * a slot -> state map (exchanges permute it; slot keys and temperatures
 * stay with the slots), the energy of each state (int64). A round is one
 * or more dispatches: the shader stops before it could pass llvmpipe's
 * loop limit and reports how far each slot got, and the next dispatch
 * resumes there. A dispatch that ends any other way (its loops cut short)
 * fails the job. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anneal/perm_internal.h"
#include "anneal/rng.h"
#include "util/clock.h"
#include "vk/perm_gpu.h"
#include "vk/vk.h"

/* Seconds between progress callbacks (as on the CPU). */
#define PG_CALLBACK_PERIOD_S 0.010
/* Loop iterations one dispatch may use: under llvmpipe's 65,535. */
#define PG_LOOP_BUDGET 60000u
/* Invocations per workgroup: local_size_x of perm.comp. */
#define PG_GROUP_SIZE 8u
/* Most dispatches recorded into one submission; the stop checks run
 * between submissions. */
#define PG_MAX_BATCH 8
/* Buffers of perm.comp, in binding order. */
enum {
  PG_DIST, PG_NBX, PG_NEGLOG, PG_SLOTS, PG_TOUR, PG_POS, PG_CTL, PG_ENERGY,
  PG_NBUF
};
/* ctl words per slot: state, proposals made, planned stop, flags. */
#define PG_CTL_WORDS 4
/* Test-only knobs: end the proposal loop at this q (emulating a driver's
 * loop limit), and replace the loop budget. */
#define PG_ENV_CUT "NEROX_PERM_GPU_TEST_CUT"
#define PG_ENV_BUDGET "NEROX_PERM_GPU_TEST_BUDGET"

/* perm.comp's push constants. */
typedef struct pg_push {
  uint32_t n, k, replicas, total, sweep_lo, sweep_hi, budget, cut, flip;
} pg_push;

typedef struct pg_run {
  const perm_model *m;
  const perm_params *par;
  perm_progress_fn progress;
  void *ud;
  perm_plan plan;
  int n, rep;
  uint32_t seed_key;
  uint32_t budget, cut;
  int batch;

  nvk_buffer *buf[PG_NBUF];
  nvk_binding *bind;

  uint32_t *map;         /* slot -> state */
  uint32_t *ctl;         /* PG_CTL_WORDS per slot, as read back */
  int64_t *energy;       /* per state */
  int32_t *best;
  int64_t best_energy;
  int64_t sweeps_done, round_len, round;
  int stop;
  perm_stop why;
  double t0, last_cb;
} pg_run;

static int pg_fail(char *err, size_t errlen, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

static int pg_fail(char *err, size_t errlen, const char *fmt, ...)
{
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (err && errlen)
    snprintf(err, errlen, "perm (gpu): %s", msg);
  return -1;
}

#define PG_PREFIX "perm (gpu): "

/* Prefixes a message from nvk (vkmsg may be err itself), once. */
static int pg_vk_fail(char *err, size_t errlen, const char *vkmsg)
{
  char copy[400];
  snprintf(copy, sizeof copy, "%s", vkmsg);
  if (strncmp(copy, PG_PREFIX, strlen(PG_PREFIX)) == 0) {
    if (err && errlen && err != vkmsg)
      snprintf(err, errlen, "%s", copy);
    return -1;
  }
  return pg_fail(err, errlen, "%s", copy);
}

static uint32_t pg_env_u32(const char *name, uint32_t dflt)
{
  const char *v = getenv(name);
  char *end;
  unsigned long x;
  if (!v || !*v)
    return dflt;
  errno = 0;
  x = strtoul(v, &end, 10);
  return errno || *end || x > UINT32_MAX ? dflt : (uint32_t)x;
}

/* Proposals per block of perm.comp's loop: one move period, each kind
 * written out (3 or-opts of 1, 2 and 3 cities, then 5 2-opts). */
#define PG_BLOCK PERM_MOVE_PERIOD
_Static_assert(PERM_MOVE_PERIOD == 8 && PERM_OR_MOVES == 3,
               "shaders/perm.comp writes out this move mix");

/* Most loop iterations one block can take (perm.comp: `worst`). */
static uint32_t pg_worst(int n)
{
  uint32_t half = (uint32_t)n / 2u;
  return 1u + PG_BLOCK * (half < PERM_MAX_SPAN ? half : PERM_MAX_SPAN);
}

/* ---- device and buffers --------------------------------------------- */

static int pg_check_device(const nvk_device_info *d, int n, int rep,
                           char *err, size_t errlen)
{
  uint64_t mat = (uint64_t)n * (uint64_t)n * sizeof(int32_t);
  uint64_t tours = (uint64_t)n * (uint64_t)rep * sizeof(int32_t);
  if (!d->shader_int64)
    return pg_fail(err, errlen, "%s lacks shaderInt64 (64-bit integers "
                   "in shaders), which the kernel needs", d->name);
  if (!d->subgroup_arithmetic)
    return pg_fail(err, errlen, "%s lacks subgroup arithmetic in compute "
                   "shaders, which the kernel needs", d->name);
  if (mat > d->max_storage_buffer_range)
    return pg_fail(err, errlen, "the %d x %d distance matrix (%llu bytes) "
                   "exceeds %s's maxStorageBufferRange (%u bytes); use "
                   "the CPU solver", n, n, (unsigned long long)mat,
                   d->name, d->max_storage_buffer_range);
  if (tours > d->max_storage_buffer_range)
    return pg_fail(err, errlen, "%d tours of %d cities exceed %s's "
                   "maxStorageBufferRange (%u bytes)", rep, n, d->name,
                   d->max_storage_buffer_range);
  return 0;
}

static int pg_buffer(pg_run *r, int which, size_t bytes, nvk_memory mem,
                     const char *label, const void *data, char *err,
                     size_t errlen)
{
  r->buf[which] = nvk_buffer_create(bytes, mem, label, err, errlen);
  if (!r->buf[which])
    return -1;
  if (data && nvk_buffer_write(r->buf[which], 0, data, bytes, err, errlen))
    return -1;
  return 0;
}

/* The distance matrix the CPU uses, whatever the model holds. */
static int pg_upload_matrix(pg_run *r, char *err, size_t errlen)
{
  size_t n = (size_t)r->n, bytes = n * n * sizeof(int32_t);
  int32_t *mat;
  int rc;
  if (r->m->matrix)
    return pg_buffer(r, PG_DIST, bytes, NVK_MEMORY_AUTO, "perm.dist",
                     r->m->matrix, err, errlen);
  mat = malloc(bytes);
  if (!mat)
    return pg_fail(err, errlen, "out of memory (distance matrix)");
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++)
      mat[i * n + j] = (int32_t)perm_model_dist(r->m, (int)i, (int)j);
  rc = pg_buffer(r, PG_DIST, bytes, NVK_MEMORY_AUTO, "perm.dist", mat, err,
                 errlen);
  free(mat);
  return rc;
}

/* Neighbour lists as (city, distance) pairs; per-slot constants. */
static int pg_upload_plan(pg_run *r, char *err, size_t errlen)
{
  size_t nk = (size_t)r->n * (size_t)r->plan.k;
  int32_t *nbx = malloc(2 * nk * sizeof *nbx);
  uint32_t *sc = calloc((size_t)r->rep * 4, sizeof *sc);
  int rc = -1;
  if (!nbx || !sc) {
    pg_fail(err, errlen, "out of memory (plan)");
    goto done;
  }
  for (size_t i = 0; i < nk; i++) {
    nbx[2 * i] = r->plan.nb[i];
    nbx[2 * i + 1] = r->plan.nbd[i];
  }
  for (int s = 0; s < r->rep; s++) {
    uint32_t tq = r->plan.tq[s];
    sc[4 * s] = rng_slot_key(r->seed_key, (uint32_t)s);
    sc[4 * s + 1] = tq;
    sc[4 * s + 2] = (uint32_t)(((uint64_t)tq * r->plan.neglog[0]) >> 32);
  }
  if (pg_buffer(r, PG_NBX, 2 * nk * sizeof *nbx, NVK_MEMORY_AUTO,
                "perm.nbx", nbx, err, errlen)
      || pg_buffer(r, PG_NEGLOG, sizeof r->plan.neglog, NVK_MEMORY_AUTO,
                   "perm.neglog", r->plan.neglog, err, errlen)
      || pg_buffer(r, PG_SLOTS, (size_t)r->rep * 4 * sizeof *sc,
                   NVK_MEMORY_AUTO, "perm.slots", sc, err, errlen))
    goto done;
  rc = 0;
done:
  free(nbx);
  free(sc);
  return rc;
}

/* Starting tours (as perm.c makes them) into states 0..rep-1. */
static int pg_upload_tours(pg_run *r, char *err, size_t errlen)
{
  size_t n = (size_t)r->n, all = n * (size_t)r->rep;
  int32_t *tour = malloc(all * sizeof *tour);
  int32_t *pos = malloc(all * sizeof *pos);
  int32_t *start = NULL;
  int rc = -1;
  if (!tour || !pos || perm_start_tour(r->m, &r->plan, &start)) {
    pg_fail(err, errlen, "out of memory (starting tours)");
    goto done;
  }
  for (int s = 0; s < r->rep; s++) {
    int32_t *t = tour + n * (size_t)s, *p = pos + n * (size_t)s;
    perm_init_tour(r->n, start, rng_slot_key(r->seed_key, (uint32_t)s), t);
    for (size_t i = 0; i < n; i++)
      p[t[i]] = (int32_t)i;
    r->energy[s] = perm_tour_length(r->m, t);
    r->map[s] = (uint32_t)s;
  }
  /* The starting best, as serial_start finds it. */
  for (int s = 0; s < r->rep; s++)
    if (r->energy[s] < r->best_energy) {
      r->best_energy = r->energy[s];
      memcpy(r->best, tour + n * (size_t)s, n * sizeof *r->best);
    }
  if (pg_buffer(r, PG_TOUR, all * sizeof *tour, NVK_MEMORY_AUTO,
                "perm.tour", tour, err, errlen)
      || pg_buffer(r, PG_POS, all * sizeof *pos, NVK_MEMORY_AUTO,
                   "perm.pos", pos, err, errlen)
      || pg_buffer(r, PG_CTL, (size_t)r->rep * PG_CTL_WORDS * 4,
                   NVK_MEMORY_HOST, "perm.ctl", NULL, err, errlen)
      || pg_buffer(r, PG_ENERGY, (size_t)r->rep * sizeof *r->energy,
                   NVK_MEMORY_HOST, "perm.energy", r->energy, err, errlen))
    goto done;
  rc = 0;
done:
  free(start);
  free(pos);
  free(tour);
  return rc;
}

static int pg_setup(pg_run *r, char *err, size_t errlen)
{
  nvk_pipeline *pipe;
  r->map = calloc((size_t)r->rep, sizeof *r->map);
  r->ctl = calloc((size_t)r->rep * PG_CTL_WORDS, sizeof *r->ctl);
  r->energy = calloc((size_t)r->rep, sizeof *r->energy);
  r->best = malloc((size_t)r->n * sizeof *r->best);
  if (!r->map || !r->ctl || !r->energy || !r->best)
    return pg_fail(err, errlen, "out of memory (replica state)");
  if (pg_upload_matrix(r, err, errlen) || pg_upload_plan(r, err, errlen)
      || pg_upload_tours(r, err, errlen))
    return -1;
  pipe = nvk_pipeline_get("perm", PG_NBUF, sizeof(pg_push), err, errlen);
  if (!pipe)
    return -1;
  r->bind = nvk_binding_create(pipe, r->buf, PG_NBUF, err, errlen);
  return r->bind ? 0 : -1;
}

static void pg_teardown(pg_run *r)
{
  nvk_binding_destroy(r->bind);
  for (int b = PG_NBUF - 1; b >= 0; b--)
    nvk_buffer_destroy(r->buf[b]);
  free(r->best);
  free(r->energy);
  free(r->ctl);
  free(r->map);
  perm_plan_free(&r->plan);
}

/* ---- serial phases, as perm.c --------------------------------------- */

static uint64_t pg_proposals(const pg_run *r)
{
  return (uint64_t)r->sweeps_done * (uint64_t)r->n * (uint64_t)r->rep;
}

static int pg_call_progress(pg_run *r, double now)
{
  perm_progress pg = { r->sweeps_done, r->best_energy,
                       r->energy[r->map[0]], now - r->t0, r->rep,
                       pg_proposals(r), r->best };
  r->last_cb = now;
  return r->progress(r->ud, &pg) != 0;
}

/* perm.c decide_stop, less the worker failure. */
static void pg_decide_stop(pg_run *r)
{
  const perm_params *p = r->par;
  double now = clock_mono_s();
  if (p->has_target && r->best_energy <= p->target_energy)
    r->stop = 1, r->why = PERM_STOP_TARGET;
  else if (p->sweeps > 0 && r->sweeps_done >= p->sweeps)
    r->stop = 1, r->why = PERM_STOP_SWEEPS;
  else if (p->time_limit > 0 && now - r->t0 >= p->time_limit)
    r->stop = 1, r->why = PERM_STOP_TIME;
  else if (r->progress && now - r->last_cb >= PG_CALLBACK_PERIOD_S
           && pg_call_progress(r, now))
    r->stop = 1, r->why = PERM_STOP_CALLBACK;
}

static void pg_next_round_len(pg_run *r)
{
  r->round_len = r->plan.round_sweeps;
  if (r->par->sweeps > 0 && r->par->sweeps - r->sweeps_done < r->round_len)
    r->round_len = r->par->sweeps - r->sweeps_done;
}

/* perm.c exchange(): pairs of the round's parity swap states. */
static void pg_exchange(pg_run *r)
{
  uint32_t lo = (uint32_t)r->round, hi = (uint32_t)(r->round >> 32);
  for (int i = (int)(r->round & 1); i + 1 < r->rep; i += 2) {
    uint32_t u = rng_exchange(r->seed_key, lo, hi, (uint32_t)i);
    int64_t ec = r->energy[r->map[i]], eh = r->energy[r->map[i + 1]];
    if (perm_accept(eh - ec, r->plan.txq[i], r->plan.neglog, u)) {
      uint32_t t = r->map[i];
      r->map[i] = r->map[i + 1];
      r->map[i + 1] = t;
    }
  }
}

/* perm.c track_best(): the lowest slot, ties to the lower index. */
static int pg_track_best(pg_run *r, char *err, size_t errlen)
{
  int at = 0;
  for (int s = 1; s < r->rep; s++)
    if (r->energy[r->map[s]] < r->energy[r->map[at]])
      at = s;
  if (r->energy[r->map[at]] >= r->best_energy)
    return 0;
  r->best_energy = r->energy[r->map[at]];
  size_t bytes = (size_t)r->n * sizeof *r->best;
  return nvk_buffer_read(r->buf[PG_TOUR], (VkDeviceSize)r->map[at] * bytes,
                         r->best, bytes, err, errlen);
}

/* Time limit or callback while a round is under way: the round is then
 * dropped, and the run ends with the rounds completed. */
static int pg_stop_within_round(pg_run *r)
{
  double now = clock_mono_s();
  if (r->par->time_limit > 0 && now - r->t0 >= r->par->time_limit) {
    r->why = PERM_STOP_TIME;
    return 1;
  }
  if (r->progress && now - r->last_cb >= PG_CALLBACK_PERIOD_S
      && pg_call_progress(r, now)) {
    r->why = PERM_STOP_CALLBACK;
    return 1;
  }
  return 0;
}

/* ---- rounds on the device ------------------------------------------- */

/* Reads the slots' progress: returns how many are unfinished, or -1 with
 * err when a dispatch was cut short or made no progress. */
static int pg_check_ctl(pg_run *r, uint32_t total, uint32_t *before,
                        char *err, size_t errlen)
{
  int open = 0, moved = 0;
  size_t bytes = (size_t)r->rep * PG_CTL_WORDS * sizeof *r->ctl;
  if (nvk_buffer_read(r->buf[PG_CTL], 0, r->ctl, bytes, err, errlen))
    return -1;
  for (int s = 0; s < r->rep; s++) {
    const uint32_t *c = r->ctl + PG_CTL_WORDS * s;
    if (c[3] || c[1] != c[2] || c[1] > total)
      return pg_fail(err, errlen, "a dispatch was cut short (slot %d "
                     "stopped at proposal %u of %u, planned %u, flags %u):"
                     " the driver ended the shader's loops early; the "
                     "tours are not valid", s, c[1], total, c[2], c[3]);
    moved |= c[1] != before[s];
    before[s] = c[1];
    open += c[1] < total;
  }
  if (open && !moved)
    return pg_fail(err, errlen, "a dispatch made no progress (loop budget "
                   "%u below one block's %u iterations)", r->budget,
                   pg_worst(r->n));
  return open;
}

/* One exchange round: 1 on an early stop (time or callback), 0 when
 * done, -1 with err. */
static int pg_round(pg_run *r, char *err, size_t errlen)
{
  uint32_t total = (uint32_t)r->round_len * (uint32_t)r->n;
  uint32_t *before = calloc((size_t)r->rep, sizeof *before);
  pg_push push = { (uint32_t)r->n, (uint32_t)r->plan.k, (uint32_t)r->rep,
                   total, (uint32_t)r->sweeps_done,
                   (uint32_t)(r->sweeps_done >> 32), r->budget, r->cut,
                   0 };
  uint32_t groups = ((uint32_t)r->rep + PG_GROUP_SIZE - 1) / PG_GROUP_SIZE;
  /* llvmpipe's thread pool gives each of its threads (2 on 2 cores) the
   * same count of consecutive workgroups, and the one left over to the
   * thread that comes back first. Slots run coldest first, and a hot slot
   * costs most (long reversals; a SIMD batch pays for its longest lane),
   * so with an odd count the spare group would be the hottest and land on
   * the thread that ran the coldest: run the slots hottest first instead,
   * which leaves the coldest group over (18 replicas: hot 8 | mid 8,
   * cold 2 rather than cold 8, hot 2 | mid 8). Results do not change:
   * slots are independent within a round. */
  push.flip = groups % 2 == 1 && groups > 1;
  nvk_step steps[PG_MAX_BATCH];
  int open = 1, used = 0, rc = -1;
  if (!before)
    return pg_fail(err, errlen, "out of memory (round)");
  for (int s = 0; s < r->rep; s++) {
    uint32_t *c = r->ctl + PG_CTL_WORDS * s;
    c[0] = r->map[s];
    c[1] = c[2] = c[3] = 0;
  }
  if (nvk_buffer_write(r->buf[PG_CTL], 0, r->ctl, (size_t)r->rep
                       * PG_CTL_WORDS * sizeof *r->ctl, err, errlen))
    goto done;
  for (int b = 0; b < PG_MAX_BATCH; b++)
    steps[b] = (nvk_step){ r->bind, &push, { groups, 1, 1 } };
  while (open > 0) {
    if (used > 0 && pg_stop_within_round(r)) {
      rc = 1;
      goto done;
    }
    if (nvk_dispatch(steps, (uint32_t)r->batch, NVK_DEFAULT_TIMEOUT_MS, err,
                     errlen))
      goto done;
    used += r->batch;
    open = pg_check_ctl(r, total, before, err, errlen);
    if (open < 0)
      goto done;
  }
  /* Next round: as many dispatches as this one took, at once; one fewer
   * when one submission was enough, so that the count follows the rounds
   * down too (hot random tours at the start need several, and each
   * dispatch past the last costs a few microseconds). */
  if (used > r->batch)
    r->batch = used < PG_MAX_BATCH ? used : PG_MAX_BATCH;
  else if (r->batch > 1)
    r->batch--;
  rc = nvk_buffer_read(r->buf[PG_ENERGY], 0, r->energy, (size_t)r->rep
                       * sizeof *r->energy, err, errlen);
done:
  free(before);
  return rc;
}

/* perm.c's work loop, with serial_round between rounds. */
static int pg_anneal(pg_run *r, char *err, size_t errlen)
{
  pg_decide_stop(r);
  pg_next_round_len(r);
  while (!r->stop) {
    int rc = pg_round(r, err, errlen);
    if (rc < 0)
      return pg_vk_fail(err, errlen, err);
    if (rc > 0)
      return 0;
    r->sweeps_done += r->round_len;
    pg_exchange(r);
    r->round++;
    if (pg_track_best(r, err, errlen))
      return pg_vk_fail(err, errlen, err);
    pg_decide_stop(r);
    pg_next_round_len(r);
  }
  return 0;
}

/* ---- result and entry point ----------------------------------------- */

static int pg_finish(pg_run *r, perm_result *res, char *err, size_t errlen)
{
  char *seen = calloc((size_t)r->n, 1);
  int ok = seen != NULL;
  for (int i = 0; ok && i < r->n; i++) {
    int32_t c = r->best[i];
    ok = c >= 0 && c < r->n && !seen[c];
    if (ok)
      seen[c] = 1;
  }
  free(seen);
  if (!ok)
    return pg_fail(err, errlen, "the device returned a tour that is not "
                   "a permutation");
  res->tour = r->best;
  r->best = NULL;
  res->energy = perm_tour_length(r->m, res->tour);
  res->sweeps = r->sweeps_done;
  res->replicas = r->rep;
  res->proposals = pg_proposals(r);
  res->elapsed_s = clock_mono_s() - r->t0;
  res->stop = r->why;
  if (res->energy != r->best_energy)
    return pg_fail(err, errlen, "internal error: tracked length %lld "
                   "differs from the tour's %lld",
                   (long long)r->best_energy, (long long)res->energy);
  return 0;
}

/* Threads for the neighbour lists: as perm_solve_cpu chooses. */
static int pg_threads(const perm_params *p)
{
  long c = sysconf(_SC_NPROCESSORS_ONLN);
  if (p->threads > 0)
    return p->threads;
  if (c < 1)
    return 1;
  return c > PERM_MAX_THREADS ? PERM_MAX_THREADS : (int)c;
}

static int pg_solve(pg_run *r, perm_result *res, char *device,
                    size_t devlen, char *err, size_t errlen)
{
  nvk_device_info info;
  char msg[400];
  if (nvk_device(&info, msg, sizeof msg))
    return pg_vk_fail(err, errlen, msg);
  if (device && devlen)
    snprintf(device, devlen, "%s", info.name);
  if (perm_plan_build(r->m, r->par->replicas, pg_threads(r->par),
                      &r->plan, err, errlen))
    return -1;
  r->rep = r->plan.replicas;
  if (pg_check_device(&info, r->n, r->rep, err, errlen))
    return -1;
  if (pg_setup(r, msg, sizeof msg))
    return pg_vk_fail(err, errlen, msg);
  if (pg_anneal(r, err, errlen))
    return -1;
  if (pg_finish(r, res, err, errlen)) {
    free(res->tour);
    res->tour = NULL;
    return -1;
  }
  return 0;
}

int perm_solve_gpu(const perm_model *m, const perm_params *p,
                   perm_progress_fn progress, void *ud, perm_result *res,
                   char *device, size_t devlen, char *err, size_t errlen)
{
  pg_run r;
  int rc;
  if (device && devlen)
    device[0] = 0;
  if (res)
    memset(res, 0, sizeof *res);
  if (!res)
    return pg_fail(err, errlen, "a result is required");
  if (perm_check_args(m, p, err, errlen))
    return -1;
  memset(&r, 0, sizeof r);
  r.t0 = clock_mono_s();
  r.last_cb = r.t0;
  r.m = m;
  r.n = m->n;
  r.par = p;
  r.progress = progress;
  r.ud = ud;
  r.best_energy = INT64_MAX;
  r.seed_key = rng_seed_key((uint32_t)p->seed, (uint32_t)(p->seed >> 32));
  r.budget = pg_env_u32(PG_ENV_BUDGET, PG_LOOP_BUDGET);
  r.cut = pg_env_u32(PG_ENV_CUT, 0);
  r.batch = 1;
  rc = pg_solve(&r, res, device, devlen, err, errlen);
  pg_teardown(&r);
  return rc;
}
