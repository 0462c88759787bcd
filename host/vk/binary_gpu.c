/* The `binary` kernel through Vulkan: shaders/binary_*.comp anneal every
 * temperature slot on the device (one invocation per slot, sites in order
 * as on the CPU); this file runs the rounds and does between them what
 * host/anneal/binary.c does at its barrier, in the same order: exchanges,
 * best tracking, stopping rules and the progress callback. So a
 * sweep-limited run gives the same assignment and energy on both
 * backends.
 *
 * Host data is the CPU's plan (binary_plan_build): ladder, -ln table,
 * narrow or wide fields, dense or CSR layout; the shader variant follows
 * the plan. Device state: assignments (replicas x n uint32), fields
 * (int32 or int64), a slot -> state map (exchanges permute it; slot keys
 * and temperatures stay with the slots), the energy of each state. The
 * rounds of dispatches, the stopping rules and the callback are
 * gpu_run.c's; the couplings, states, push constants, exchanges and
 * reading the best state are this file's. */
#include <stdlib.h>
#include <string.h>

#include "anneal/binary_internal.h"
#include "anneal/rng.h"
#include "vk/binary_gpu.h"
#include "vk/gpu_run.h"
#include "vk/vk.h"

/* Buffers of binary.glsl, in binding order. */
enum {
  BG_ROWS, BG_CV, BG_MAT, BG_NEGLOG, BG_SLOTS, BG_X, BG_F, BG_CTL,
  BG_ENERGY, BG_NBUF
};
#define BG_PREFIX "binary (gpu): "

/* The run's constants; the smallest buffer is the one bound where the
 * layout needs none. Test-only knobs: end the site loop at this q
 * (emulating a driver's loop limit), and replace the loop budget. */
static const gpu_run_kind bg_kind = {
  BG_PREFIX, "binary", "NEROX_BINARY_GPU_TEST_CUT",
  "NEROX_BINARY_GPU_TEST_BUDGET", "site visit", "states",
  "one site visit's", 16, BG_NBUF, BG_CTL, BG_ENERGY
};

/* binary.glsl's push constants. */
typedef struct bg_push {
  uint32_t n, replicas, total, sweep_lo, sweep_hi, budget, cut, shift,
           worst;
} bg_push;

typedef struct bg_run {
  gpu_run g;
  const binary_model *m;
  binary_plan plan;
  uint32_t *xbuf;        /* n words read back for the best state */
} bg_run;

#define bg_fail(err, errlen, ...) \
  gpu_run_fail(err, errlen, BG_PREFIX, __VA_ARGS__)

/* Most loop iterations one site visit can take: the site loop's one and
 * the longest field update (counted as at least 1). */
static uint32_t bg_worst(const binary_model *m, int dense)
{
  int64_t most = 1;
  if (dense)
    most = m->n;
  else
    for (int i = 0; i < m->n; i++)
      if (m->row_start[i + 1] - m->row_start[i] > most)
        most = m->row_start[i + 1] - m->row_start[i];
  return 1u + (uint32_t)most;
}

/* ---- device and buffers --------------------------------------------- */

static int bg_check_size(const nvk_device_info *d, uint64_t bytes,
                         const char *what, char *err, size_t errlen)
{
  if (bytes <= d->max_storage_buffer_range)
    return 0;
  return bg_fail(err, errlen, "the %s (%llu bytes) exceed %s's "
                 "maxStorageBufferRange (%u bytes); use the CPU solver",
                 what, (unsigned long long)bytes, d->name,
                 d->max_storage_buffer_range);
}

static int bg_check_device(const bg_run *r, const nvk_device_info *d,
                           char *err, size_t errlen)
{
  int n32 = r->g.n, rep32 = r->g.rep;
  uint64_t n = (uint64_t)n32, rep = (uint64_t)rep32;
  uint64_t nnz = (uint64_t)r->m->row_start[n32];
  uint64_t visits = (uint64_t)r->plan.round_sweeps * n;
  uint64_t fields = n * rep * (r->plan.narrow ? 4 : 8);
  if (gpu_run_check_features(&r->g, d, err, errlen))
    return -1;
  if (visits > UINT32_MAX || n * rep > UINT32_MAX || nnz > UINT32_MAX)
    return bg_fail(err, errlen, "the model is too large for the kernel's "
                   "32-bit indices (n %d, %d replicas, %llu couplings)",
                   n32, rep32, (unsigned long long)nnz);
  if (r->plan.dense)
    return bg_check_size(d, n * n * 4, "dense couplings", err, errlen)
           || bg_check_size(d, fields, "replica fields", err, errlen);
  return bg_check_size(d, nnz * 8, "CSR couplings", err, errlen)
         || bg_check_size(d, fields, "replica fields", err, errlen);
}

/* CSR as row offsets and (col, val) pairs, or the plan's dense matrix;
 * a small unused buffer in the other bindings. */
static int bg_upload_couplings(bg_run *r, char *err, size_t errlen)
{
  const binary_model *m = r->m;
  gpu_run *g = &r->g;
  size_t n = (size_t)g->n, nnz = (size_t)m->row_start[g->n];
  uint32_t *rows = NULL;
  int32_t *cv = NULL;
  int rc = -1;
  if (r->plan.dense)
    return gpu_run_buffer(g, BG_MAT, n * n * sizeof(int32_t),
                          NVK_MEMORY_AUTO, "binary.mat", r->plan.mat, err,
                          errlen)
           || gpu_run_buffer(g, BG_ROWS, 0, NVK_MEMORY_AUTO, "binary.rows",
                             NULL, err, errlen)
           || gpu_run_buffer(g, BG_CV, 0, NVK_MEMORY_AUTO, "binary.cv",
                             NULL, err, errlen);
  rows = malloc((n + 1) * sizeof *rows);
  cv = malloc((2 * nnz + 4) * sizeof *cv);
  if (!rows || !cv) {
    bg_fail(err, errlen, "out of memory (couplings)");
    goto done;
  }
  for (size_t i = 0; i <= n; i++)
    rows[i] = (uint32_t)m->row_start[i];
  for (size_t k = 0; k < nnz; k++) {
    cv[2 * k] = m->col[k];
    cv[2 * k + 1] = m->val[k];
  }
  if (gpu_run_buffer(g, BG_ROWS, (n + 1) * sizeof *rows, NVK_MEMORY_AUTO,
                     "binary.rows", rows, err, errlen)
      || gpu_run_buffer(g, BG_CV, 2 * nnz * sizeof *cv, NVK_MEMORY_AUTO,
                        "binary.cv", nnz ? cv : NULL, err, errlen)
      || gpu_run_buffer(g, BG_MAT, 0, NVK_MEMORY_AUTO, "binary.mat", NULL,
                        err, errlen))
    goto done;
  rc = 0;
done:
  free(cv);
  free(rows);
  return rc;
}

/* Per-slot constants and the -ln table. */
static int bg_upload_plan(bg_run *r, char *err, size_t errlen)
{
  gpu_run *g = &r->g;
  uint32_t *sc = calloc((size_t)g->rep * 4, sizeof *sc);
  int rc;
  if (!sc)
    return bg_fail(err, errlen, "out of memory (plan)");
  for (int s = 0; s < g->rep; s++) {
    sc[4 * s] = rng_slot_key(g->seed_key, (uint32_t)s);
    sc[4 * s + 1] = r->plan.lad.tq[s];
  }
  rc = gpu_run_buffer(g, BG_NEGLOG, sizeof r->plan.lad.neglog,
                      NVK_MEMORY_AUTO, "binary.neglog", r->plan.lad.neglog,
                      err, errlen)
       || gpu_run_buffer(g, BG_SLOTS, (size_t)g->rep * 4 * sizeof *sc,
                         NVK_MEMORY_AUTO, "binary.slots", sc, err, errlen)
       ? -1 : 0;
  free(sc);
  return rc;
}

/* binary.c init_slot: x from the slot's stream, its fields and energy. */
static void bg_init_state(const bg_run *r, int s, uint32_t *x, void *fv)
{
  const binary_model *m = r->m;
  uint32_t key = rng_slot_key(r->g.seed_key, (uint32_t)s);
  int32_t *f32 = fv;
  int64_t *f64 = fv, e = 0;
  for (int i = 0; i < m->n; i++)
    x[i] = rng_hash3(key, RNG_DOMAIN_INIT, (uint32_t)i) >> 31;
  for (int i = 0; i < m->n; i++) {
    int64_t f = m->h[i], g = 0;
    for (int64_t k = m->row_start[i]; k < m->row_start[i + 1]; k++)
      if (x[m->col[k]]) {
        f += m->val[k];
        if (m->col[k] > i)
          g += m->val[k];
      }
    if (r->plan.narrow)
      f32[i] = (int32_t)f;
    else
      f64[i] = f;
    if (x[i])
      e += m->h[i] + g;
  }
  r->g.energy[s] = e;
}

/* Starting states (as binary.c makes them) into states 0..rep-1, and the
 * starting best, as serial_start finds it. */
static int bg_upload_states(bg_run *r, char *err, size_t errlen)
{
  gpu_run *g = &r->g;
  size_t n = (size_t)g->n, all = n * (size_t)g->rep;
  size_t fsz = r->plan.narrow ? 4 : 8;
  uint32_t *x = malloc(all * sizeof *x);
  unsigned char *f = malloc(all * fsz);
  int rc = -1, at = 0;
  if (!x || !f) {
    bg_fail(err, errlen, "out of memory (starting states)");
    goto done;
  }
  for (int s = 0; s < g->rep; s++) {
    bg_init_state(r, s, x + n * (size_t)s, f + n * fsz * (size_t)s);
    g->map[s] = (uint32_t)s;
    if (g->energy[s] < g->energy[at])
      at = s;
  }
  g->best_energy = g->energy[at];
  for (size_t i = 0; i < n; i++)
    g->best[i] = (int32_t)x[n * (size_t)at + i];
  if (gpu_run_buffer(g, BG_X, all * sizeof *x, NVK_MEMORY_AUTO, "binary.x",
                     x, err, errlen)
      || gpu_run_buffer(g, BG_F, all * fsz, NVK_MEMORY_AUTO, "binary.f", f,
                        err, errlen)
      || gpu_run_state_buffers(g, err, errlen))
    goto done;
  rc = 0;
done:
  free(f);
  free(x);
  return rc;
}

/* The shader variant the plan asks for. */
static const char *bg_shader(const binary_plan *pl)
{
  if (pl->narrow)
    return pl->dense ? "binary_nd" : "binary_ns";
  return pl->dense ? "binary_wd" : "binary_ws";
}

static int bg_setup(void *self, char *err, size_t errlen)
{
  bg_run *r = self;
  r->xbuf = malloc((size_t)r->g.n * sizeof *r->xbuf);
  if (gpu_run_alloc(&r->g, err, errlen))
    return -1;
  if (!r->xbuf)
    return bg_fail(err, errlen, "out of memory (replica state)");
  if (bg_upload_couplings(r, err, errlen) || bg_upload_plan(r, err, errlen)
      || bg_upload_states(r, err, errlen))
    return -1;
  return gpu_run_bind(&r->g, bg_shader(&r->plan), sizeof(bg_push), err,
                      errlen);
}

/* ---- serial phases, as binary.c ------------------------------------- */

/* binary.c exchange(): pairs of the round's parity swap states. */
static void bg_exchange(void *self)
{
  bg_run *r = self;
  gpu_run *g = &r->g;
  const pt_ladder *lad = &r->plan.lad;
  uint32_t lo = (uint32_t)g->round, hi = (uint32_t)(g->round >> 32);
  for (int p = (int)(g->round & 1); p + 1 < g->rep; p += 2) {
    uint32_t u = rng_exchange(g->seed_key, lo, hi, (uint32_t)p);
    int64_t ec = g->energy[g->map[p]], eh = g->energy[g->map[p + 1]];
    if (pt_accept(eh - ec, lad->txq[p], lad->shift, lad->neglog, u)) {
      uint32_t t = g->map[p];
      g->map[p] = g->map[p + 1];
      g->map[p + 1] = t;
    }
  }
}

/* binary.c track_best(): the lowest slot, ties to the lower index. */
static int bg_track_best(void *self, char *err, size_t errlen)
{
  bg_run *r = self;
  gpu_run *g = &r->g;
  size_t bytes = (size_t)g->n * sizeof *r->xbuf;
  int at = gpu_run_best_slot(g);
  if (at < 0)
    return 0;
  if (nvk_buffer_read(g->buf[BG_X], (VkDeviceSize)g->map[at] * bytes,
                      r->xbuf, bytes, err, errlen))
    return -1;
  for (int i = 0; i < g->n; i++)
    g->best[i] = (int32_t)r->xbuf[i];
  return 0;
}

/* ---- rounds on the device ------------------------------------------- */

/* One exchange round: 1 on an early stop, 0 when done, -1 with err. */
static int bg_round(void *self, char *err, size_t errlen)
{
  bg_run *r = self;
  gpu_run *g = &r->g;
  bg_push push = { (uint32_t)g->n, (uint32_t)g->rep,
                   (uint32_t)g->round_len * (uint32_t)g->n,
                   (uint32_t)g->sweeps_done,
                   (uint32_t)(g->sweeps_done >> 32), g->budget, g->cut,
                   (uint32_t)r->plan.lad.shift, g->worst };
  return gpu_run_round(g, &push, push.total, err, errlen);
}

/* ---- result and entry point ----------------------------------------- */

static int bg_finish(void *self, anneal_result *res, char *err,
                     size_t errlen)
{
  bg_run *r = self;
  int64_t tracked = r->g.best_energy + r->m->offset;
  for (int i = 0; i < r->g.n; i++)
    if (r->g.best[i] != 0 && r->g.best[i] != 1)
      return bg_fail(err, errlen, "the device returned an assignment "
                     "with a value other than 0 or 1");
  gpu_run_fill(&r->g, res);
  res->energy = binary_energy(r->m, res->tour);
  if (res->energy != tracked)
    return bg_fail(err, errlen, "internal error: tracked energy %lld "
                   "differs from the assignment's %lld",
                   (long long)tracked, (long long)res->energy);
  return 0;
}

static const gpu_run_ops bg_ops = {
  bg_setup, bg_round, bg_exchange, bg_track_best, bg_finish
};

static int bg_solve(bg_run *r, anneal_result *res, char *device,
                    size_t devlen, char *err, size_t errlen)
{
  gpu_run *g = &r->g;
  nvk_device_info info;
  if (gpu_run_device(g, &info, device, devlen, err, errlen))
    return -1;
  if (binary_plan_build(r->m, g->par->replicas, BINARY_LAYOUT_AUTO,
                        &r->plan, err, errlen))
    return -1;
  g->rep = r->plan.replicas;
  g->round_sweeps = r->plan.round_sweeps;
  g->worst = bg_worst(r->m, r->plan.dense);
  if (bg_check_device(r, &info, err, errlen))
    return -1;
  return gpu_run_solve(g, &bg_ops, r, res, err, errlen);
}

int binary_solve_gpu(const binary_model *m, const anneal_params *p,
                     anneal_progress_fn progress, void *ud,
                     anneal_result *res, char *device, size_t devlen,
                     char *err, size_t errlen)
{
  bg_run r;
  int rc;
  if (device && devlen)
    device[0] = 0;
  if (!res)
    return bg_fail(err, errlen, "a result is required");
  memset(res, 0, sizeof *res);
  if (binary_check_params(p, err, errlen)
      || binary_check_model(m, err, errlen))
    return -1;
  memset(&r, 0, sizeof r);
  r.m = m;
  gpu_run_init(&r.g, &bg_kind, m->n, p, progress, ud);
  r.g.offset = m->offset;
  rc = bg_solve(&r, res, device, devlen, err, errlen);
  gpu_run_teardown(&r.g);
  free(r.xbuf);
  binary_plan_free(&r.plan);
  return rc;
}
