/* The `perm` kernel through Vulkan: shaders/perm.comp anneals every
 * temperature slot on the device (one invocation per slot); this file runs
 * the rounds and does between them what host/anneal/perm.c does at its
 * barrier, in the same order: exchanges, best tracking, stopping rules and
 * the progress callback. So a sweep-limited run gives the same tour and
 * energy on both backends.
 *
 * Device state: tours and positions of every state (replicas x n int32),
 * a slot -> state map (exchanges permute it; slot keys and temperatures
 * stay with the slots), the energy of each state (int64). The rounds of
 * dispatches, the stopping rules and the callback are gpu_run.c's; the
 * tours, the push constants, exchanges and reading the best tour are
 * this file's. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anneal/perm_internal.h"
#include "anneal/rng.h"
#include "vk/gpu_run.h"
#include "vk/perm_gpu.h"
#include "vk/vk.h"

/* Buffers of perm.comp, in binding order. */
enum {
  PG_DIST, PG_NBX, PG_NEGLOG, PG_SLOTS, PG_TOUR, PG_POS, PG_CTL, PG_ENERGY,
  PG_NBUF
};
#define PG_PREFIX "perm (gpu): "

/* The run's constants. Test-only knobs: end the proposal loop at this q
 * (emulating a driver's loop limit), and replace the loop budget. */
static const gpu_run_kind pg_kind = {
  PG_PREFIX, "perm", "NEROX_PERM_GPU_TEST_CUT",
  "NEROX_PERM_GPU_TEST_BUDGET", "proposal", "tours", "one block's", 0,
  PG_NBUF, PG_CTL, PG_ENERGY
};

/* perm.comp's push constants. */
typedef struct pg_push {
  uint32_t n, k, replicas, total, sweep_lo, sweep_hi, budget, cut, flip;
} pg_push;

typedef struct pg_run {
  gpu_run g;
  const perm_model *m;
  perm_plan plan;
} pg_run;

#define pg_fail(err, errlen, ...) \
  gpu_run_fail(err, errlen, PG_PREFIX, __VA_ARGS__)

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

static int pg_check_device(const pg_run *r, const nvk_device_info *d,
                           char *err, size_t errlen)
{
  int n = r->g.n, rep = r->g.rep;
  uint64_t mat = (uint64_t)n * (uint64_t)n * sizeof(int32_t);
  uint64_t tours = (uint64_t)n * (uint64_t)rep * sizeof(int32_t);
  if (gpu_run_check_features(&r->g, d, err, errlen))
    return -1;
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

/* The distance matrix the CPU uses, whatever the model holds. */
static int pg_upload_matrix(pg_run *r, char *err, size_t errlen)
{
  size_t n = (size_t)r->g.n, bytes = n * n * sizeof(int32_t);
  int32_t *mat;
  int rc;
  if (r->m->matrix)
    return gpu_run_buffer(&r->g, PG_DIST, bytes, NVK_MEMORY_AUTO,
                          "perm.dist", r->m->matrix, err, errlen);
  mat = malloc(bytes);
  if (!mat)
    return pg_fail(err, errlen, "out of memory (distance matrix)");
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++)
      mat[i * n + j] = (int32_t)perm_model_dist(r->m, (int)i, (int)j);
  rc = gpu_run_buffer(&r->g, PG_DIST, bytes, NVK_MEMORY_AUTO, "perm.dist",
                      mat, err, errlen);
  free(mat);
  return rc;
}

/* Neighbour lists as (city, distance) pairs; per-slot constants. */
static int pg_upload_plan(pg_run *r, char *err, size_t errlen)
{
  size_t nk = (size_t)r->g.n * (size_t)r->plan.k;
  int32_t *nbx = malloc(2 * nk * sizeof *nbx);
  uint32_t *sc = calloc((size_t)r->g.rep * 4, sizeof *sc);
  int rc = -1;
  if (!nbx || !sc) {
    pg_fail(err, errlen, "out of memory (plan)");
    goto done;
  }
  for (size_t i = 0; i < nk; i++) {
    nbx[2 * i] = r->plan.nb[i];
    nbx[2 * i + 1] = r->plan.nbd[i];
  }
  for (int s = 0; s < r->g.rep; s++) {
    uint32_t tq = r->plan.tq[s];
    sc[4 * s] = rng_slot_key(r->g.seed_key, (uint32_t)s);
    sc[4 * s + 1] = tq;
    sc[4 * s + 2] = (uint32_t)(((uint64_t)tq * r->plan.neglog[0]) >> 32);
  }
  if (gpu_run_buffer(&r->g, PG_NBX, 2 * nk * sizeof *nbx, NVK_MEMORY_AUTO,
                     "perm.nbx", nbx, err, errlen)
      || gpu_run_buffer(&r->g, PG_NEGLOG, sizeof r->plan.neglog,
                        NVK_MEMORY_AUTO, "perm.neglog", r->plan.neglog, err,
                        errlen)
      || gpu_run_buffer(&r->g, PG_SLOTS, (size_t)r->g.rep * 4 * sizeof *sc,
                        NVK_MEMORY_AUTO, "perm.slots", sc, err, errlen))
    goto done;
  rc = 0;
done:
  free(nbx);
  free(sc);
  return rc;
}

/* Starting tours (as perm.c makes them) into states 0..rep-1, and the
 * starting best, as serial_start finds it. */
static int pg_upload_tours(pg_run *r, char *err, size_t errlen)
{
  gpu_run *g = &r->g;
  size_t n = (size_t)g->n, all = n * (size_t)g->rep;
  int32_t *tour = malloc(all * sizeof *tour);
  int32_t *pos = malloc(all * sizeof *pos);
  int32_t *start = NULL;
  int rc = -1;
  if (!tour || !pos || perm_start_tour(r->m, &r->plan, &start)) {
    pg_fail(err, errlen, "out of memory (starting tours)");
    goto done;
  }
  for (int s = 0; s < g->rep; s++) {
    int32_t *t = tour + n * (size_t)s, *p = pos + n * (size_t)s;
    perm_init_tour(g->n, start, rng_slot_key(g->seed_key, (uint32_t)s), t);
    for (size_t i = 0; i < n; i++)
      p[t[i]] = (int32_t)i;
    g->energy[s] = perm_tour_length(r->m, t);
    g->map[s] = (uint32_t)s;
  }
  for (int s = 0; s < g->rep; s++)
    if (g->energy[s] < g->best_energy) {
      g->best_energy = g->energy[s];
      memcpy(g->best, tour + n * (size_t)s, n * sizeof *g->best);
    }
  if (gpu_run_buffer(g, PG_TOUR, all * sizeof *tour, NVK_MEMORY_AUTO,
                     "perm.tour", tour, err, errlen)
      || gpu_run_buffer(g, PG_POS, all * sizeof *pos, NVK_MEMORY_AUTO,
                        "perm.pos", pos, err, errlen)
      || gpu_run_state_buffers(g, err, errlen))
    goto done;
  rc = 0;
done:
  free(start);
  free(pos);
  free(tour);
  return rc;
}

static int pg_setup(void *self, char *err, size_t errlen)
{
  pg_run *r = self;
  if (gpu_run_alloc(&r->g, err, errlen))
    return -1;
  if (pg_upload_matrix(r, err, errlen) || pg_upload_plan(r, err, errlen)
      || pg_upload_tours(r, err, errlen))
    return -1;
  return gpu_run_bind(&r->g, "perm", sizeof(pg_push), err, errlen);
}

/* ---- serial phases, as perm.c --------------------------------------- */

/* perm.c exchange(): pairs of the round's parity swap states. */
static void pg_exchange(void *self)
{
  pg_run *r = self;
  gpu_run *g = &r->g;
  uint32_t lo = (uint32_t)g->round, hi = (uint32_t)(g->round >> 32);
  for (int i = (int)(g->round & 1); i + 1 < g->rep; i += 2) {
    uint32_t u = rng_exchange(g->seed_key, lo, hi, (uint32_t)i);
    int64_t ec = g->energy[g->map[i]], eh = g->energy[g->map[i + 1]];
    if (perm_accept(eh - ec, r->plan.txq[i], r->plan.neglog, u)) {
      uint32_t t = g->map[i];
      g->map[i] = g->map[i + 1];
      g->map[i + 1] = t;
    }
  }
}

/* perm.c track_best(): the lowest slot, ties to the lower index. */
static int pg_track_best(void *self, char *err, size_t errlen)
{
  gpu_run *g = &((pg_run *)self)->g;
  size_t bytes = (size_t)g->n * sizeof *g->best;
  int at = gpu_run_best_slot(g);
  if (at < 0)
    return 0;
  return nvk_buffer_read(g->buf[PG_TOUR], (VkDeviceSize)g->map[at] * bytes,
                         g->best, bytes, err, errlen);
}

/* ---- rounds on the device ------------------------------------------- */

/* One exchange round: 1 on an early stop (time or callback), 0 when
 * done, -1 with err. */
static int pg_round(void *self, char *err, size_t errlen)
{
  pg_run *r = self;
  gpu_run *g = &r->g;
  uint32_t total = (uint32_t)g->round_len * (uint32_t)g->n;
  uint32_t groups = gpu_run_groups(g);
  pg_push push = { (uint32_t)g->n, (uint32_t)r->plan.k, (uint32_t)g->rep,
                   total, (uint32_t)g->sweeps_done,
                   (uint32_t)(g->sweeps_done >> 32), g->budget, g->cut,
                   0 };
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
  return gpu_run_round(g, &push, total, err, errlen);
}

/* ---- result and entry point ----------------------------------------- */

static int pg_finish(void *self, perm_result *res, char *err, size_t errlen)
{
  pg_run *r = self;
  int n = r->g.n;
  const int32_t *best = r->g.best;
  char *seen = calloc((size_t)n, 1);
  int ok = seen != NULL;
  for (int i = 0; ok && i < n; i++) {
    int32_t c = best[i];
    ok = c >= 0 && c < n && !seen[c];
    if (ok)
      seen[c] = 1;
  }
  free(seen);
  if (!ok)
    return pg_fail(err, errlen, "the device returned a tour that is not "
                   "a permutation");
  gpu_run_fill(&r->g, res);
  res->energy = perm_tour_length(r->m, res->tour);
  if (res->energy != r->g.best_energy)
    return pg_fail(err, errlen, "internal error: tracked length %lld "
                   "differs from the tour's %lld",
                   (long long)r->g.best_energy, (long long)res->energy);
  return 0;
}

static const gpu_run_ops pg_ops = {
  pg_setup, pg_round, pg_exchange, pg_track_best, pg_finish
};

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
  gpu_run *g = &r->g;
  nvk_device_info info;
  if (gpu_run_device(g, &info, device, devlen, err, errlen))
    return -1;
  int replicas = g->par->replicas > 0 ? g->par->replicas
                                      : PERM_GPU_DEFAULT_REPLICAS;
  if (perm_plan_build(r->m, replicas, pg_threads(g->par), &r->plan, err,
                      errlen))
    return -1;
  g->rep = r->plan.replicas;
  g->round_sweeps = r->plan.round_sweeps;
  g->worst = pg_worst(g->n);
  if (pg_check_device(r, &info, err, errlen))
    return -1;
  return gpu_run_solve(g, &pg_ops, r, res, err, errlen);
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
  r.m = m;
  gpu_run_init(&r.g, &pg_kind, m->n, p, progress, ud);
  rc = pg_solve(&r, res, device, devlen, err, errlen);
  gpu_run_teardown(&r.g);
  perm_plan_free(&r.plan);
  return rc;
}
