/* Tests of the `perm` kernel through Vulkan (shaders/perm.comp and
 * host/vk/perm_gpu.c) against the CPU reference: the same seed, sweeps and
 * replicas give the same tour and energy on TSPLIB instances of every
 * distance kind, at replica counts that fill workgroups and ones that do
 * not, whatever the CPU's thread count; a dispatch cut short fails the job;
 * the stopping rules. They run under the validation layer (as test_vk.c)
 * and fail on any message. No Vulkan device fails the test, unless
 * NEROX_SKIP_VULKAN=1. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anneal/perm.h"
#include "formats/tsplib.h"
#include "test_gpu.h"
#include "util/clock.h"
#include "util/log.h"
#include "vk/perm_gpu.h"
#include "vk/vk.h"

/* Test-only knobs of perm_gpu.c. */
#define ENV_CUT "NEROX_PERM_GPU_TEST_CUT"
#define ENV_BUDGET "NEROX_PERM_GPU_TEST_BUDGET"

static char err[512];
static char device[256];

/* A TSPLIB instance with its matrix (the model the engine builds). */
typedef struct inst {
  tsp_instance *t;
  int32_t *mat;
  perm_model m;
} inst;

static int inst_load(inst *in, const char *name, int matrix)
{
  char path[1024];
  memset(in, 0, sizeof *in);
  snprintf(path, sizeof path, "%s/tsplib/%s.tsp", test_data_dir(), name);
  if (tsplib_read_file(path, &in->t, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  if (matrix || !in->t->coords) {
    in->mat = malloc((size_t)in->t->n * (size_t)in->t->n * sizeof *in->mat);
    if (!in->mat)
      return -1;
    tsplib_fill_matrix(in->t, in->mat);
  }
  in->m = (perm_model){ in->t->n, in->mat, in->t };
  return 0;
}

static void inst_free(inst *in)
{
  free(in->mat);
  tsplib_free(in->t);
}

static perm_params sweeps_params(uint64_t seed, int replicas, int64_t sweeps,
                                 int threads)
{
  perm_params p = { 0 };
  p.seed = seed;
  p.replicas = replicas;
  p.sweeps = sweeps;
  p.threads = threads;
  return p;
}

/* ---- the same result on both backends --------------------------------- */

static void same_result(const char *name, const inst *in, perm_params p)
{
  perm_result rc, rg;
  /* Default replicas differ (PERM_GPU_DEFAULT_REPLICAS on the GPU): the
   * CPU is given the GPU's count. */
  perm_params pc = p;
  if (pc.replicas == 0)
    pc.replicas = PERM_GPU_DEFAULT_REPLICAS;
  int ok_c = perm_solve_cpu(&in->m, &pc, NULL, NULL, &rc, err, sizeof err);
  if (ok_c)
    fprintf(stderr, "%s cpu: %s\n", name, err);
  int ok_g = perm_solve_gpu(&in->m, &p, NULL, NULL, &rg, device,
                            sizeof device, err, sizeof err);
  if (ok_g)
    fprintf(stderr, "%s gpu: %s\n", name, err);
  CHECK_EQ_INT(ok_c, 0);
  CHECK_EQ_INT(ok_g, 0);
  if (ok_c == 0 && ok_g == 0) {
    int same = memcmp(rc.tour, rg.tour, (size_t)in->m.n * sizeof *rc.tour)
               == 0;
    printf("  %-10s seed %llu replicas %3d sweeps %5lld threads %d: "
           "cpu %lld gpu %lld %s\n", name, (unsigned long long)p.seed,
           rc.replicas, (long long)p.sweeps, p.threads,
           (long long)rc.energy, (long long)rg.energy,
           same ? "same tour" : "TOURS DIFFER");
    CHECK(same);
    CHECK_EQ_INT(rg.energy, rc.energy);
    CHECK_EQ_INT(rg.sweeps, rc.sweeps);
    CHECK_EQ_INT(rg.replicas, rc.replicas);
    if (p.replicas == 0)
      CHECK_EQ_INT(rg.replicas, PERM_GPU_DEFAULT_REPLICAS);
    CHECK_EQ_INT(rg.proposals, rc.proposals);
    CHECK_EQ_INT(rg.stop, PERM_STOP_SWEEPS);
  }
  free(rc.tour);
  free(rg.tour);
}

static void test_parity(void)
{
  static const struct {
    const char *name;
    int matrix, replicas, threads;
    uint64_t seed;
    int64_t sweeps;
  } runs[] = {
    { "berlin52", 1, 1, 1, 1, 300 },      /* EUC_2D */
    { "berlin52", 1, 13, 2, 2, 300 },
    { "kroA100", 1, 40, 2, 3, 200 },
    { "kroA100", 0, 3, 1, 4, 500 },       /* coordinates on the CPU */
    { "ulysses22", 1, 8, 2, 5, 400 },     /* GEO */
    { "gr96", 0, 9, 2, 6, 200 },
    { "att48", 1, 13, 1, 7, 400 },        /* ATT */
    { "att48", 0, 16, 2, 8, 300 },
    { "gr24", 1, 3, 2, 9, 500 },          /* EXPLICIT */
    { "bayg29", 1, 0, 2, 10, 400 },       /* default replicas */
    { "pcb442", 1, 17, 2, 11, 30 },
    { "burma14", 1, 5, 1, 12, 2000 },     /* small n: or-opt edge cases */
    { "gr17", 1, 7, 2, 13, 2000 },
    /* Odd workgroup counts, where invocations run the slots in reverse
     * order: three full groups, five with one slot in the last. */
    { "kroA100", 1, 24, 2, 14, 150 },
    { "gr96", 1, 33, 1, 15, 150 },
  };
  for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
    inst in;
    if (inst_load(&in, runs[i].name, runs[i].matrix) == 0)
      same_result(runs[i].name, &in,
                  sweeps_params(runs[i].seed, runs[i].replicas,
                                runs[i].sweeps, runs[i].threads));
    else
      CHECK(0);
    inst_free(&in);
  }
}

/* Many exchange rounds (round_sweeps is 1 for n >= 2048 and 40 for
 * berlin52): a long run on a small instance, where states travel the
 * whole ladder. */
static void test_long_run(void)
{
  inst in;
  if (inst_load(&in, "berlin52", 1)) {
    CHECK(0);
    return;
  }
  same_result("berlin52", &in, sweeps_params(21, 24, 20000, 2));
  inst_free(&in);
}

/* A small loop budget: every round takes many dispatches, each resuming
 * at the block (8 proposals) where the last one stopped, also where a
 * sweep ends inside a block (n % 8 != 0). */
static void test_small_budget(void)
{
  static const struct {
    const char *name, *budget;
    int replicas;
    int64_t sweeps;
  } runs[] = {
    { "kroA100", "450", 13, 60 },   /* one block (401) per dispatch */
    { "kroA100", "2000", 9, 60 },
    { "gr17", "80", 7, 400 },       /* n % 8 == 1 */
    { "pcb442", "5000", 18, 10 },   /* n % 8 == 2 */
  };
  for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
    inst in;
    if (inst_load(&in, runs[i].name, 1)) {
      CHECK(0);
      continue;
    }
    setenv(ENV_BUDGET, runs[i].budget, 1);
    printf("  budget %s:\n", runs[i].budget);
    same_result(runs[i].name, &in, sweeps_params(31 + i, runs[i].replicas,
                                                 runs[i].sweeps, 2));
    unsetenv(ENV_BUDGET);
    inst_free(&in);
  }
}

/* ---- a dispatch cut short ------------------------------------------- */

static void expect_cut(const inst *in, const char *var, const char *value)
{
  perm_params p = sweeps_params(1, 13, 100, 2);
  perm_result r;
  setenv(var, value, 1);
  CHECK_EQ_INT(perm_solve_gpu(&in->m, &p, NULL, NULL, &r, device,
                              sizeof device, err, sizeof err), -1);
  unsetenv(var);
  CHECK_CONTAINS(err, "cut short");
  CHECK(r.tour == NULL);
  printf("  %s=%s: %s\n", var, value, err);
}

static void test_cut(const nvk_device_info *info)
{
  inst in;
  if (inst_load(&in, "kroA100", 1)) {
    CHECK(0);
    return;
  }
  /* The shader ends its proposal loop at q = 777 as a driver's loop
   * limit would, without planning to. */
  expect_cut(&in, ENV_CUT, "777");
  /* On llvmpipe, the real thing: without the budget one dispatch runs a
   * whole round (2,210 proposals for pcb442, from random tours whose
   * reversals run to n / 4 swaps), and llvmpipe ends the shader's loops
   * once they have made 65,535 iterations together. */
  inst big;
  if (strstr(info->name, "llvmpipe") && inst_load(&big, "pcb442", 1) == 0) {
    perm_params p = sweeps_params(1, 8, 50, 2);
    perm_result r;
    setenv(ENV_BUDGET, "4000000000", 1);
    int rc = perm_solve_gpu(&big.m, &p, NULL, NULL, &r, device,
                            sizeof device, err, sizeof err);
    unsetenv(ENV_BUDGET);
    CHECK_EQ_INT(rc, -1);
    CHECK_CONTAINS(err, "cut short");
    printf("  llvmpipe without the loop budget: %s\n", err);
    free(r.tour);
    inst_free(&big);
  }
  /* And the run is fine again without the knobs. */
  same_result("kroA100", &in, sweeps_params(2, 13, 50, 2));
  inst_free(&in);
}

/* ---- stopping rules --------------------------------------------------- */

/* perm_solve_gpu on the test's device, for test_gpu.h. */
static int solve_perm(const void *model, const anneal_params *p,
                      anneal_progress_fn fn, void *ud, anneal_result *r)
{
  return perm_solve_gpu(model, p, fn, ud, r, device, sizeof device, err,
                        sizeof err);
}

static void test_refused(const nvk_device_info *info)
{
  perm_params p = sweeps_params(1, 4, 10, 1);
  perm_result r;
  /* A matrix past maxStorageBufferRange (lavapipe: 128 MiB): n = 6000
   * cities on a line, never built as a matrix on the host. */
  uint64_t limit_n = 1;
  while ((limit_n + 1) * (limit_n + 1) * 4 <= info->max_storage_buffer_range)
    limit_n++;
  if (limit_n < PERM_MAX_N) {
    tsp_instance t = { 0 };
    int n = (int)limit_n + 1;
    t.n = n;
    t.metric = TSP_METRIC_EUC_2D;
    t.dims = 2;
    t.coords = calloc(2 * (size_t)n, sizeof *t.coords);
    for (int i = 0; t.coords && i < n; i++)
      t.coords[2 * i] = i;
    perm_model m = { n, NULL, &t };
    CHECK_EQ_INT(perm_solve_gpu(&m, &p, NULL, NULL, &r, device,
                                sizeof device, err, sizeof err), -1);
    CHECK_CONTAINS(err, "maxStorageBufferRange");
    printf("  n = %d: %s\n", n, err);
    free(t.coords);
  }
  /* The CPU's own checks. */
  p.sweeps = 0;
  inst in;
  if (inst_load(&in, "gr24", 1) == 0) {
    CHECK_EQ_INT(perm_solve_gpu(&in.m, &p, NULL, NULL, &r, device,
                                sizeof device, err, sizeof err), -1);
    CHECK_CONTAINS(err, "no stopping condition");
  }
  inst_free(&in);
}

/* ---- main ---------------------------------------------------------------- */

static int run_device_tests(void)
{
  nvk_device_info info;
  inst in;
  if (nvk_device(&info, err, sizeof err) != 0) {
    fprintf(stderr, "test_perm_gpu: %s\n", err);
    fprintf(stderr, "test_perm_gpu: a Vulkan device is required "
                    "(lavapipe: scripts/setup.sh); NEROX_SKIP_VULKAN=1 "
                    "skips\n");
    return -1;
  }
  printf("device %u: %s (%s)\n", info.index, info.name,
         nvk_device_type_name(info.type));
  test_parity();
  test_long_run();
  test_small_budget();
  test_cut(&info);
  CHECK(strcmp(device, info.name) == 0);
  if (inst_load(&in, "berlin52", 1) == 0) {
    gpu_test_cancel(solve_perm, &in.m);
    gpu_test_time_limit(solve_perm, &in.m, "proposals");
    gpu_test_target(solve_perm, &in.m, 7542); /* berlin52's optimum */
  } else {
    CHECK(0);
  }
  inst_free(&in);
  test_refused(&info);
  return 0;
}

int main(void)
{
  int validate;
  log_init_from_env();
  const char *skip = getenv("NEROX_SKIP_VULKAN");
  if (skip && strcmp(skip, "1") == 0) {
    printf("test_perm_gpu: NEROX_SKIP_VULKAN=1: device tests skipped\n");
    return test_report("test_perm_gpu");
  }
  setenv("NEROX_VK_VALIDATION", VALIDATION_DEFAULT, 0);
  validate = strcmp(getenv("NEROX_VK_VALIDATION"), "1") == 0;
  CHECK(run_device_tests() == 0);

  unsigned errors, warnings;
  nvk_validation_counts(&errors, &warnings);
  printf("validation %s: %u errors, %u warnings\n", validate ? "on" : "off",
         errors, warnings);
  CHECK_EQ_INT(errors, 0);
  CHECK_EQ_INT(warnings, 0);
  nvk_shutdown();
  return test_report("test_perm_gpu");
}
