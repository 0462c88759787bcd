/* Tests of the `binary` kernel through Vulkan (shaders/binary_*.comp and
 * host/vk/binary_gpu.c) against the CPU reference: the same seed, sweeps
 * and replicas give the same assignment and energy on G-set Max-Cut
 * graphs, bqp QUBOs and random models that take each of the four shader
 * variants (int32 or int64 fields, CSR or dense couplings), at replica
 * counts that fill workgroups and ones that do not, over many exchange
 * rounds and with loop budgets that split rounds into many dispatches; a
 * dispatch cut short fails the job; the stopping rules. They run under the
 * validation layer (as test_vk.c) and fail on any message. No Vulkan
 * device fails the test, unless NEROX_SKIP_VULKAN=1. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anneal/binary.h"
#include "anneal/binary_internal.h"
#include "anneal/rng.h"
#include "engine/model.h"
#include "test_gpu.h"
#include "util/clock.h"
#include "util/log.h"
#include "vk/binary_gpu.h"
#include "vk/vk.h"

/* Test-only knobs of binary_gpu.c. */
#define ENV_CUT "NEROX_BINARY_GPU_TEST_CUT"
#define ENV_BUDGET "NEROX_BINARY_GPU_TEST_BUDGET"

static char err[512];
static char device[256];

/* A G-set graph (bqp == 0) or instance `bqp` of an OR-Library file,
 * below the data directory, as a model to minimise; NULL on failure. */
static nx_model *load(const char *file, int bqp)
{
  char path[1024];
  rudy_graph *g = NULL;
  bqp_instance *b = NULL;
  nx_model *m = NULL;
  snprintf(path, sizeof path, "%s/%s/%s", test_data_dir(),
           bqp ? "bqp" : "gset", file);
  if (bqp && bqp_read_file(path, bqp, &b, NULL, err, sizeof err) == 0)
    m = model_from_bqp(b, err, sizeof err);
  if (!bqp && rudy_read_file(path, &g, err, sizeof err) == 0)
    m = model_from_maxcut(g, err, sizeof err);
  if (!m)
    fprintf(stderr, "%s\n", err);
  bqp_free(b);
  rudy_free(g);
  return m;
}

/* A random QUBO: pairs coupled with probability pct percent,
 * coefficients in -mag..mag (large ones make the plan take int64
 * fields). */
static nx_model *load_random(int n, int pct, int32_t mag)
{
  int64_t cap = (int64_t)n * (n - 1) / 2 + 1, m = 0;
  int32_t *a = malloc((size_t)cap * sizeof *a);
  int32_t *b = malloc((size_t)cap * sizeof *b);
  int32_t *j = malloc((size_t)cap * sizeof *j);
  int64_t *h = calloc((size_t)n, sizeof *h);
  uint32_t span = 2u * (uint32_t)mag + 1u;
  nx_model *q = NULL;
  if (a && b && j && h) {
    for (int x = 0; x < n; x++) {
      h[x] = (int64_t)rng_mulhi(rng_hash3((uint32_t)x, 7, 1), span) - mag;
      for (int y = x + 1; y < n; y++) {
        if (rng_mulhi(rng_hash3((uint32_t)x, (uint32_t)y, 0), 100)
            >= (uint32_t)pct)
          continue;
        a[m] = x;
        b[m] = y;
        j[m++] = (int32_t)((int64_t)rng_mulhi(rng_hash3((uint32_t)x,
                                                        (uint32_t)y, 2),
                                              span) - mag);
      }
    }
    q = model_from_couplings(n, h, m, a, b, j, 0, err, sizeof err);
    if (!q)
      fprintf(stderr, "random model: %s\n", err);
  }
  free(a);
  free(b);
  free(j);
  free(h);
  return q;
}

static anneal_params sweeps_params(uint64_t seed, int replicas,
                                   int64_t sweeps, int threads)
{
  anneal_params p = { 0 };
  p.seed = seed;
  p.replicas = replicas;
  p.sweeps = sweeps;
  p.threads = threads;
  return p;
}

/* Which of the four shader variants the plan picks, for the log. */
static const char *variant(const binary_model *m)
{
  binary_plan pl;
  static const char *names[] = { "int64 csr", "int64 dense", "int32 csr",
                                 "int32 dense" };
  const char *v = "?";
  if (binary_plan_build(m, 1, BINARY_LAYOUT_AUTO, &pl, err, sizeof err)
      == 0)
    v = names[2 * pl.narrow + pl.dense];
  binary_plan_free(&pl);
  return v;
}

/* ---- the same result on both backends --------------------------------- */

static void same_result(const char *name, const binary_model *m,
                        anneal_params p)
{
  anneal_result rc, rg;
  int ok_c = binary_solve_cpu(m, &p, NULL, NULL, &rc, err, sizeof err);
  if (ok_c)
    fprintf(stderr, "%s cpu: %s\n", name, err);
  int ok_g = binary_solve_gpu(m, &p, NULL, NULL, &rg, device,
                              sizeof device, err, sizeof err);
  if (ok_g)
    fprintf(stderr, "%s gpu: %s\n", name, err);
  CHECK_EQ_INT(ok_c, 0);
  CHECK_EQ_INT(ok_g, 0);
  if (ok_c == 0 && ok_g == 0) {
    int same = memcmp(rc.tour, rg.tour, (size_t)m->n * sizeof *rc.tour)
               == 0;
    printf("  %-9s %-11s seed %llu replicas %3d sweeps %5lld: cpu %lld "
           "gpu %lld %s\n", name, variant(m), (unsigned long long)p.seed,
           rc.replicas, (long long)p.sweeps, (long long)rc.energy,
           (long long)rg.energy, same ? "same" : "ASSIGNMENTS DIFFER");
    CHECK(same);
    CHECK_EQ_INT(rg.energy, rc.energy);
    CHECK_EQ_INT(rg.sweeps, rc.sweeps);
    CHECK_EQ_INT(rg.replicas, rc.replicas);
    CHECK_EQ_INT(rg.proposals, rc.proposals);
    CHECK_EQ_INT(rg.stop, ANNEAL_STOP_SWEEPS);
  }
  free(rc.tour);
  free(rg.tour);
}

static void test_instances(void)
{
  nx_model *q;
  if ((q = load("G1", 0)) != NULL) {
    same_result("G1", model_binary(q), sweeps_params(1, 13, 40, 2));
    same_result("G1", model_binary(q), sweeps_params(2, 3, 30, 1));
  } else {
    CHECK(0);
  }
  model_release(q);
  if ((q = load("bqp50.txt", 1)) != NULL) {
    same_result("bqp50.1", model_binary(q), sweeps_params(3, 1, 1000, 1));
    same_result("bqp50.1", model_binary(q), sweeps_params(4, 40, 700, 2));
    /* 61 exchange rounds of 82 sweeps. */
    same_result("bqp50.1", model_binary(q), sweeps_params(5, 24, 5000, 2));
  } else {
    CHECK(0);
  }
  model_release(q);
  if ((q = load("bqp250.txt", 3)) != NULL) {
    same_result("bqp250.3", model_binary(q), sweeps_params(6, 13, 300, 2));
    same_result("bqp250.3", model_binary(q), sweeps_params(7, 0, 100, 2));
  } else {
    CHECK(0);
  }
  model_release(q);
}

/* Each shader variant: dense int32, dense int64, CSR int64. */
static void test_layouts(void)
{
  static const struct {
    int n, pct, replicas;
    int32_t mag;
    int64_t sweeps;
  } runs[] = {
    { 120, 50, 3, 100, 400 },            /* dense, int32 fields */
    { 120, 50, 13, 100, 300 },
    { 90, 60, 8, 100000000, 500 },       /* dense, int64 fields */
    { 300, 8, 13, 1000000000, 200 },     /* CSR, int64 fields */
    { 1, 0, 3, 100, 50 },                /* one variable */
  };
  for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
    char name[32];
    snprintf(name, sizeof name, "rand%d.%d", runs[i].n, runs[i].pct);
    nx_model *q = load_random(runs[i].n, runs[i].pct, runs[i].mag);
    if (q)
      same_result(name, model_binary(q),
                  sweeps_params(11 + i, runs[i].replicas, runs[i].sweeps,
                                2));
    else
      CHECK(0);
    model_release(q);
  }
}

/* A small loop budget: every round takes many dispatches, each resuming
 * at the site where the last one stopped. */
static void test_small_budget(void)
{
  nx_model *q;
  if ((q = load("G1", 0)) != NULL) {
    setenv(ENV_BUDGET, "700", 1);
    printf("  budget 700:\n");
    same_result("G1", model_binary(q), sweeps_params(21, 9, 12, 2));
    unsetenv(ENV_BUDGET);
  } else {
    CHECK(0);
  }
  model_release(q);
  if ((q = load_random(100, 50, 100)) != NULL) {
    setenv(ENV_BUDGET, "250", 1);
    printf("  budget 250:\n");
    same_result("rand100", model_binary(q), sweeps_params(22, 5, 60, 2));
    unsetenv(ENV_BUDGET);
  } else {
    CHECK(0);
  }
  model_release(q);
}

/* ---- a dispatch cut short ------------------------------------------- */

static void test_cut(const nvk_device_info *info, const binary_model *m)
{
  anneal_params p = sweeps_params(1, 13, 30, 2);
  anneal_result r;
  /* The shader ends its site loop at q = 777 as a driver's loop limit
   * would, without planning to. */
  setenv(ENV_CUT, "777", 1);
  CHECK_EQ_INT(binary_solve_gpu(m, &p, NULL, NULL, &r, device,
                                sizeof device, err, sizeof err), -1);
  unsetenv(ENV_CUT);
  CHECK_CONTAINS(err, "cut short");
  CHECK(r.tour == NULL);
  printf("  %s=777: %s\n", ENV_CUT, err);
  /* On llvmpipe, the real thing: without the budget one dispatch runs a
   * whole round of G1 (6 sweeps of 800 sites with field updates). */
  if (strstr(info->name, "llvmpipe")) {
    setenv(ENV_BUDGET, "4000000000", 1);
    int rc = binary_solve_gpu(m, &p, NULL, NULL, &r, device,
                              sizeof device, err, sizeof err);
    unsetenv(ENV_BUDGET);
    CHECK_EQ_INT(rc, -1);
    CHECK_CONTAINS(err, "cut short");
    printf("  llvmpipe without the loop budget: %s\n", err);
    free(r.tour);
  }
  same_result("G1", m, sweeps_params(2, 13, 12, 2));
}

/* ---- stopping rules --------------------------------------------------- */

/* binary_solve_gpu on the test's device, for test_gpu.h. */
static int solve_binary(const void *model, const anneal_params *p,
                        anneal_progress_fn fn, void *ud, anneal_result *r)
{
  return binary_solve_gpu(model, p, fn, ud, r, device, sizeof device, err,
                          sizeof err);
}

static void test_refused(const binary_model *m)
{
  anneal_params p = sweeps_params(1, 4, 0, 1);
  anneal_result r;
  CHECK_EQ_INT(binary_solve_gpu(m, &p, NULL, NULL, &r, device,
                                sizeof device, err, sizeof err), -1);
  CHECK_CONTAINS(err, "no stopping condition");
  CHECK(r.tour == NULL);
}

/* ---- main ---------------------------------------------------------------- */

static void test_stops(void)
{
  nx_model *q = load("bqp50.txt", 1);
  if (q) {
    gpu_test_cancel(solve_binary, model_binary(q));
    gpu_test_time_limit(solve_binary, model_binary(q), "flips");
    /* bqp50.1's best known value is 2098. */
    gpu_test_target(solve_binary, model_binary(q), -2098);
    test_refused(model_binary(q));
  } else {
    CHECK(0);
  }
  model_release(q);
}

static int run_device_tests(void)
{
  nvk_device_info info;
  nx_model *g1;
  if (nvk_device(&info, err, sizeof err) != 0) {
    fprintf(stderr, "test_binary_gpu: %s\n", err);
    fprintf(stderr, "test_binary_gpu: a Vulkan device is required "
                    "(lavapipe: scripts/setup.sh); NEROX_SKIP_VULKAN=1 "
                    "skips\n");
    return -1;
  }
  printf("device %u: %s (%s)\n", info.index, info.name,
         nvk_device_type_name(info.type));
  test_instances();
  test_layouts();
  test_small_budget();
  if ((g1 = load("G1", 0)) != NULL)
    test_cut(&info, model_binary(g1));
  else
    CHECK(0);
  model_release(g1);
  CHECK(strcmp(device, info.name) == 0);
  test_stops();
  return 0;
}

int main(void)
{
  int validate;
  log_init_from_env();
  const char *skip = getenv("NEROX_SKIP_VULKAN");
  if (skip && strcmp(skip, "1") == 0) {
    printf("test_binary_gpu: NEROX_SKIP_VULKAN=1: device tests "
           "skipped\n");
    return test_report("test_binary_gpu");
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
  return test_report("test_binary_gpu");
}
