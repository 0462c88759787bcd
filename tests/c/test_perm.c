/* Unit tests of the CPU `perm` kernel: valid tours with exact lengths,
 * reproducible sweep-limited runs (whatever the threads or the distance
 * source), the stopping rules, refused parameters, and the quality on
 * berlin52. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anneal/perm.h"
#include "anneal/perm_internal.h"
#include "anneal/rng.h"
#include "formats/tsplib.h"
#include "testutil.h"

/* A random EUC_2D instance in a square, and its distance matrix. */
typedef struct fixture {
  tsp_instance inst;
  int32_t *mat;
  perm_model m;      /* matrix model */
  perm_model mc;     /* coordinate model */
} fixture;

static void fixture_make(fixture *fx, int n, uint32_t seed, int matrix)
{
  memset(fx, 0, sizeof *fx);
  fx->inst.n = n;
  fx->inst.metric = TSP_METRIC_EUC_2D;
  fx->inst.dims = 2;
  fx->inst.coords = malloc(2 * (size_t)n * sizeof(double));
  for (int i = 0; i < 2 * n; i++)
    fx->inst.coords[i] = rng_mulhi(rng_hash3(seed, 7, (uint32_t)i), 1000);
  if (matrix) {
    fx->mat = malloc((size_t)n * (size_t)n * sizeof *fx->mat);
    tsplib_fill_matrix(&fx->inst, fx->mat);
  }
  fx->m = (perm_model){ n, fx->mat, NULL };
  fx->mc = (perm_model){ n, NULL, &fx->inst };
}

static void fixture_free(fixture *fx)
{
  free(fx->inst.coords);
  free(fx->mat);
}

static perm_params sweeps_params(uint64_t seed, int64_t sweeps, int threads)
{
  perm_params p = { 0 };
  p.seed = seed;
  p.sweeps = sweeps;
  p.threads = threads;
  return p;
}

static int is_permutation(const int32_t *t, int n)
{
  char *seen = calloc((size_t)n, 1);
  int ok = 1;
  for (int i = 0; i < n && ok; i++) {
    ok = t[i] >= 0 && t[i] < n && !seen[t[i]];
    if (ok)
      seen[t[i]] = 1;
  }
  free(seen);
  return ok;
}

static int solve(const perm_model *m, const perm_params *p,
                 perm_progress_fn fn, void *ud, perm_result *res)
{
  char err[256] = "";
  int rc = perm_solve_cpu(m, p, fn, ud, res, err, sizeof err);
  if (rc)
    fprintf(stderr, "perm_solve_cpu: %s\n", err);
  return rc;
}

static void check_valid(const perm_model *m, const perm_result *r)
{
  CHECK(is_permutation(r->tour, m->n));
  CHECK_EQ_INT(r->energy, perm_tour_length(m, r->tour));
}

static void test_valid_tours(void)
{
  static const int sizes[] = { 3, 4, 5, 6, 7, 12, 60, 257 };
  for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
    fixture fx;
    perm_params p = sweeps_params(k + 1, 300, 2);
    perm_result r;
    fixture_make(&fx, sizes[k], 11, 1);
    p.replicas = 5;
    if (solve(&fx.m, &p, NULL, NULL, &r) == 0) {
      check_valid(&fx.m, &r);
      CHECK_EQ_INT(r.stop, PERM_STOP_SWEEPS);
      CHECK_EQ_INT(r.sweeps, 300);
      CHECK_EQ_INT(r.replicas, 5);
      CHECK_EQ_INT(r.proposals, 300ULL * 5 * (uint64_t)sizes[k]);
      free(r.tour);
    } else {
      CHECK(0);
    }
    fixture_free(&fx);
  }
}

/* Same seed, replicas and sweeps: the same tour for any thread count and
 * for the matrix or the coordinates. */
static void test_determinism(void)
{
  fixture fx;
  perm_result ref, r;
  static const int threads[] = { 2, 3, 7 };
  perm_params p = sweeps_params(42, 150, 1);
  fixture_make(&fx, 200, 5, 1);
  p.replicas = 7;
  if (solve(&fx.m, &p, NULL, NULL, &ref)) {
    CHECK(0);
    fixture_free(&fx);
    return;
  }
  for (size_t k = 0; k < sizeof threads / sizeof *threads; k++) {
    p.threads = threads[k];
    if (solve(&fx.m, &p, NULL, NULL, &r) == 0) {
      CHECK_EQ_INT(r.energy, ref.energy);
      CHECK(memcmp(r.tour, ref.tour, 200 * sizeof *r.tour) == 0);
      free(r.tour);
    }
  }
  p.threads = 2;
  if (solve(&fx.mc, &p, NULL, NULL, &r) == 0) {
    CHECK_EQ_INT(r.energy, ref.energy);
    CHECK(memcmp(r.tour, ref.tour, 200 * sizeof *r.tour) == 0);
    free(r.tour);
  }
  free(ref.tour);
  fixture_free(&fx);
}

/* Above 2 * PERM_MAX_SPAN cities runs start from the nearest-neighbour
 * tour and long edits are refused: still valid and reproducible. */
static void test_large_instance(void)
{
  fixture fx;
  int n = 2 * PERM_MAX_SPAN + 50;
  perm_params p = sweeps_params(4, 3, 1);
  perm_result a, b;
  fixture_make(&fx, n, 13, 0);
  p.replicas = 3;
  if (solve(&fx.mc, &p, NULL, NULL, &a) == 0) {
    check_valid(&fx.mc, &a);
    p.threads = 2;
    if (solve(&fx.mc, &p, NULL, NULL, &b) == 0) {
      CHECK_EQ_INT(a.energy, b.energy);
      CHECK(memcmp(a.tour, b.tour, (size_t)n * sizeof *a.tour) == 0);
      free(b.tour);
    }
    free(a.tour);
  }
  fixture_free(&fx);
}

static void test_seeds_differ(void)
{
  fixture fx;
  perm_result a, b;
  perm_params p = sweeps_params(1, 20, 0);
  fixture_make(&fx, 300, 9, 1);
  if (solve(&fx.m, &p, NULL, NULL, &a) == 0) {
    p.seed = 2;
    if (solve(&fx.m, &p, NULL, NULL, &b) == 0) {
      CHECK(memcmp(a.tour, b.tour, 300 * sizeof *a.tour) != 0);
      free(b.tour);
    }
    free(a.tour);
  }
  fixture_free(&fx);
}

/* A metric other than EUC_2D goes through tsplib_dist: same result as
 * with the matrix. */
static void test_att_instance(void)
{
  char path[1024], err[256];
  tsp_instance *t = NULL;
  snprintf(path, sizeof path, "%s/tsplib/att48.tsp", test_data_dir());
  CHECK(tsplib_read_file(path, &t, err, sizeof err) == 0);
  if (!t)
    return;
  int32_t *mat = malloc((size_t)t->n * (size_t)t->n * sizeof *mat);
  tsplib_fill_matrix(t, mat);
  perm_model mm = { t->n, mat, NULL }, mc = { t->n, NULL, t };
  perm_params p = sweeps_params(3, 400, 2);
  perm_result a, b;
  if (solve(&mm, &p, NULL, NULL, &a) == 0) {
    if (solve(&mc, &p, NULL, NULL, &b) == 0) {
      check_valid(&mc, &b);
      CHECK_EQ_INT(a.energy, b.energy);
      CHECK(memcmp(a.tour, b.tour, (size_t)t->n * sizeof *a.tour) == 0);
      free(b.tour);
    }
    free(a.tour);
  }
  free(mat);
  tsplib_free(t);
}

static tsp_instance *load(const char *name)
{
  char path[1024], err[256];
  tsp_instance *t = NULL;
  snprintf(path, sizeof path, "%s/tsplib/%s.tsp", test_data_dir(), name);
  if (tsplib_read_file(path, &t, err, sizeof err))
    fprintf(stderr, "%s\n", err);
  return t;
}

/* berlin52 (optimum 7542) within 1 % in 2 s; usually optimal at once. */
static void test_quality_berlin52(void)
{
  tsp_instance *t = load("berlin52");
  perm_params p = { 0 };
  perm_result r;
  CHECK(t != NULL);
  if (!t)
    return;
  perm_model m = { t->n, NULL, t };
  p.seed = 7;
  p.time_limit = 2.0;
  p.has_target = 1;
  p.target_energy = 7542;
  if (solve(&m, &p, NULL, NULL, &r) == 0) {
    check_valid(&m, &r);
    CHECK(r.energy <= 7617);
    printf("berlin52: %lld in %.3f s\n", (long long)r.energy, r.elapsed_s);
    free(r.tour);
  }
  tsplib_free(t);
}

static void test_target_stop(void)
{
  fixture fx;
  perm_params p = { 0 };
  perm_result r;
  fixture_make(&fx, 100, 3, 1);
  p.seed = 1;
  p.time_limit = 30;
  p.has_target = 1;
  p.target_energy = 40000;   /* far above the optimum, below random */
  if (solve(&fx.m, &p, NULL, NULL, &r) == 0) {
    CHECK_EQ_INT(r.stop, PERM_STOP_TARGET);
    CHECK(r.energy <= 40000);
    CHECK(r.elapsed_s < 5);
    free(r.tour);
  }
  fixture_free(&fx);
}

typedef struct cb_state {
  const perm_model *m;
  int calls, stop_at, bad;
  int64_t last_sweep;
} cb_state;

static int on_progress(void *ud, const perm_progress *pg)
{
  cb_state *s = ud;
  s->calls++;
  if (pg->best_energy != perm_tour_length(s->m, pg->best_tour)
      || pg->sweep < s->last_sweep || pg->energy < pg->best_energy
      || pg->proposals != (uint64_t)pg->sweep * (uint64_t)s->m->n
                          * (uint64_t)pg->replicas)
    s->bad++;
  s->last_sweep = pg->sweep;
  return s->calls >= s->stop_at;
}

static void test_callback_stop(void)
{
  fixture fx;
  perm_params p = { 0 };
  perm_result r;
  cb_state st = { 0 };
  fixture_make(&fx, 150, 4, 1);
  st.m = &fx.m;
  st.stop_at = 3;
  p.seed = 5;
  p.time_limit = 20;
  if (solve(&fx.m, &p, on_progress, &st, &r) == 0) {
    CHECK_EQ_INT(r.stop, PERM_STOP_CALLBACK);
    CHECK_EQ_INT(st.calls, 3);
    CHECK_EQ_INT(st.bad, 0);
    CHECK(r.elapsed_s < 2);
    check_valid(&fx.m, &r);
    free(r.tour);
  }
  fixture_free(&fx);
}

static void test_time_stop(void)
{
  fixture fx;
  perm_params p = { 0 };
  perm_result r;
  cb_state st = { 0 };
  fixture_make(&fx, 500, 6, 1);
  st.m = &fx.mc;
  st.stop_at = 1 << 30;
  p.seed = 8;
  p.time_limit = 0.3;
  if (solve(&fx.mc, &p, on_progress, &st, &r) == 0) {
    CHECK_EQ_INT(r.stop, PERM_STOP_TIME);
    CHECK(r.elapsed_s >= 0.3 && r.elapsed_s < 1.5);
    CHECK(st.calls >= 5);
    CHECK_EQ_INT(st.bad, 0);
    check_valid(&fx.mc, &r);
    free(r.tour);
  }
  fixture_free(&fx);
}

static void expect_refused(const perm_model *m, const perm_params *p,
                           const char *needle)
{
  char err[256] = "";
  perm_result r;
  CHECK_EQ_INT(perm_solve_cpu(m, p, NULL, NULL, &r, err, sizeof err), -1);
  CHECK_CONTAINS(err, needle);
  CHECK(r.tour == NULL);
}

static void test_bad_params(void)
{
  fixture fx;
  perm_params p = sweeps_params(1, 10, 0);
  perm_model m;
  fixture_make(&fx, 10, 1, 1);
  m = fx.m;
  m.n = 2;
  expect_refused(&m, &p, "n = 2");
  m.n = PERM_MAX_N + 1;
  expect_refused(&m, &p, "outside");
  m = (perm_model){ 10, NULL, NULL };
  expect_refused(&m, &p, "neither matrix nor instance");
  p.replicas = -1;
  expect_refused(&fx.m, &p, "replicas");
  p.replicas = PERM_MAX_REPLICAS + 1;
  expect_refused(&fx.m, &p, "replicas");
  p = sweeps_params(1, 0, 0);
  expect_refused(&fx.m, &p, "no stopping condition");
  p.time_limit = -1;
  expect_refused(&fx.m, &p, "time_limit");
  p = sweeps_params(1, 10, -2);
  expect_refused(&fx.m, &p, "threads");
  fixture_free(&fx);
}

/* The -ln table and ladder are sane: decreasing table, rising ladder. */
static void test_plan(void)
{
  fixture fx;
  perm_plan pl;
  char err[128];
  fixture_make(&fx, 80, 2, 1);
  CHECK(perm_plan_build(&fx.m, 6, 2, &pl, err, sizeof err) == 0);
  CHECK_EQ_INT(pl.k, PERM_NEIGHBOURS);
  for (int k = 1; k < PERM_NEGLOG_SIZE; k++)
    CHECK(pl.neglog[k] <= pl.neglog[k - 1]);
  for (int s = 1; s < pl.replicas; s++)
    CHECK(pl.tq[s] > pl.tq[s - 1]);
  for (int i = 0; i < 80; i++)
    for (int j = 1; j < pl.k; j++) {
      int32_t d0 = pl.nbd[i * pl.k + j - 1], d1 = pl.nbd[i * pl.k + j];
      CHECK(d0 < d1 || (d0 == d1 && pl.nb[i * pl.k + j - 1]
                                    < pl.nb[i * pl.k + j]));
    }
  perm_plan_free(&pl);
  fixture_free(&fx);
}

int main(void)
{
  test_plan();
  test_valid_tours();
  test_determinism();
  test_seeds_differ();
  test_large_instance();
  test_att_instance();
  test_target_stop();
  test_callback_stop();
  test_time_stop();
  test_bad_params();
  test_quality_berlin52();
  return test_report("test_perm");
}
