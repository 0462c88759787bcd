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
#include "formats/bqp.h"
#include "formats/rudy.h"
#include "testutil.h"
#include "util/clock.h"
#include "util/log.h"
#include "vk/binary_gpu.h"
#include "vk/vk.h"

/* As test_vk.c: the validation layer leaks under AddressSanitizer. */
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

/* Test-only knobs of binary_gpu.c. */
#define ENV_CUT "NEROX_BINARY_GPU_TEST_CUT"
#define ENV_BUDGET "NEROX_BINARY_GPU_TEST_BUDGET"
/* Longest a cancelled run may take after the callback asked to stop. */
#define CANCEL_SLACK_S 0.2

static char err[512];
static char device[256];

/* A QUBO with its own storage, built from pairs (a, b, J) and fields. */
typedef struct qubo {
  binary_model m;
  int64_t *h, *rs;
  int32_t *col, *val;
} qubo;

static void qubo_free(qubo *q)
{
  free(q->h);
  free(q->rs);
  free(q->col);
  free(q->val);
  memset(q, 0, sizeof *q);
}

/* Symmetric CSR of m pairs (each once, a != b); q->h already set. */
static int qubo_build(qubo *q, int n, int64_t m, const int32_t *a,
                      const int32_t *b, const int32_t *j)
{
  q->rs = calloc((size_t)n + 2, sizeof *q->rs);
  q->col = malloc((2 * (size_t)m + 1) * sizeof *q->col);
  q->val = malloc((2 * (size_t)m + 1) * sizeof *q->val);
  if (!q->rs || !q->col || !q->val)
    return -1;
  for (int64_t k = 0; k < m; k++) {
    q->rs[a[k] + 2]++;
    q->rs[b[k] + 2]++;
  }
  for (int i = 0; i < n; i++)
    q->rs[i + 2] += q->rs[i + 1];
  for (int64_t k = 0; k < m; k++) {
    int64_t p = q->rs[a[k] + 1]++, r = q->rs[b[k] + 1]++;
    q->col[p] = b[k];
    q->val[p] = j[k];
    q->col[r] = a[k];
    q->val[r] = j[k];
  }
  q->m = (binary_model){ n, q->h, q->rs, q->col, q->val, 0 };
  return 0;
}

/* Max-Cut of a G-set graph as a QUBO: h_i = -sum_j w_ij, J_ij = 2 w_ij
 * (energy = -cut). */
static int load_gset(qubo *q, const char *name)
{
  char path[1024];
  rudy_graph *g;
  int32_t *j;
  int rc = -1;
  memset(q, 0, sizeof *q);
  snprintf(path, sizeof path, "%s/gset/%s", test_data_dir(), name);
  if (rudy_read_file(path, &g, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  q->h = calloc((size_t)g->n, sizeof *q->h);
  j = malloc(((size_t)g->m + 1) * sizeof *j);
  if (q->h && j) {
    for (int64_t k = 0; k < g->m; k++) {
      int32_t w = (int32_t)g->w[k];
      j[k] = 2 * w;
      q->h[g->u[k]] -= w;
      q->h[g->v[k]] -= w;
    }
    rc = qubo_build(q, g->n, g->m, g->u, g->v, j);
  }
  free(j);
  rudy_free(g);
  return rc;
}

/* Instance k of bqpN.txt, as a minimisation: h_i = -q_ii,
 * J_ij = -2 q_ij. */
static int load_bqp(qubo *q, const char *file, int k)
{
  char path[1024];
  bqp_instance *b;
  int32_t *a = NULL, *c = NULL, *j = NULL;
  int64_t m = 0;
  int rc = -1;
  memset(q, 0, sizeof *q);
  snprintf(path, sizeof path, "%s/bqp/%s", test_data_dir(), file);
  if (bqp_read_file(path, k, &b, NULL, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  q->h = calloc((size_t)b->n, sizeof *q->h);
  a = malloc(((size_t)b->nnz + 1) * sizeof *a);
  c = malloc(((size_t)b->nnz + 1) * sizeof *c);
  j = malloc(((size_t)b->nnz + 1) * sizeof *j);
  if (q->h && a && c && j) {
    for (int64_t e = 0; e < b->nnz; e++) {
      if (b->i[e] == b->j[e]) {
        q->h[b->i[e]] -= (int64_t)b->q[e];
        continue;
      }
      a[m] = b->i[e];
      c[m] = b->j[e];
      j[m++] = -2 * (int32_t)b->q[e];
    }
    rc = qubo_build(q, b->n, m, a, c, j);
  }
  free(a);
  free(c);
  free(j);
  bqp_free(b);
  return rc;
}

/* A random QUBO: pairs coupled with probability pct percent,
 * coefficients in -mag..mag (large ones make the plan take int64
 * fields). */
static int load_random(qubo *q, int n, int pct, int32_t mag)
{
  int64_t cap = (int64_t)n * (n - 1) / 2 + 1, m = 0;
  int32_t *a = malloc((size_t)cap * sizeof *a);
  int32_t *b = malloc((size_t)cap * sizeof *b);
  int32_t *j = malloc((size_t)cap * sizeof *j);
  uint32_t span = 2u * (uint32_t)mag + 1u;
  int rc = -1;
  memset(q, 0, sizeof *q);
  q->h = calloc((size_t)n, sizeof *q->h);
  if (a && b && j && q->h) {
    for (int x = 0; x < n; x++) {
      q->h[x] = (int64_t)rng_mulhi(rng_hash3((uint32_t)x, 7, 1), span) - mag;
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
    rc = qubo_build(q, n, m, a, b, j);
  }
  free(a);
  free(b);
  free(j);
  return rc;
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
  qubo q;
  if (load_gset(&q, "G1") == 0) {
    same_result("G1", &q.m, sweeps_params(1, 13, 40, 2));
    same_result("G1", &q.m, sweeps_params(2, 3, 30, 1));
  } else {
    CHECK(0);
  }
  qubo_free(&q);
  if (load_bqp(&q, "bqp50.txt", 1) == 0) {
    same_result("bqp50.1", &q.m, sweeps_params(3, 1, 1000, 1));
    same_result("bqp50.1", &q.m, sweeps_params(4, 40, 700, 2));
    /* 61 exchange rounds of 82 sweeps. */
    same_result("bqp50.1", &q.m, sweeps_params(5, 24, 5000, 2));
  } else {
    CHECK(0);
  }
  qubo_free(&q);
  if (load_bqp(&q, "bqp250.txt", 3) == 0) {
    same_result("bqp250.3", &q.m, sweeps_params(6, 13, 300, 2));
    same_result("bqp250.3", &q.m, sweeps_params(7, 0, 100, 2));
  } else {
    CHECK(0);
  }
  qubo_free(&q);
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
    qubo q;
    char name[32];
    snprintf(name, sizeof name, "rand%d.%d", runs[i].n, runs[i].pct);
    if (load_random(&q, runs[i].n, runs[i].pct, runs[i].mag) == 0)
      same_result(name, &q.m, sweeps_params(11 + i, runs[i].replicas,
                                            runs[i].sweeps, 2));
    else
      CHECK(0);
    qubo_free(&q);
  }
}

/* A small loop budget: every round takes many dispatches, each resuming
 * at the site where the last one stopped. */
static void test_small_budget(void)
{
  qubo q;
  if (load_gset(&q, "G1") == 0) {
    setenv(ENV_BUDGET, "700", 1);
    printf("  budget 700:\n");
    same_result("G1", &q.m, sweeps_params(21, 9, 12, 2));
    unsetenv(ENV_BUDGET);
  } else {
    CHECK(0);
  }
  qubo_free(&q);
  if (load_random(&q, 100, 50, 100) == 0) {
    setenv(ENV_BUDGET, "250", 1);
    printf("  budget 250:\n");
    same_result("rand100", &q.m, sweeps_params(22, 5, 60, 2));
    unsetenv(ENV_BUDGET);
  } else {
    CHECK(0);
  }
  qubo_free(&q);
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

typedef struct cancel_state {
  int calls;
  double asked_at;
  int64_t best;
} cancel_state;

static int cancel_after(void *ud, const anneal_progress *pg)
{
  cancel_state *c = ud;
  c->calls++;
  c->best = pg->best_energy;
  if (pg->elapsed_s < 0.1)
    return 0;
  c->asked_at = clock_mono_s();
  return 1;
}

static void test_cancel(const binary_model *m)
{
  anneal_params p = { 0 };
  cancel_state c = { 0, 0, 0 };
  anneal_result r;
  p.seed = 3;
  p.time_limit = 30;
  int rc = binary_solve_gpu(m, &p, cancel_after, &c, &r, device,
                            sizeof device, err, sizeof err);
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

static void test_time_limit(const binary_model *m)
{
  anneal_params p = { 0 };
  anneal_result r;
  p.seed = 4;
  p.time_limit = 0.3;
  double t0 = clock_mono_s();
  CHECK_EQ_INT(binary_solve_gpu(m, &p, NULL, NULL, &r, device,
                                sizeof device, err, sizeof err), 0);
  double took = clock_mono_s() - t0;
  CHECK_EQ_INT(r.stop, ANNEAL_STOP_TIME);
  CHECK(took >= 0.3 && took < 0.3 + CANCEL_SLACK_S + 0.5);
  CHECK(r.sweeps > 0);
  printf("  time limit 0.3 s: %.3f s, %lld sweeps, %.1f M flips/s\n",
         took, (long long)r.sweeps, (double)r.proposals / r.elapsed_s / 1e6);
  free(r.tour);
}

/* bqp50.1's best known value is 2098. */
static void test_target(const binary_model *m)
{
  anneal_params p = { 0 };
  anneal_result r;
  p.seed = 5;
  p.time_limit = 20;
  p.has_target = 1;
  p.target_energy = -2098;
  CHECK_EQ_INT(binary_solve_gpu(m, &p, NULL, NULL, &r, device,
                                sizeof device, err, sizeof err), 0);
  CHECK_EQ_INT(r.stop, ANNEAL_STOP_TARGET);
  CHECK_EQ_INT(r.energy, -2098);
  printf("  target -2098: reached in %.3f s, %lld sweeps\n", r.elapsed_s,
         (long long)r.sweeps);
  free(r.tour);
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
  qubo q;
  if (load_bqp(&q, "bqp50.txt", 1) == 0) {
    test_cancel(&q.m);
    test_time_limit(&q.m);
    test_target(&q.m);
    test_refused(&q.m);
  } else {
    CHECK(0);
  }
  qubo_free(&q);
}

static int run_device_tests(void)
{
  nvk_device_info info;
  qubo g1;
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
  if (load_gset(&g1, "G1") == 0)
    test_cut(&info, &g1.m);
  else
    CHECK(0);
  qubo_free(&g1);
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
