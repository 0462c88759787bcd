/* Tests of the CPU `binary` kernel: model checks, energies, determinism
 * across threads and layouts, brute-force optima of small models, the
 * stopping rules, and quality on bqp50.1 and G1 (from $NEROX_DATA_DIR). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anneal/binary.h"
#include "anneal/binary_internal.h"
#include "anneal/rng.h"
#include "engine/model.h"
#include "testutil.h"

/* Largest model solved by brute force. */
#define BRUTE_MAX_N 16

/* Random model: pairs coupled with probability pct %, coefficients in
 * -range..range times mul, from the hash stream `key`. */
static nx_model *random_model(int n, int pct, int range, int64_t mul,
                              uint32_t key, int64_t offset)
{
  char err[256] = "";
  int64_t m = 0, cap = (int64_t)n * (n - 1) / 2 + 1;
  int32_t *a = malloc((size_t)cap * sizeof *a);
  int32_t *b = malloc((size_t)cap * sizeof *b);
  int32_t *j = malloc((size_t)cap * sizeof *j);
  int64_t *h = calloc((size_t)n, sizeof *h);
  uint32_t span = 2u * (uint32_t)range + 1;
  nx_model *q = NULL;
  if (a && b && j && h) {
    for (int x = 0; x < n; x++) {
      h[x] = ((int64_t)rng_mulhi(rng_hash3(key, 1, (uint32_t)x), span)
              - range) * mul;
      for (int y = x + 1; y < n; y++) {
        uint32_t k = (uint32_t)(x * n + y);
        if (rng_mulhi(rng_hash3(key, 2, k), 100) >= (uint32_t)pct)
          continue;
        a[m] = x;
        b[m] = y;
        j[m++] = (int32_t)(((int64_t)rng_mulhi(rng_hash3(key, 3, k), span)
                            - range) * mul);
      }
    }
    q = model_from_couplings(n, h, m, a, b, j, offset, err, sizeof err);
    if (!q)
      fprintf(stderr, "random model: %s\n", err);
  }
  free(a);
  free(b);
  free(j);
  free(h);
  return q;
}

static int64_t brute_min(const binary_model *m)
{
  int32_t x[BRUTE_MAX_N];
  int64_t best = INT64_MAX;
  for (uint32_t s = 0; s < (1u << m->n); s++) {
    int64_t e;
    for (int i = 0; i < m->n; i++)
      x[i] = (int32_t)(s >> i) & 1;
    e = binary_energy(m, x);
    best = e < best ? e : best;
  }
  return best;
}

static anneal_params sweeps_params(uint64_t seed, int64_t sweeps,
                                   int threads)
{
  anneal_params p = { seed, 0, sweeps, 0.0, threads, 0, 0 };
  return p;
}

/* ---- model checks ---------------------------------------------------- */

/* A valid 3-variable model: J01 = 5, J12 = -3. */
typedef struct small {
  int64_t h[3], rs[4];
  int32_t col[4], val[4];
  binary_model m;
} small;

static void small_init(small *s)
{
  static const int64_t h[3] = { -2, 1, 3 }, rs[4] = { 0, 1, 3, 4 };
  static const int32_t col[4] = { 1, 0, 2, 1 }, val[4] = { 5, 5, -3, -3 };
  memcpy(s->h, h, sizeof h);
  memcpy(s->rs, rs, sizeof rs);
  memcpy(s->col, col, sizeof col);
  memcpy(s->val, val, sizeof val);
  s->m = (binary_model){ 3, s->h, s->rs, s->col, s->val, 7 };
}

static void refuses(small *s, const char *needle)
{
  char err[256] = "";
  CHECK_EQ_INT(binary_check_model(&s->m, err, sizeof err), -1);
  CHECK_CONTAINS(err, needle);
  small_init(s);
}

static void test_check_model(void)
{
  char err[256] = "";
  small s;
  small_init(&s);
  CHECK_EQ_INT(binary_check_model(&s.m, err, sizeof err), 0);
  CHECK_EQ_INT(binary_check_model(NULL, err, sizeof err), -1);
  s.m.n = 0;
  refuses(&s, "outside 1..");
  s.m.n = BINARY_MAX_N + 1;
  refuses(&s, "outside 1..");
  s.m.h = NULL;
  refuses(&s, "required");
  s.rs[0] = 1;
  refuses(&s, "row_start[0]");
  s.rs[2] = 0;
  refuses(&s, "decreases");
  s.col[2] = 3;
  refuses(&s, "outside 0..2");
  s.col[2] = 1;
  refuses(&s, "diagonal");
  s.col[2] = 0;           /* row 1: columns 0, 0 */
  refuses(&s, "repeated");
  s.val[3] = 4;           /* J12 = -3, J21 = 4 */
  refuses(&s, "not symmetric");
  s.col[3] = 0;           /* row 2 points at 0, row 0 lacks 2 */
  refuses(&s, "not symmetric");
  s.h[1] = INT64_MIN;
  refuses(&s, "too large");
  s.h[0] = BINARY_MAX_ABS_SUM / 2;
  s.h[2] = BINARY_MAX_ABS_SUM / 2;
  refuses(&s, "too large");
  s.m.offset = INT64_MAX;
  refuses(&s, "offset");
}

static void test_check_params(void)
{
  char err[256] = "";
  anneal_result res;
  small s;
  anneal_params p = { 1, 0, 0, 0.0, 0, 0, 0 };
  small_init(&s);
  CHECK_EQ_INT(binary_solve_cpu(&s.m, &p, NULL, NULL, &res, err,
                                sizeof err), -1);
  CHECK_CONTAINS(err, "no stopping condition");
  CHECK(res.tour == NULL);
  p.sweeps = 10;
  p.replicas = BINARY_MAX_REPLICAS + 1;
  CHECK_EQ_INT(binary_solve_cpu(&s.m, &p, NULL, NULL, &res, err,
                                sizeof err), -1);
  CHECK_CONTAINS(err, "replicas");
  p.replicas = 0;
  p.threads = -1;
  CHECK_EQ_INT(binary_solve_cpu(&s.m, &p, NULL, NULL, &res, err,
                                sizeof err), -1);
  CHECK_CONTAINS(err, "threads");
}

/* ---- energies and optima --------------------------------------------- */

static void test_energy(void)
{
  small s;
  int32_t x0[3] = { 0, 0, 0 }, x1[3] = { 1, 1, 0 }, x2[3] = { 1, 1, 1 };
  small_init(&s);
  CHECK_EQ_INT(binary_energy(&s.m, x0), 7);
  CHECK_EQ_INT(binary_energy(&s.m, x1), 7 - 2 + 1 + 5);
  CHECK_EQ_INT(binary_energy(&s.m, x2), 7 - 2 + 1 + 3 + 5 - 3);
}

static void solve_ok(const binary_model *m, const anneal_params *p,
                     int layout, anneal_result *res)
{
  char err[256] = "";
  int rc = binary_solve_cpu_layout(m, p, layout, NULL, NULL, res, err,
                                   sizeof err);
  CHECK_EQ_INT(rc, 0);
  if (rc)
    fprintf(stderr, "%s\n", err);
}

/* Brute-force optima of random models, also with int64 fields (the same
 * model times 2^26) and an offset. */
static void test_brute_force(void)
{
  for (int t = 0; t < 8; t++) {
    int n = 6 + t, pct = t % 2 ? 100 : 40;
    int64_t mul = t >= 6 ? (int64_t)1 << 26 : 1;
    nx_model *q = random_model(n, pct, 20, mul, 77u + (uint32_t)t,
                               1000 * t);
    anneal_params p = sweeps_params(100 + (uint64_t)t, 300, 2);
    anneal_result res;
    int64_t best;
    CHECK(q != NULL);
    if (!q)
      continue;
    best = brute_min(model_binary(q));
    solve_ok(model_binary(q), &p, BINARY_LAYOUT_AUTO, &res);
    CHECK_EQ_INT(res.energy, best);
    CHECK_EQ_INT(res.energy, binary_energy(model_binary(q), res.tour));
    CHECK_EQ_INT(res.stop, ANNEAL_STOP_SWEEPS);
    CHECK_EQ_INT(res.sweeps, 300);
    CHECK_EQ_INT(res.proposals, 300ull * (uint64_t)n * res.replicas);
    free(res.tour);
    model_release(q);
  }
}

/* ---- determinism ----------------------------------------------------- */

static int same_run(const anneal_result *a, const anneal_result *b, int n)
{
  return a->energy == b->energy && a->tour && b->tour
         && memcmp(a->tour, b->tour, (size_t)n * sizeof *a->tour) == 0;
}

static void test_determinism(void)
{
  static const int layouts[] = {
    BINARY_LAYOUT_SPARSE, BINARY_LAYOUT_DENSE,
    BINARY_LAYOUT_SPARSE | BINARY_LAYOUT_WIDE,
    BINARY_LAYOUT_DENSE | BINARY_LAYOUT_WIDE
  };
  static const int threads[] = { 1, 2, 3, 7 };
  nx_model *q = random_model(150, 8, 50, 1, 5, 0);
  anneal_result ref, res;
  anneal_params p = sweeps_params(42, 57, 1);
  CHECK(q != NULL);
  if (!q)
    return;
  const binary_model *m = model_binary(q);
  p.replicas = 9;
  solve_ok(m, &p, BINARY_LAYOUT_AUTO, &ref);
  CHECK_EQ_INT(ref.energy, binary_energy(m, ref.tour));
  for (int t = 0; t < 4; t++)
    for (int l = 0; l < 4; l++) {
      p.threads = threads[t];
      solve_ok(m, &p, layouts[l], &res);
      CHECK(same_run(&ref, &res, m->n));
      free(res.tour);
    }
  free(ref.tour);
  model_release(q);
}

/* ---- stopping rules -------------------------------------------------- */

typedef struct cb_state {
  pthread_t caller;
  int calls, other_thread, stop_after;
  int64_t last_best;
} cb_state;

static int on_progress(void *ud, const anneal_progress *pg)
{
  cb_state *s = ud;
  s->calls++;
  if (!pthread_equal(s->caller, pthread_self()))
    s->other_thread = 1;
  s->last_best = pg->best_energy;
  return s->calls >= s->stop_after;
}

static void test_stops(void)
{
  char err[256] = "";
  nx_model *q = random_model(14, 50, 30, 1, 11, 0);
  anneal_result res;
  anneal_params p = { 9, 0, 0, 0.05, 2, 0, 0 };
  cb_state cb = { pthread_self(), 0, 0, 3, 0 };
  int64_t best;
  CHECK(q != NULL);
  if (!q)
    return;
  const binary_model *m = model_binary(q);
  best = brute_min(m);
  solve_ok(m, &p, BINARY_LAYOUT_AUTO, &res);
  CHECK_EQ_INT(res.stop, ANNEAL_STOP_TIME);
  CHECK(res.elapsed_s >= 0.05 && res.elapsed_s < 2.0);
  free(res.tour);
  p.time_limit = 0;
  p.has_target = 1;
  p.target_energy = best;
  solve_ok(m, &p, BINARY_LAYOUT_AUTO, &res);
  CHECK_EQ_INT(res.stop, ANNEAL_STOP_TARGET);
  CHECK_EQ_INT(res.energy, best);
  free(res.tour);
  p.has_target = 0;
  p.time_limit = 10.0;
  CHECK_EQ_INT(binary_solve_cpu(m, &p, on_progress, &cb, &res, err,
                                sizeof err), 0);
  CHECK_EQ_INT(res.stop, ANNEAL_STOP_CALLBACK);
  CHECK_EQ_INT(cb.calls, 3);
  CHECK_EQ_INT(cb.other_thread, 0);
  CHECK_EQ_INT(cb.last_best, res.energy);
  CHECK(res.elapsed_s < 5.0);
  free(res.tour);
  model_release(q);
}

/* A model with one variable and no couplings, and replicas < threads. */
static void test_tiny(void)
{
  int64_t h[1] = { -4 }, rs[2] = { 0, 0 };
  binary_model m = { 1, h, rs, NULL, NULL, 2 };
  anneal_params p = sweeps_params(3, 20, 8);
  anneal_result res;
  p.replicas = 3;
  solve_ok(&m, &p, BINARY_LAYOUT_AUTO, &res);
  CHECK_EQ_INT(res.energy, -2);
  CHECK(res.tour && res.tour[0] == 1);
  free(res.tour);
}

/* ---- quality on public instances ------------------------------------ */

/* Instance `which` of an OR-Library bqp file, or a G-set graph (which
 * 0), as a model to minimise; NULL with the reason printed. */
static nx_model *load(const char *path, int which)
{
  char err[256] = "";
  rudy_graph *g = NULL;
  bqp_instance *b = NULL;
  nx_model *m = NULL;
  if (which && bqp_read_file(path, which, &b, NULL, err, sizeof err) == 0)
    m = model_from_bqp(b, err, sizeof err);
  if (!which && rudy_read_file(path, &g, err, sizeof err) == 0)
    m = model_from_maxcut(g, err, sizeof err);
  if (!m)
    fprintf(stderr, "%s\n", err);
  bqp_free(b);
  rudy_free(g);
  return m;
}

static void reaches(const binary_model *m, int64_t target, double budget)
{
  anneal_params p = { 1, 0, 0, budget, 0, 1, target };
  anneal_result res;
  solve_ok(m, &p, BINARY_LAYOUT_AUTO, &res);
  CHECK(res.energy <= target);
  CHECK_EQ_INT(res.energy, binary_energy(m, res.tour));
  if (res.energy > target)
    fprintf(stderr, "reached %lld, target %lld\n", (long long)res.energy,
            (long long)target);
  free(res.tour);
}

static void test_quality(void)
{
  char path[1024];
  nx_model *q;
  snprintf(path, sizeof path, "%s/bqp/bqp50.txt", test_data_dir());
  q = load(path, 1);
  CHECK(q != NULL);
  if (q && model_n(q) == 50)
    reaches(model_binary(q), -2098, 2.0);
  model_release(q);
  snprintf(path, sizeof path, "%s/gset/G1", test_data_dir());
  q = load(path, 0);
  CHECK(q != NULL);
  if (q && model_n(q) == 800)
    reaches(model_binary(q), -11550, 2.0);
  model_release(q);
}

int main(void)
{
  test_check_model();
  test_check_params();
  test_energy();
  test_brute_force();
  test_determinism();
  test_stops();
  test_tiny();
  test_quality();
  return test_report("test_binary");
}
