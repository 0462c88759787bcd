/* solver = "auto": which backend is faster on the devices found, decided
 * once per process. A Vulkan device that runs on the CPU (Mesa's
 * lavapipe) shares the cores with the CPU backend and cannot beat it, so
 * it is passed over without measuring; any other device is measured
 * against the CPU backend on a fixed synthetic instance, and the one with
 * more proposals per second wins. NEROX_AUTO_CALIBRATE=1 measures always
 * (for tests); NEROX_AUTO=cpu|gpu forces the choice. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "util/log.h"
#include "vk/perm_gpu.h"
#include "vk/vk.h"

/* Cities of the calibration instance, and seconds each backend runs. */
#define AUTO_CAL_N 200
#define AUTO_CAL_SECONDS 0.15

static pthread_once_t auto_once = PTHREAD_ONCE_INIT;
static job_solver auto_choice = JOB_SOLVER_CPU;
static char auto_reason[512];

/* Points from a fixed LCG, so every process measures the same instance. */
static int32_t *auto_instance(void)
{
  double xy[2 * AUTO_CAL_N];
  uint32_t state = 12345u;
  for (int i = 0; i < 2 * AUTO_CAL_N; i++) {
    state = state * 1664525u + 1013904223u;
    xy[i] = (double)(state >> 8) / (double)(1u << 24) * 1000.0;
  }
  int32_t *mx = malloc(sizeof(int32_t) * AUTO_CAL_N * AUTO_CAL_N);
  if (!mx)
    return NULL;
  tsp_instance t = { .n = AUTO_CAL_N, .metric = TSP_METRIC_EUC_2D,
                     .dims = 2, .coords = xy };
  tsplib_fill_matrix(&t, mx);
  return mx;
}

/* Proposals per second of one backend, or a negative value with err. */
static double auto_rate(int gpu, const perm_model *m, char *err,
                        size_t errlen)
{
  perm_params p = { .seed = 1, .time_limit = AUTO_CAL_SECONDS };
  perm_result r = { 0 };
  char name[NVK_NAME_MAX];
  int rc = gpu ? perm_solve_gpu(m, &p, NULL, NULL, &r, name, sizeof name,
                                err, errlen)
               : perm_solve_cpu(m, &p, NULL, NULL, &r, err, errlen);
  if (rc != 0)
    return -1.0;
  free(r.tour);
  return r.elapsed_s > 0 ? (double)r.proposals / r.elapsed_s : 0.0;
}

static void auto_measure(const char *device)
{
  int32_t *mx = auto_instance();
  if (!mx) {
    snprintf(auto_reason, sizeof auto_reason, "cpu: out of memory for the "
             "calibration instance");
    return;
  }
  perm_model m = { .n = AUTO_CAL_N, .matrix = mx };
  char err[256] = "";
  double cpu = auto_rate(0, &m, err, sizeof err);
  double gpu = auto_rate(1, &m, err, sizeof err);
  free(mx);
  if (gpu < 0) {
    snprintf(auto_reason, sizeof auto_reason, "cpu: the gpu backend "
             "failed its calibration: %s", err);
    return;
  }
  auto_choice = gpu > cpu ? JOB_SOLVER_GPU : JOB_SOLVER_CPU;
  snprintf(auto_reason, sizeof auto_reason,
           "%s: measured %.1f M proposals/s on %s, %.1f M on the cpu",
           auto_choice == JOB_SOLVER_GPU ? "gpu" : "cpu", gpu / 1e6, device,
           cpu / 1e6);
}

static int auto_env_is(const char *name, const char *value)
{
  const char *s = getenv(name);
  return s && strcmp(s, value) == 0;
}

static void auto_decide(void)
{
  if (auto_env_is("NEROX_AUTO", "cpu") || auto_env_is("NEROX_AUTO", "gpu")) {
    auto_choice = auto_env_is("NEROX_AUTO", "gpu") ? JOB_SOLVER_GPU
                                                   : JOB_SOLVER_CPU;
    snprintf(auto_reason, sizeof auto_reason, "%s: set by NEROX_AUTO",
             getenv("NEROX_AUTO"));
  } else {
    nvk_device_info info;
    char err[256] = "";
    if (nvk_device(&info, err, sizeof err) != 0)
      snprintf(auto_reason, sizeof auto_reason, "cpu: %s", err);
    else if (info.type == VK_PHYSICAL_DEVICE_TYPE_CPU &&
             !auto_env_is("NEROX_AUTO_CALIBRATE", "1"))
      snprintf(auto_reason, sizeof auto_reason, "cpu: the only Vulkan "
               "device, %s, runs on the CPU", info.name);
    else
      auto_measure(info.name);
  }
  LOG_I("engine", "solver auto chose %s", auto_reason);
}

job_solver engine_auto_solver(void)
{
  pthread_once(&auto_once, auto_decide);
  return auto_choice;
}

const char *engine_auto_reason(void)
{
  pthread_once(&auto_once, auto_decide);
  return auto_reason;
}
