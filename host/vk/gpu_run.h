/* What the Vulkan backends of the annealing kernels (perm_gpu.c,
 * binary_gpu.c) share: a run's replica state on the host and its device
 * buffers, the rounds of dispatches with their loop budget and cut-off
 * check, the stopping rules and progress callback between rounds, the
 * test knobs read from the environment, and error messages with the
 * backend's prefix. The backends keep what is their own: the model's
 * buffers, the push constants, exchanges and reading the best state. */
#ifndef NEROX_VK_GPU_RUN_H
#define NEROX_VK_GPU_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "anneal/anneal.h"
#include "vk/vk.h"

/* ctl words per slot: state, steps made, planned stop, flags. */
#define GPU_RUN_CTL_WORDS 4

/* A backend's constants: names, messages and buffer layout. */
typedef struct gpu_run_kind {
  const char *prefix;      /* of every message: "perm (gpu): " */
  const char *name;        /* of the buffers' labels: "perm" */
  const char *env_cut;     /* test knob: end the loop at this q */
  const char *env_budget;  /* test knob: replace the loop budget */
  const char *unit;        /* a shader step: "proposal" */
  const char *things;      /* the states: "tours" */
  const char *worst_of;    /* the longest step: "one block's" */
  size_t min_bytes;        /* smallest buffer made */
  int nbuf, ctl_at, energy_at;
} gpu_run_kind;

typedef struct gpu_run {
  const gpu_run_kind *kind;
  const anneal_params *par;
  anneal_progress_fn progress;
  void *ud;
  int n, rep;
  int64_t offset;        /* added to energies reported */
  int64_t round_sweeps;  /* the plan's sweeps per round */
  uint32_t seed_key;
  uint32_t budget, cut, worst;
  int batch;

  nvk_buffer *buf[NVK_MAX_BUFFERS];
  nvk_binding *bind;

  uint32_t *map;         /* slot -> state */
  uint32_t *ctl;         /* GPU_RUN_CTL_WORDS per slot, as read back */
  int64_t *energy;       /* per state, E - offset */
  int32_t *best;
  int64_t best_energy;   /* E - offset */
  int64_t sweeps_done, round_len, round;
  int stop;
  anneal_stop why;
  double t0, last_cb;
} gpu_run;

/* A backend's steps, called by gpu_run_solve with its run as self:
 * setup (buffers and binding), each round and what follows it, and the
 * result (its energy and checks, after gpu_run_fill). */
typedef struct gpu_run_ops {
  int (*setup)(void *self, char *err, size_t errlen);
  int (*round)(void *self, char *err, size_t errlen);
  void (*exchange)(void *self);
  int (*track_best)(void *self, char *err, size_t errlen);
  int (*finish)(void *self, anneal_result *res, char *err, size_t errlen);
} gpu_run_ops;

int gpu_run_fail(char *err, size_t errlen, const char *prefix,
                 const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
/* Prefixes a message from nvk (vkmsg may be err itself), once. */
int gpu_run_vk_fail(char *err, size_t errlen, const char *prefix,
                    const char *vkmsg);

/* Starts a run: clock, seed key, test knobs. */
void gpu_run_init(gpu_run *g, const gpu_run_kind *kind, int n,
                  const anneal_params *p, anneal_progress_fn progress,
                  void *ud);
/* The device, its name into device; its features the kernels need. */
int gpu_run_device(gpu_run *g, nvk_device_info *info, char *device,
                   size_t devlen, char *err, size_t errlen);
int gpu_run_check_features(const gpu_run *g, const nvk_device_info *d,
                           char *err, size_t errlen);

/* Replica state on the host (rep and n set). */
int gpu_run_alloc(gpu_run *g, char *err, size_t errlen);
/* Buffer `which`, with bytes of data when data is not NULL. */
int gpu_run_buffer(gpu_run *g, int which, size_t bytes, nvk_memory mem,
                   const char *label, const void *data, char *err,
                   size_t errlen);
/* The ctl and energy buffers, the latter from energy. */
int gpu_run_state_buffers(gpu_run *g, char *err, size_t errlen);
/* Pipeline of shader and the binding of all buffers. */
int gpu_run_bind(gpu_run *g, const char *shader, size_t push_size,
                 char *err, size_t errlen);
void gpu_run_teardown(gpu_run *g);

/* Workgroups of a dispatch: one invocation per slot. */
uint32_t gpu_run_groups(const gpu_run *g);
/* The slot with the lowest energy when below the best so far (which it
 * then becomes), else -1. */
int gpu_run_best_slot(gpu_run *g);
/* One exchange round with push (total steps per slot): 1 on an early
 * stop (time or callback), 0 when done, -1 with err. */
int gpu_run_round(gpu_run *g, const void *push, uint32_t total, char *err,
                  size_t errlen);
/* Setup, the work loop (the backend's serial round between rounds) and
 * the result; res->tour is NULL after a failure. */
int gpu_run_solve(gpu_run *g, const gpu_run_ops *ops, void *self,
                  anneal_result *res, char *err, size_t errlen);
/* The result, less its energy: takes the best state. */
void gpu_run_fill(gpu_run *g, anneal_result *res);

#endif
