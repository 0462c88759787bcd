/* Model unit tests: binary models from coupling lists (CSR building,
 * refusals, hashes), from Max-Cut graphs and bqp instances, and a binary
 * job through the engine. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "testutil.h"

static nx_model *triangle(const int32_t *w, char *err, size_t errlen)
{
  int64_t h[3] = { 1, -2, 0 };
  int32_t ei[3] = { 0, 1, 2 }, ej[3] = { 1, 2, 0 };
  return model_from_couplings(3, h, 3, ei, ej, w, 5, err, errlen);
}

static void test_energy(void)
{
  char err[256] = "";
  int32_t w[3] = { 4, -3, 7 };
  nx_model *m = triangle(w, err, sizeof err);
  CHECK(m != NULL);
  if (!m) {
    fprintf(stderr, "%s\n", err);
    return;
  }
  CHECK_EQ_INT(model_get_kind(m), MODEL_BINARY);
  CHECK_EQ_INT(model_n(m), 3);
  const binary_model *b = model_binary(m);
  CHECK_EQ_INT(b->row_start[3], 6);   /* each pair stored both ways */
  int32_t all[3] = { 1, 1, 1 }, none[3] = { 0, 0, 0 }, one[3] = { 1, 0, 1 };
  CHECK_EQ_INT(binary_energy(b, none), 5);
  CHECK_EQ_INT(binary_energy(b, all), 5 + 1 - 2 + 4 - 3 + 7);
  CHECK_EQ_INT(binary_energy(b, one), 5 + 1 + 7);
  /* The same couplings listed in another order hash alike. */
  int64_t h[3] = { 1, -2, 0 };
  int32_t ei[3] = { 2, 0, 2 }, ej[3] = { 0, 1, 1 }, w2[3] = { 7, 4, -3 };
  nx_model *m2 = model_from_couplings(3, h, 3, ei, ej, w2, 5, err,
                                      sizeof err);
  CHECK(m2 && strcmp(model_hash(m), model_hash(m2)) == 0);
  model_release(m2);
  model_release(m);
}

static void test_refusals(void)
{
  char err[256] = "";
  int64_t h[3] = { 0, 0, 0 };
  int32_t w[2] = { 1, 1 };
  int32_t dup_i[2] = { 0, 1 }, dup_j[2] = { 1, 0 };
  CHECK(!model_from_couplings(3, h, 2, dup_i, dup_j, w, 0, err, sizeof err));
  CHECK_CONTAINS(err, "listed twice");
  int32_t self_i[1] = { 2 }, self_j[1] = { 2 };
  CHECK(!model_from_couplings(3, h, 1, self_i, self_j, w, 0, err,
                              sizeof err));
  CHECK_CONTAINS(err, "itself");
  int32_t out_i[1] = { 0 }, out_j[1] = { 3 };
  CHECK(!model_from_couplings(3, h, 1, out_i, out_j, w, 0, err, sizeof err));
  CHECK_CONTAINS(err, "out of range");
  CHECK(!model_from_couplings(0, h, 0, NULL, NULL, NULL, 0, err,
                              sizeof err));
  CHECK_CONTAINS(err, "variables");
}

static rudy_graph *graph(const char *text)
{
  char err[256] = "";
  rudy_graph *g = NULL;
  if (rudy_read_string(text, strlen(text), "graph", &g, err, sizeof err))
    fprintf(stderr, "%s\n", err);
  return g;
}

/* Max-Cut: energy = -cut for every assignment of a small graph. */
static void test_maxcut(void)
{
  static const char text[] = "4 4\n1 2 1\n2 3 2\n1 3 -1\n3 4 5\n";
  char err[256] = "";
  rudy_graph *g = graph(text);
  nx_model *m = g ? model_from_maxcut(g, err, sizeof err) : NULL;
  CHECK(m != NULL);
  if (!m) {
    fprintf(stderr, "%s\n", err);
    rudy_free(g);
    return;
  }
  CHECK_EQ_INT(model_n(m), 4);
  const binary_model *b = model_binary(m);
  int32_t x[4] = { 0, 1, 0, 1 };   /* cut: 1 + 2 + 5 */
  CHECK_EQ_INT(binary_energy(b, x), -8);
  for (int s = 0; s < 16; s++) {
    int64_t cut = 0;
    for (int i = 0; i < 4; i++)
      x[i] = (s >> i) & 1;
    for (int64_t k = 0; k < g->m; k++)
      if (x[g->u[k]] != x[g->v[k]])
        cut += (int64_t)g->w[k];
    CHECK_EQ_INT(binary_energy(b, x), -cut);
  }
  model_release(m);
  rudy_free(g);
  g = graph("2 1\n1 2 1.5\n");
  CHECK(g && !model_from_maxcut(g, err, sizeof err));
  CHECK_CONTAINS(err, "integers");
  rudy_free(g);
  g = graph("2 1\n1 2 2147483647\n");
  CHECK(g && !model_from_maxcut(g, err, sizeof err));
  CHECK_CONTAINS(err, "int32");
  rudy_free(g);
}

static bqp_instance *instance(const char *text)
{
  char err[256] = "";
  bqp_instance *b = NULL;
  if (bqp_read_string(text, strlen(text), "bqp", 1, &b, NULL, err,
                      sizeof err))
    fprintf(stderr, "%s\n", err);
  return b;
}

/* bqp: energy = -f(x) for every assignment of a small instance. */
static void test_bqp(void)
{
  static const char text[] =
    "1\n3 4\n1 1 5\n1 2 -3\n3 2 4\n3 3 -2\n";
  char err[256] = "";
  bqp_instance *q = instance(text);
  nx_model *m = q ? model_from_bqp(q, err, sizeof err) : NULL;
  CHECK(m != NULL);
  if (!m) {
    fprintf(stderr, "%s\n", err);
    bqp_free(q);
    return;
  }
  CHECK_EQ_INT(model_n(m), 3);
  const binary_model *b = model_binary(m);
  CHECK_EQ_INT(b->row_start[3], 4);
  int32_t x[3] = { 1, 1, 1 };   /* f = 5 - 2 + 2 (-3 + 4) */
  CHECK_EQ_INT(binary_energy(b, x), -5);
  for (int s = 0; s < 8; s++) {
    for (int i = 0; i < 3; i++)
      x[i] = (s >> i) & 1;
    CHECK_EQ_INT(binary_energy(b, x), -(int64_t)bqp_objective(q, x));
  }
  model_release(m);
  bqp_free(q);
  q = instance("1\n2 1\n1 2 0.5\n");
  CHECK(q && !model_from_bqp(q, err, sizeof err));
  CHECK_CONTAINS(err, "integers");
  bqp_free(q);
  q = instance("1\n2 1\n1 2 -2147483647\n");
  CHECK(q && !model_from_bqp(q, err, sizeof err));
  CHECK_CONTAINS(err, "int32");
  bqp_free(q);
}

/* The same job on the gpu: the same assignment and energy as `cpu`. */
static void test_binary_gpu_job(nx_model *m, job_params *p,
                                const job_result *cpu)
{
  char err[256] = "";
  job *g = NULL;
  job_result r;
  p->solver = JOB_SOLVER_GPU;
  CHECK_EQ_INT(engine_submit(m, p, &g, err, sizeof err), 0);
  if (!g) {
    fprintf(stderr, "gpu job: %s\n", err);
    return;
  }
  CHECK_EQ_INT(job_wait(g, 30.0), 1);
  CHECK_EQ_INT(job_get_result(g, &r), 0);
  CHECK_EQ_INT(r.state, JOB_SUCCEEDED);
  CHECK(r.solver && strcmp(r.solver, "gpu") == 0);
  CHECK_EQ_INT(r.energy, cpu->energy);
  CHECK_EQ_INT(r.n, cpu->n);
  CHECK(r.tour && cpu->tour
        && memcmp(r.tour, cpu->tour, (size_t)cpu->n * sizeof *r.tour) == 0);
  job_release(g);
}

/* A ring with antiferromagnetic couplings: the optimum alternates. */
static void test_binary_job(void)
{
  enum { N = 40 };
  int64_t h[N];
  int32_t ei[N], ej[N], w[N];
  for (int i = 0; i < N; i++) {
    h[i] = -1;
    ei[i] = i;
    ej[i] = (i + 1) % N;
    w[i] = 2;
  }
  char err[256] = "";
  nx_model *m = model_from_couplings(N, h, N, ei, ej, w, 0, err, sizeof err);
  CHECK(m != NULL);
  if (!m)
    return;
  job_params p = { .seed = 4, .sweeps = 500, .solver = JOB_SOLVER_AUTO };
  job *j = NULL;
  CHECK_EQ_INT(engine_submit(m, &p, &j, err, sizeof err), 0);
  if (!j) {
    model_release(m);
    return;
  }
  CHECK_EQ_INT(job_wait(j, 30.0), 1);
  job_result r;
  CHECK_EQ_INT(job_get_result(j, &r), 0);
  CHECK_EQ_INT(r.state, JOB_SUCCEEDED);
  CHECK_EQ_INT(r.energy, -N / 2);
  CHECK_EQ_INT(r.energy, binary_energy(model_binary(m), r.tour));
  CHECK(r.solver_reason != NULL);
  /* The gpu backend gives the same assignment (unless skipped). */
  const char *skip = getenv("NEROX_SKIP_VULKAN");
  if (!skip || strcmp(skip, "1") != 0)
    test_binary_gpu_job(m, &p, &r);
  job_release(j);
  model_release(m);
}

int main(void)
{
  test_energy();
  test_refusals();
  test_maxcut();
  test_bqp();
  test_binary_job();
  engine_shutdown();
  return test_report("test_model");
}
