/* Shared by the Vulkan tests: whether the validation layer is on by
 * default, and the stopping rules every GPU backend must keep (cancel
 * within one dispatch keeping the best, time limit, target), run through
 * a backend's solve function. */
#ifndef NEROX_TEST_GPU_H
#define NEROX_TEST_GPU_H

#include "anneal/anneal.h"
#include "testutil.h"
#include "util/clock.h"

/* Under AddressSanitizer the validation layer is off unless asked for:
 * the layer (1.3.239) leaks at device destruction, and as the loader
 * unloads it before the leak check, no suppression can name it. */
#if defined(__SANITIZE_ADDRESS__)
#define VALIDATION_DEFAULT "0"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VALIDATION_DEFAULT "0"
#endif
#endif
#ifndef VALIDATION_DEFAULT
#define VALIDATION_DEFAULT "1"
#endif

/* Longest a cancelled run may take after the callback asked to stop. */
#define CANCEL_SLACK_S 0.2

/* A backend's solve of model on the test's device: 0 or -1. */
typedef int (*gpu_test_solve)(const void *model, const anneal_params *p,
                              anneal_progress_fn fn, void *ud,
                              anneal_result *r);

typedef struct cancel_state {
  int calls;
  double asked_at;
  int64_t best;
} cancel_state;

static inline int cancel_after(void *ud, const anneal_progress *pg)
{
  cancel_state *c = ud;
  c->calls++;
  c->best = pg->best_energy;
  if (pg->elapsed_s < 0.1)
    return 0;
  c->asked_at = clock_mono_s();
  return 1;
}

static inline void gpu_test_cancel(gpu_test_solve solve, const void *model)
{
  anneal_params p = { 0 };
  cancel_state c = { 0, 0, 0 };
  anneal_result r;
  p.seed = 3;
  p.time_limit = 30;
  int rc = solve(model, &p, cancel_after, &c, &r);
  double late = clock_mono_s() - c.asked_at;
  CHECK_EQ_INT(rc, 0);
  CHECK_EQ_INT(r.stop, ANNEAL_STOP_CALLBACK);
  CHECK(c.calls >= 2);
  CHECK(late < CANCEL_SLACK_S);
  CHECK(r.tour != NULL);
  CHECK_EQ_INT(r.energy, c.best);
  printf("  cancel: %d calls, stopped %.1f ms after the request, "
         "best %lld after %lld sweeps\n", c.calls, late * 1e3,
         (long long)r.energy, (long long)r.sweeps);
  free(r.tour);
}

/* unit names the proposals in the printout ("flips", "proposals"). */
static inline void gpu_test_time_limit(gpu_test_solve solve,
                                       const void *model, const char *unit)
{
  anneal_params p = { 0 };
  anneal_result r;
  p.seed = 4;
  p.time_limit = 0.3;
  double t0 = clock_mono_s();
  CHECK_EQ_INT(solve(model, &p, NULL, NULL, &r), 0);
  double took = clock_mono_s() - t0;
  CHECK_EQ_INT(r.stop, ANNEAL_STOP_TIME);
  CHECK(took >= 0.3 && took < 0.3 + CANCEL_SLACK_S + 0.5);
  CHECK(r.sweeps > 0);
  printf("  time limit 0.3 s: %.3f s, %lld sweeps, %.1f M %s/s\n", took,
         (long long)r.sweeps, (double)r.proposals / r.elapsed_s / 1e6,
         unit);
  free(r.tour);
}

/* target: an energy the run reaches (an optimum). */
static inline void gpu_test_target(gpu_test_solve solve, const void *model,
                                   int64_t target)
{
  anneal_params p = { 0 };
  anneal_result r;
  p.seed = 5;
  p.time_limit = 20;
  p.has_target = 1;
  p.target_energy = target;
  CHECK_EQ_INT(solve(model, &p, NULL, NULL, &r), 0);
  CHECK_EQ_INT(r.stop, ANNEAL_STOP_TARGET);
  CHECK_EQ_INT(r.energy, target);
  printf("  target %lld: reached in %.3f s, %lld sweeps\n",
         (long long)target, r.elapsed_s, (long long)r.sweeps);
  free(r.tour);
}

#endif
