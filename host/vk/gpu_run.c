/* The scaffolding the annealing kernels' Vulkan backends share (see
 * gpu_run.h): a round is one or more dispatches; the shader stops before
 * it could pass llvmpipe's loop limit and reports in ctl how far each
 * slot got, and the next dispatch resumes there. A dispatch that ends any
 * other way (its loops cut short) fails the job. Between rounds the
 * stopping rules and the progress callback run as on the CPU. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anneal/rng.h"
#include "util/clock.h"
#include "vk/gpu_run.h"

/* Seconds between progress callbacks (as on the CPU). */
#define GR_CALLBACK_PERIOD_S 0.010
/* Loop iterations one dispatch may use: under llvmpipe's 65,535. */
#define GR_LOOP_BUDGET 60000u
/* Invocations per workgroup: local_size_x of the shaders. */
#define GR_GROUP_SIZE 8u
/* Most dispatches recorded into one submission; the stop checks run
 * between submissions. */
#define GR_MAX_BATCH 8

/* ---- messages and knobs --------------------------------------------- */

int gpu_run_fail(char *err, size_t errlen, const char *prefix,
                 const char *fmt, ...)
{
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (err && errlen)
    snprintf(err, errlen, "%s%s", prefix, msg);
  return -1;
}

int gpu_run_vk_fail(char *err, size_t errlen, const char *prefix,
                    const char *vkmsg)
{
  char copy[400];
  snprintf(copy, sizeof copy, "%s", vkmsg);
  if (strncmp(copy, prefix, strlen(prefix)) == 0) {
    if (err && errlen && err != vkmsg)
      snprintf(err, errlen, "%s", copy);
    return -1;
  }
  return gpu_run_fail(err, errlen, prefix, "%s", copy);
}

static uint32_t gr_env_u32(const char *name, uint32_t dflt)
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

void gpu_run_init(gpu_run *g, const gpu_run_kind *kind, int n,
                  const anneal_params *p, anneal_progress_fn progress,
                  void *ud)
{
  g->kind = kind;
  g->t0 = clock_mono_s();
  g->last_cb = g->t0;
  g->n = n;
  g->par = p;
  g->progress = progress;
  g->ud = ud;
  g->best_energy = INT64_MAX;
  g->seed_key = rng_seed_key((uint32_t)p->seed, (uint32_t)(p->seed >> 32));
  g->budget = gr_env_u32(kind->env_budget, GR_LOOP_BUDGET);
  g->cut = gr_env_u32(kind->env_cut, 0);
  g->batch = 1;
}

/* ---- device and buffers --------------------------------------------- */

int gpu_run_device(gpu_run *g, nvk_device_info *info, char *device,
                   size_t devlen, char *err, size_t errlen)
{
  char msg[400];
  if (nvk_device(info, msg, sizeof msg))
    return gpu_run_vk_fail(err, errlen, g->kind->prefix, msg);
  if (device && devlen)
    snprintf(device, devlen, "%s", info->name);
  return 0;
}

int gpu_run_check_features(const gpu_run *g, const nvk_device_info *d,
                           char *err, size_t errlen)
{
  if (!d->shader_int64)
    return gpu_run_fail(err, errlen, g->kind->prefix, "%s lacks "
                        "shaderInt64 (64-bit integers in shaders), which "
                        "the kernel needs", d->name);
  if (!d->subgroup_arithmetic)
    return gpu_run_fail(err, errlen, g->kind->prefix, "%s lacks subgroup "
                        "arithmetic in compute shaders, which the kernel "
                        "needs", d->name);
  return 0;
}

int gpu_run_alloc(gpu_run *g, char *err, size_t errlen)
{
  g->map = calloc((size_t)g->rep, sizeof *g->map);
  g->ctl = calloc((size_t)g->rep * GPU_RUN_CTL_WORDS, sizeof *g->ctl);
  g->energy = calloc((size_t)g->rep, sizeof *g->energy);
  g->best = malloc((size_t)g->n * sizeof *g->best);
  if (!g->map || !g->ctl || !g->energy || !g->best)
    return gpu_run_fail(err, errlen, g->kind->prefix,
                        "out of memory (replica state)");
  return 0;
}

int gpu_run_buffer(gpu_run *g, int which, size_t bytes, nvk_memory mem,
                   const char *label, const void *data, char *err,
                   size_t errlen)
{
  size_t size = bytes < g->kind->min_bytes ? g->kind->min_bytes : bytes;
  g->buf[which] = nvk_buffer_create(size, mem, label, err, errlen);
  if (!g->buf[which])
    return -1;
  if (data && bytes
      && nvk_buffer_write(g->buf[which], 0, data, bytes, err, errlen))
    return -1;
  return 0;
}

int gpu_run_state_buffers(gpu_run *g, char *err, size_t errlen)
{
  char ctl[64], energy[64];
  snprintf(ctl, sizeof ctl, "%s.ctl", g->kind->name);
  snprintf(energy, sizeof energy, "%s.energy", g->kind->name);
  return gpu_run_buffer(g, g->kind->ctl_at, (size_t)g->rep
                        * GPU_RUN_CTL_WORDS * 4, NVK_MEMORY_HOST, ctl,
                        NULL, err, errlen)
         || gpu_run_buffer(g, g->kind->energy_at, (size_t)g->rep
                           * sizeof *g->energy, NVK_MEMORY_HOST, energy,
                           g->energy, err, errlen)
         ? -1 : 0;
}

int gpu_run_bind(gpu_run *g, const char *shader, size_t push_size,
                 char *err, size_t errlen)
{
  nvk_pipeline *pipe = nvk_pipeline_get(shader, (uint32_t)g->kind->nbuf,
                                        (uint32_t)push_size, err, errlen);
  if (!pipe)
    return -1;
  g->bind = nvk_binding_create(pipe, g->buf, (uint32_t)g->kind->nbuf, err,
                               errlen);
  return g->bind ? 0 : -1;
}

void gpu_run_teardown(gpu_run *g)
{
  nvk_binding_destroy(g->bind);
  for (int b = NVK_MAX_BUFFERS - 1; b >= 0; b--)
    nvk_buffer_destroy(g->buf[b]);
  free(g->best);
  free(g->energy);
  free(g->ctl);
  free(g->map);
}

/* ---- serial phases, as on the CPU ----------------------------------- */

static uint64_t gr_proposals(const gpu_run *g)
{
  return (uint64_t)g->sweeps_done * (uint64_t)g->n * (uint64_t)g->rep;
}

static int gr_call_progress(gpu_run *g, double now)
{
  anneal_progress pg = { g->sweeps_done, g->best_energy + g->offset,
                         g->energy[g->map[0]] + g->offset, now - g->t0,
                         g->rep, gr_proposals(g), g->best };
  g->last_cb = now;
  return g->progress(g->ud, &pg) != 0;
}

/* The CPU's decide_stop, less the worker failure. */
static void gr_decide_stop(gpu_run *g)
{
  const anneal_params *p = g->par;
  double now = clock_mono_s();
  if (anneal_budget_spent(p, g->best_energy + g->offset, g->sweeps_done,
                          now - g->t0, &g->why))
    g->stop = 1;
  else if (g->progress && now - g->last_cb >= GR_CALLBACK_PERIOD_S
           && gr_call_progress(g, now))
    g->stop = 1, g->why = ANNEAL_STOP_CALLBACK;
}

static void gr_next_round_len(gpu_run *g)
{
  g->round_len = anneal_round_len(g->par, g->round_sweeps, g->sweeps_done);
}

int gpu_run_best_slot(gpu_run *g)
{
  int at = 0;
  for (int s = 1; s < g->rep; s++)
    if (g->energy[g->map[s]] < g->energy[g->map[at]])
      at = s;
  if (g->energy[g->map[at]] >= g->best_energy)
    return -1;
  g->best_energy = g->energy[g->map[at]];
  return at;
}

/* Time limit or callback while a round is under way: the round is then
 * dropped, and the run ends with the rounds completed. */
static int gr_stop_within_round(gpu_run *g)
{
  double now = clock_mono_s();
  if (g->par->time_limit > 0 && now - g->t0 >= g->par->time_limit) {
    g->why = ANNEAL_STOP_TIME;
    return 1;
  }
  if (g->progress && now - g->last_cb >= GR_CALLBACK_PERIOD_S
      && gr_call_progress(g, now)) {
    g->why = ANNEAL_STOP_CALLBACK;
    return 1;
  }
  return 0;
}

/* ---- rounds on the device ------------------------------------------- */

uint32_t gpu_run_groups(const gpu_run *g)
{
  return ((uint32_t)g->rep + GR_GROUP_SIZE - 1) / GR_GROUP_SIZE;
}

/* Reads the slots' progress: returns how many are unfinished, or -1 with
 * err when a dispatch was cut short or made no progress. */
static int gr_check_ctl(gpu_run *g, uint32_t total, uint32_t *before,
                        char *err, size_t errlen)
{
  const gpu_run_kind *k = g->kind;
  int open = 0, moved = 0;
  size_t bytes = (size_t)g->rep * GPU_RUN_CTL_WORDS * sizeof *g->ctl;
  if (nvk_buffer_read(g->buf[k->ctl_at], 0, g->ctl, bytes, err, errlen))
    return -1;
  for (int s = 0; s < g->rep; s++) {
    const uint32_t *c = g->ctl + GPU_RUN_CTL_WORDS * s;
    if (c[3] || c[1] != c[2] || c[1] > total)
      return gpu_run_fail(err, errlen, k->prefix, "a dispatch was cut "
                          "short (slot %d stopped at %s %u of %u, planned "
                          "%u, flags %u): the driver ended the shader's "
                          "loops early; the %s are not valid", s, k->unit,
                          c[1], total, c[2], c[3], k->things);
    moved |= c[1] != before[s];
    before[s] = c[1];
    open += c[1] < total;
  }
  if (open && !moved)
    return gpu_run_fail(err, errlen, k->prefix, "a dispatch made no "
                        "progress (loop budget %u below %s %u iterations)",
                        g->budget, k->worst_of, g->worst);
  return open;
}

/* Dispatches until every slot finished the round: 1 on an early stop
 * (time or callback), 0 when done, -1 with err. */
static int gr_dispatch_round(gpu_run *g, const void *push, uint32_t total,
                             uint32_t *before, char *err, size_t errlen)
{
  uint32_t groups = gpu_run_groups(g);
  nvk_step steps[GR_MAX_BATCH];
  int open = 1, used = 0;
  for (int b = 0; b < GR_MAX_BATCH; b++)
    steps[b] = (nvk_step){ g->bind, push, { groups, 1, 1 } };
  while (open > 0) {
    if (used > 0 && gr_stop_within_round(g))
      return 1;
    if (nvk_dispatch(steps, (uint32_t)g->batch, NVK_DEFAULT_TIMEOUT_MS, err,
                     errlen))
      return -1;
    used += g->batch;
    open = gr_check_ctl(g, total, before, err, errlen);
    if (open < 0)
      return -1;
  }
  /* Next round: as many dispatches as this one took, at once; one fewer
   * when one submission was enough, so that the count follows the rounds
   * down too (hot random states at the start need several, and each
   * dispatch past the last costs a few microseconds). */
  if (used > g->batch)
    g->batch = used < GR_MAX_BATCH ? used : GR_MAX_BATCH;
  else if (g->batch > 1)
    g->batch--;
  return 0;
}

int gpu_run_round(gpu_run *g, const void *push, uint32_t total, char *err,
                  size_t errlen)
{
  uint32_t *before = calloc((size_t)g->rep, sizeof *before);
  int rc = -1;
  if (!before)
    return gpu_run_fail(err, errlen, g->kind->prefix,
                        "out of memory (round)");
  for (int s = 0; s < g->rep; s++) {
    uint32_t *c = g->ctl + GPU_RUN_CTL_WORDS * s;
    c[0] = g->map[s];
    c[1] = c[2] = c[3] = 0;
  }
  if (nvk_buffer_write(g->buf[g->kind->ctl_at], 0, g->ctl, (size_t)g->rep
                       * GPU_RUN_CTL_WORDS * sizeof *g->ctl, err,
                       errlen) == 0)
    rc = gr_dispatch_round(g, push, total, before, err, errlen);
  if (rc == 0)
    rc = nvk_buffer_read(g->buf[g->kind->energy_at], 0, g->energy,
                         (size_t)g->rep * sizeof *g->energy, err, errlen);
  free(before);
  return rc;
}

/* The work loop, with the backend's serial round between rounds. */
static int gr_anneal(gpu_run *g, const gpu_run_ops *ops, void *self,
                     char *err, size_t errlen)
{
  gr_decide_stop(g);
  gr_next_round_len(g);
  while (!g->stop) {
    int rc = ops->round(self, err, errlen);
    if (rc < 0)
      return gpu_run_vk_fail(err, errlen, g->kind->prefix, err);
    if (rc > 0)
      return 0;
    g->sweeps_done += g->round_len;
    ops->exchange(self);
    g->round++;
    if (ops->track_best(self, err, errlen))
      return gpu_run_vk_fail(err, errlen, g->kind->prefix, err);
    gr_decide_stop(g);
    gr_next_round_len(g);
  }
  return 0;
}

/* ---- result --------------------------------------------------------- */

void gpu_run_fill(gpu_run *g, anneal_result *res)
{
  res->tour = g->best;
  g->best = NULL;
  res->sweeps = g->sweeps_done;
  res->replicas = g->rep;
  res->proposals = gr_proposals(g);
  res->elapsed_s = clock_mono_s() - g->t0;
  res->stop = g->why;
}

int gpu_run_solve(gpu_run *g, const gpu_run_ops *ops, void *self,
                  anneal_result *res, char *err, size_t errlen)
{
  char msg[400];
  if (ops->setup(self, msg, sizeof msg))
    return gpu_run_vk_fail(err, errlen, g->kind->prefix, msg);
  if (gr_anneal(g, ops, self, err, errlen))
    return -1;
  if (ops->finish(self, res, err, errlen)) {
    free(res->tour);
    res->tour = NULL;
    return -1;
  }
  return 0;
}
