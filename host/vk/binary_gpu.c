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
 * and temperatures stay with the slots), the energy of each state. A round
 * is one or more dispatches: the shader stops before it could pass
 * llvmpipe's loop limit and reports how far each slot got; the next
 * dispatch resumes there. A dispatch that ends any other way fails the
 * job. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anneal/binary_internal.h"
#include "anneal/rng.h"
#include "util/clock.h"
#include "vk/binary_gpu.h"
#include "vk/vk.h"

/* Seconds between progress callbacks (as on the CPU). */
#define BG_CALLBACK_PERIOD_S 0.010
/* Loop iterations one dispatch may use: under llvmpipe's 65,535. */
#define BG_LOOP_BUDGET 60000u
/* Invocations per workgroup: local_size_x of binary.glsl. */
#define BG_GROUP_SIZE 8u
/* Most dispatches recorded into one submission; the stop checks run
 * between submissions. */
#define BG_MAX_BATCH 8
/* Size of the buffer bound where the layout needs none. */
#define BG_DUMMY_BYTES 16
/* Buffers of binary.glsl, in binding order. */
enum {
  BG_ROWS, BG_CV, BG_MAT, BG_NEGLOG, BG_SLOTS, BG_X, BG_F, BG_CTL,
  BG_ENERGY, BG_NBUF
};
/* ctl words per slot: state, visits made, planned stop, flags. */
#define BG_CTL_WORDS 4
/* Test-only knobs: end the site loop at this q (emulating a driver's loop
 * limit), and replace the loop budget. */
#define BG_ENV_CUT "NEROX_BINARY_GPU_TEST_CUT"
#define BG_ENV_BUDGET "NEROX_BINARY_GPU_TEST_BUDGET"
#define BG_PREFIX "binary (gpu): "

/* binary.glsl's push constants. */
typedef struct bg_push {
  uint32_t n, replicas, total, sweep_lo, sweep_hi, budget, cut, shift,
           worst;
} bg_push;

typedef struct bg_run {
  const binary_model *m;
  const anneal_params *par;
  anneal_progress_fn progress;
  void *ud;
  binary_plan plan;
  int n, rep;
  uint32_t seed_key;
  uint32_t budget, cut, worst;
  int batch;

  nvk_buffer *buf[BG_NBUF];
  nvk_binding *bind;

  uint32_t *map;         /* slot -> state */
  uint32_t *ctl;         /* BG_CTL_WORDS per slot, as read back */
  int64_t *energy;       /* per state, E - offset */
  uint32_t *xbuf;        /* n words read back for the best state */
  int32_t *best;
  int64_t best_energy;   /* E - offset */
  int64_t sweeps_done, round_len, round;
  int stop;
  anneal_stop why;
  double t0, last_cb;
} bg_run;

static int bg_fail(char *err, size_t errlen, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

static int bg_fail(char *err, size_t errlen, const char *fmt, ...)
{
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (err && errlen)
    snprintf(err, errlen, BG_PREFIX "%s", msg);
  return -1;
}

/* Prefixes a message from nvk (vkmsg may be err itself), once. */
static int bg_vk_fail(char *err, size_t errlen, const char *vkmsg)
{
  char copy[400];
  snprintf(copy, sizeof copy, "%s", vkmsg);
  if (strncmp(copy, BG_PREFIX, strlen(BG_PREFIX)) == 0) {
    if (err && errlen && err != vkmsg)
      snprintf(err, errlen, "%s", copy);
    return -1;
  }
  return bg_fail(err, errlen, "%s", copy);
}

static uint32_t bg_env_u32(const char *name, uint32_t dflt)
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
  uint64_t n = (uint64_t)r->n, rep = (uint64_t)r->rep;
  uint64_t nnz = (uint64_t)r->m->row_start[r->n];
  uint64_t visits = (uint64_t)r->plan.round_sweeps * n;
  if (!d->shader_int64)
    return bg_fail(err, errlen, "%s lacks shaderInt64 (64-bit integers "
                   "in shaders), which the kernel needs", d->name);
  if (!d->subgroup_arithmetic)
    return bg_fail(err, errlen, "%s lacks subgroup arithmetic in compute "
                   "shaders, which the kernel needs", d->name);
  if (visits > UINT32_MAX || n * rep > UINT32_MAX || nnz > UINT32_MAX)
    return bg_fail(err, errlen, "the model is too large for the kernel's "
                   "32-bit indices (n %d, %d replicas, %llu couplings)",
                   r->n, r->rep, (unsigned long long)nnz);
  if (r->plan.dense)
    return bg_check_size(d, n * n * 4, "dense couplings", err, errlen)
           || bg_check_size(d, n * rep * (r->plan.narrow ? 4 : 8),
                            "replica fields", err, errlen);
  return bg_check_size(d, nnz * 8, "CSR couplings", err, errlen)
         || bg_check_size(d, n * rep * (r->plan.narrow ? 4 : 8),
                          "replica fields", err, errlen);
}

static int bg_buffer(bg_run *r, int which, size_t bytes, nvk_memory mem,
                     const char *label, const void *data, char *err,
                     size_t errlen)
{
  size_t size = bytes < BG_DUMMY_BYTES ? BG_DUMMY_BYTES : bytes;
  r->buf[which] = nvk_buffer_create(size, mem, label, err, errlen);
  if (!r->buf[which])
    return -1;
  if (data && bytes
      && nvk_buffer_write(r->buf[which], 0, data, bytes, err, errlen))
    return -1;
  return 0;
}

/* CSR as row offsets and (col, val) pairs, or the plan's dense matrix;
 * a small unused buffer in the other bindings. */
static int bg_upload_couplings(bg_run *r, char *err, size_t errlen)
{
  const binary_model *m = r->m;
  size_t n = (size_t)r->n, nnz = (size_t)m->row_start[r->n];
  uint32_t *rows = NULL;
  int32_t *cv = NULL;
  int rc = -1;
  if (r->plan.dense)
    return bg_buffer(r, BG_MAT, n * n * sizeof(int32_t), NVK_MEMORY_AUTO,
                     "binary.mat", r->plan.mat, err, errlen)
           || bg_buffer(r, BG_ROWS, 0, NVK_MEMORY_AUTO, "binary.rows",
                        NULL, err, errlen)
           || bg_buffer(r, BG_CV, 0, NVK_MEMORY_AUTO, "binary.cv", NULL,
                        err, errlen);
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
  if (bg_buffer(r, BG_ROWS, (n + 1) * sizeof *rows, NVK_MEMORY_AUTO,
                "binary.rows", rows, err, errlen)
      || bg_buffer(r, BG_CV, 2 * nnz * sizeof *cv, NVK_MEMORY_AUTO,
                   "binary.cv", nnz ? cv : NULL, err, errlen)
      || bg_buffer(r, BG_MAT, 0, NVK_MEMORY_AUTO, "binary.mat", NULL, err,
                   errlen))
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
  uint32_t *sc = calloc((size_t)r->rep * 4, sizeof *sc);
  int rc;
  if (!sc)
    return bg_fail(err, errlen, "out of memory (plan)");
  for (int s = 0; s < r->rep; s++) {
    sc[4 * s] = rng_slot_key(r->seed_key, (uint32_t)s);
    sc[4 * s + 1] = r->plan.lad.tq[s];
  }
  rc = bg_buffer(r, BG_NEGLOG, sizeof r->plan.lad.neglog, NVK_MEMORY_AUTO,
                 "binary.neglog", r->plan.lad.neglog, err, errlen)
       || bg_buffer(r, BG_SLOTS, (size_t)r->rep * 4 * sizeof *sc,
                    NVK_MEMORY_AUTO, "binary.slots", sc, err, errlen)
       ? -1 : 0;
  free(sc);
  return rc;
}

/* binary.c init_slot: x from the slot's stream, its fields and energy. */
static void bg_init_state(const bg_run *r, int s, uint32_t *x, void *fv)
{
  const binary_model *m = r->m;
  uint32_t key = rng_slot_key(r->seed_key, (uint32_t)s);
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
  r->energy[s] = e;
}

/* Starting states (as binary.c makes them) into states 0..rep-1, and the
 * starting best, as serial_start finds it. */
static int bg_upload_states(bg_run *r, char *err, size_t errlen)
{
  size_t n = (size_t)r->n, all = n * (size_t)r->rep;
  size_t fsz = r->plan.narrow ? 4 : 8;
  uint32_t *x = malloc(all * sizeof *x);
  unsigned char *f = malloc(all * fsz);
  int rc = -1, at = 0;
  if (!x || !f) {
    bg_fail(err, errlen, "out of memory (starting states)");
    goto done;
  }
  for (int s = 0; s < r->rep; s++) {
    bg_init_state(r, s, x + n * (size_t)s, f + n * fsz * (size_t)s);
    r->map[s] = (uint32_t)s;
    if (r->energy[s] < r->energy[at])
      at = s;
  }
  r->best_energy = r->energy[at];
  for (size_t i = 0; i < n; i++)
    r->best[i] = (int32_t)x[n * (size_t)at + i];
  if (bg_buffer(r, BG_X, all * sizeof *x, NVK_MEMORY_AUTO, "binary.x", x,
                err, errlen)
      || bg_buffer(r, BG_F, all * fsz, NVK_MEMORY_AUTO, "binary.f", f, err,
                   errlen)
      || bg_buffer(r, BG_CTL, (size_t)r->rep * BG_CTL_WORDS * 4,
                   NVK_MEMORY_HOST, "binary.ctl", NULL, err, errlen)
      || bg_buffer(r, BG_ENERGY, (size_t)r->rep * sizeof *r->energy,
                   NVK_MEMORY_HOST, "binary.energy", r->energy, err,
                   errlen))
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

static int bg_setup(bg_run *r, char *err, size_t errlen)
{
  nvk_pipeline *pipe;
  r->map = calloc((size_t)r->rep, sizeof *r->map);
  r->ctl = calloc((size_t)r->rep * BG_CTL_WORDS, sizeof *r->ctl);
  r->energy = calloc((size_t)r->rep, sizeof *r->energy);
  r->xbuf = malloc((size_t)r->n * sizeof *r->xbuf);
  r->best = malloc((size_t)r->n * sizeof *r->best);
  if (!r->map || !r->ctl || !r->energy || !r->xbuf || !r->best)
    return bg_fail(err, errlen, "out of memory (replica state)");
  if (bg_upload_couplings(r, err, errlen) || bg_upload_plan(r, err, errlen)
      || bg_upload_states(r, err, errlen))
    return -1;
  pipe = nvk_pipeline_get(bg_shader(&r->plan), BG_NBUF, sizeof(bg_push),
                          err, errlen);
  if (!pipe)
    return -1;
  r->bind = nvk_binding_create(pipe, r->buf, BG_NBUF, err, errlen);
  return r->bind ? 0 : -1;
}

static void bg_teardown(bg_run *r)
{
  nvk_binding_destroy(r->bind);
  for (int b = BG_NBUF - 1; b >= 0; b--)
    nvk_buffer_destroy(r->buf[b]);
  free(r->best);
  free(r->xbuf);
  free(r->energy);
  free(r->ctl);
  free(r->map);
  binary_plan_free(&r->plan);
}

/* ---- serial phases, as binary.c ------------------------------------- */

static uint64_t bg_proposals(const bg_run *r)
{
  return (uint64_t)r->sweeps_done * (uint64_t)r->n * (uint64_t)r->rep;
}

static int bg_call_progress(bg_run *r, double now)
{
  anneal_progress pg = { r->sweeps_done, r->best_energy + r->m->offset,
                         r->energy[r->map[0]] + r->m->offset, now - r->t0,
                         r->rep, bg_proposals(r), r->best };
  r->last_cb = now;
  return r->progress(r->ud, &pg) != 0;
}

/* binary.c decide_stop, less the worker failure. */
static void bg_decide_stop(bg_run *r)
{
  const anneal_params *p = r->par;
  double now = clock_mono_s();
  if (p->has_target
      && r->best_energy + r->m->offset <= p->target_energy)
    r->stop = 1, r->why = ANNEAL_STOP_TARGET;
  else if (p->sweeps > 0 && r->sweeps_done >= p->sweeps)
    r->stop = 1, r->why = ANNEAL_STOP_SWEEPS;
  else if (p->time_limit > 0 && now - r->t0 >= p->time_limit)
    r->stop = 1, r->why = ANNEAL_STOP_TIME;
  else if (r->progress && now - r->last_cb >= BG_CALLBACK_PERIOD_S
           && bg_call_progress(r, now))
    r->stop = 1, r->why = ANNEAL_STOP_CALLBACK;
}

static void bg_next_round_len(bg_run *r)
{
  r->round_len = r->plan.round_sweeps;
  if (r->par->sweeps > 0 && r->par->sweeps - r->sweeps_done < r->round_len)
    r->round_len = r->par->sweeps - r->sweeps_done;
}

/* binary.c exchange(): pairs of the round's parity swap states. */
static void bg_exchange(bg_run *r)
{
  const pt_ladder *lad = &r->plan.lad;
  uint32_t lo = (uint32_t)r->round, hi = (uint32_t)(r->round >> 32);
  for (int p = (int)(r->round & 1); p + 1 < r->rep; p += 2) {
    uint32_t u = rng_exchange(r->seed_key, lo, hi, (uint32_t)p);
    int64_t ec = r->energy[r->map[p]], eh = r->energy[r->map[p + 1]];
    if (pt_accept(eh - ec, lad->txq[p], lad->shift, lad->neglog, u)) {
      uint32_t t = r->map[p];
      r->map[p] = r->map[p + 1];
      r->map[p + 1] = t;
    }
  }
}

/* binary.c track_best(): the lowest slot, ties to the lower index. */
static int bg_track_best(bg_run *r, char *err, size_t errlen)
{
  size_t bytes = (size_t)r->n * sizeof *r->xbuf;
  int at = 0;
  for (int s = 1; s < r->rep; s++)
    if (r->energy[r->map[s]] < r->energy[r->map[at]])
      at = s;
  if (r->energy[r->map[at]] >= r->best_energy)
    return 0;
  r->best_energy = r->energy[r->map[at]];
  if (nvk_buffer_read(r->buf[BG_X], (VkDeviceSize)r->map[at] * bytes,
                      r->xbuf, bytes, err, errlen))
    return -1;
  for (int i = 0; i < r->n; i++)
    r->best[i] = (int32_t)r->xbuf[i];
  return 0;
}

/* Time limit or callback while a round is under way: the round is then
 * dropped, and the run ends with the rounds completed. */
static int bg_stop_within_round(bg_run *r)
{
  double now = clock_mono_s();
  if (r->par->time_limit > 0 && now - r->t0 >= r->par->time_limit) {
    r->why = ANNEAL_STOP_TIME;
    return 1;
  }
  if (r->progress && now - r->last_cb >= BG_CALLBACK_PERIOD_S
      && bg_call_progress(r, now)) {
    r->why = ANNEAL_STOP_CALLBACK;
    return 1;
  }
  return 0;
}

/* ---- rounds on the device ------------------------------------------- */

/* Reads the slots' progress: returns how many are unfinished, or -1 with
 * err when a dispatch was cut short or made no progress. */
static int bg_check_ctl(bg_run *r, uint32_t total, uint32_t *before,
                        char *err, size_t errlen)
{
  int open = 0, moved = 0;
  size_t bytes = (size_t)r->rep * BG_CTL_WORDS * sizeof *r->ctl;
  if (nvk_buffer_read(r->buf[BG_CTL], 0, r->ctl, bytes, err, errlen))
    return -1;
  for (int s = 0; s < r->rep; s++) {
    const uint32_t *c = r->ctl + BG_CTL_WORDS * s;
    if (c[3] || c[1] != c[2] || c[1] > total)
      return bg_fail(err, errlen, "a dispatch was cut short (slot %d "
                     "stopped at site visit %u of %u, planned %u, flags "
                     "%u): the driver ended the shader's loops early; the "
                     "states are not valid", s, c[1], total, c[2], c[3]);
    moved |= c[1] != before[s];
    before[s] = c[1];
    open += c[1] < total;
  }
  if (open && !moved)
    return bg_fail(err, errlen, "a dispatch made no progress (loop budget "
                   "%u below one site visit's %u iterations)", r->budget,
                   r->worst);
  return open;
}

/* Dispatches until every slot finished the round: 1 on an early stop
 * (time or callback), 0 when done, -1 with err. */
static int bg_dispatch_round(bg_run *r, const bg_push *push,
                             uint32_t *before, char *err, size_t errlen)
{
  uint32_t groups = ((uint32_t)r->rep + BG_GROUP_SIZE - 1) / BG_GROUP_SIZE;
  nvk_step steps[BG_MAX_BATCH];
  int open = 1, used = 0;
  for (int b = 0; b < BG_MAX_BATCH; b++)
    steps[b] = (nvk_step){ r->bind, push, { groups, 1, 1 } };
  while (open > 0) {
    if (used > 0 && bg_stop_within_round(r))
      return 1;
    if (nvk_dispatch(steps, (uint32_t)r->batch, NVK_DEFAULT_TIMEOUT_MS, err,
                     errlen))
      return -1;
    used += r->batch;
    open = bg_check_ctl(r, push->total, before, err, errlen);
    if (open < 0)
      return -1;
  }
  /* Next round: as many dispatches as this one took, at once; one fewer
   * when one submission was enough (as perm_gpu.c). */
  if (used > r->batch)
    r->batch = used < BG_MAX_BATCH ? used : BG_MAX_BATCH;
  else if (r->batch > 1)
    r->batch--;
  return 0;
}

/* One exchange round: 1 on an early stop, 0 when done, -1 with err. */
static int bg_round(bg_run *r, char *err, size_t errlen)
{
  bg_push push = { (uint32_t)r->n, (uint32_t)r->rep,
                   (uint32_t)r->round_len * (uint32_t)r->n,
                   (uint32_t)r->sweeps_done,
                   (uint32_t)(r->sweeps_done >> 32), r->budget, r->cut,
                   (uint32_t)r->plan.lad.shift, r->worst };
  uint32_t *before = calloc((size_t)r->rep, sizeof *before);
  int rc = -1;
  if (!before)
    return bg_fail(err, errlen, "out of memory (round)");
  for (int s = 0; s < r->rep; s++) {
    uint32_t *c = r->ctl + BG_CTL_WORDS * s;
    c[0] = r->map[s];
    c[1] = c[2] = c[3] = 0;
  }
  if (nvk_buffer_write(r->buf[BG_CTL], 0, r->ctl, (size_t)r->rep
                       * BG_CTL_WORDS * sizeof *r->ctl, err, errlen) == 0)
    rc = bg_dispatch_round(r, &push, before, err, errlen);
  if (rc == 0)
    rc = nvk_buffer_read(r->buf[BG_ENERGY], 0, r->energy, (size_t)r->rep
                         * sizeof *r->energy, err, errlen);
  free(before);
  return rc;
}

/* binary.c's work loop, with serial_round between rounds. */
static int bg_anneal(bg_run *r, char *err, size_t errlen)
{
  bg_decide_stop(r);
  bg_next_round_len(r);
  while (!r->stop) {
    int rc = bg_round(r, err, errlen);
    if (rc < 0)
      return bg_vk_fail(err, errlen, err);
    if (rc > 0)
      return 0;
    r->sweeps_done += r->round_len;
    bg_exchange(r);
    r->round++;
    if (bg_track_best(r, err, errlen))
      return bg_vk_fail(err, errlen, err);
    bg_decide_stop(r);
    bg_next_round_len(r);
  }
  return 0;
}

/* ---- result and entry point ----------------------------------------- */

static int bg_finish(bg_run *r, anneal_result *res, char *err,
                     size_t errlen)
{
  for (int i = 0; i < r->n; i++)
    if (r->best[i] != 0 && r->best[i] != 1)
      return bg_fail(err, errlen, "the device returned an assignment "
                     "with a value other than 0 or 1");
  res->tour = r->best;
  r->best = NULL;
  res->energy = binary_energy(r->m, res->tour);
  res->sweeps = r->sweeps_done;
  res->replicas = r->rep;
  res->proposals = bg_proposals(r);
  res->elapsed_s = clock_mono_s() - r->t0;
  res->stop = r->why;
  if (res->energy != r->best_energy + r->m->offset)
    return bg_fail(err, errlen, "internal error: tracked energy %lld "
                   "differs from the assignment's %lld",
                   (long long)(r->best_energy + r->m->offset),
                   (long long)res->energy);
  return 0;
}

static int bg_solve(bg_run *r, anneal_result *res, char *device,
                    size_t devlen, char *err, size_t errlen)
{
  nvk_device_info info;
  char msg[400];
  if (nvk_device(&info, msg, sizeof msg))
    return bg_vk_fail(err, errlen, msg);
  if (device && devlen)
    snprintf(device, devlen, "%s", info.name);
  if (binary_plan_build(r->m, r->par->replicas, BINARY_LAYOUT_AUTO,
                        &r->plan, err, errlen))
    return -1;
  r->rep = r->plan.replicas;
  r->worst = bg_worst(r->m, r->plan.dense);
  if (bg_check_device(r, &info, err, errlen))
    return -1;
  if (bg_setup(r, msg, sizeof msg))
    return bg_vk_fail(err, errlen, msg);
  if (bg_anneal(r, err, errlen))
    return -1;
  if (bg_finish(r, res, err, errlen)) {
    free(res->tour);
    res->tour = NULL;
    return -1;
  }
  return 0;
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
  r.t0 = clock_mono_s();
  r.last_cb = r.t0;
  r.m = m;
  r.n = m->n;
  r.par = p;
  r.progress = progress;
  r.ud = ud;
  r.best_energy = INT64_MAX;
  r.seed_key = rng_seed_key((uint32_t)p->seed, (uint32_t)(p->seed >> 32));
  r.budget = bg_env_u32(BG_ENV_BUDGET, BG_LOOP_BUDGET);
  r.cut = bg_env_u32(BG_ENV_CUT, 0);
  r.batch = 1;
  rc = bg_solve(&r, res, device, devlen, err, errlen);
  bg_teardown(&r);
  return rc;
}
