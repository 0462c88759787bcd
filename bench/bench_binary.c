/* Benchmark of the `binary` kernel on G-set Max-Cut graphs and
 * OR-Library bqp QUBO instances, on the CPU or (--solver gpu) through
 * Vulkan (host/vk/binary_gpu.c; the layout flags are the CPU's only).
 *
 * For each instance it runs several seeds under a time budget, stopping a
 * seed early when it reaches the target (the best known unless --target
 * says otherwise), and prints one markdown row: values reached (cut
 * weight, or the bqp objective to maximise) best / median / worst, how
 * many seeds reached the target, the median time to it (runs stopped
 * by the target), and attempted flips per wall and per CPU second.
 *
 *   bench_binary [--time S] [--seeds N] [--threads T] [--replicas R]
 *                [--layout auto|sparse|dense|wide|dense-wide]
 *                [--solver cpu|gpu] [--target V] [--no-target]
 *                [--header] [--data DIR] INSTANCE...
 *
 * INSTANCE is a G-set name (DIR/gset/NAME), bqpN.k, the k-th instance
 * of DIR/bqp/bqpN.txt, or randN.P: a random QUBO on N variables whose
 * pairs are coupled with probability P percent, coefficients in
 * -100..100 (no best known; for the dense/sparse threshold). DIR
 * defaults to $NEROX_DATA_DIR or ../shared/data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anneal/binary.h"
#include "anneal/binary_internal.h"
#include "anneal/rng.h"
#include "engine/model.h"
#include "vk/binary_gpu.h"
#include "vk/vk.h"

/* Most seeds per instance. */
#define BENCH_MAX_SEEDS 100

typedef struct options {
  double time_s;
  int seeds, threads, replicas, layout, header, no_target, gpu;
  long long target;
  int has_target;
  const char *data;
} options;

/* A G-set graph (bqp == 0) or instance `bqp` of an OR-Library file as a
 * model to minimise; NULL with err filled. */
static nx_model *load_file(const char *path, int bqp, char *err,
                           size_t errlen)
{
  rudy_graph *g = NULL;
  bqp_instance *b = NULL;
  nx_model *m = NULL;
  if (bqp && bqp_read_file(path, bqp, &b, NULL, err, errlen) == 0)
    m = model_from_bqp(b, err, errlen);
  if (!bqp && rudy_read_file(path, &g, err, errlen) == 0)
    m = model_from_maxcut(g, err, errlen);
  bqp_free(b);
  rudy_free(g);
  return m;
}

/* Coefficient in -100..100 from draw k of pair (i, j). */
static int32_t coef(int i, int j, uint32_t k)
{
  return (int32_t)rng_mulhi(rng_hash3((uint32_t)i, (uint32_t)j, k), 201)
         - 100;
}

static nx_model *load_random(int n, int pct, char *err, size_t errlen)
{
  int64_t m = 0, cap = (int64_t)n * (n - 1) / 2 + 1;
  int32_t *a = malloc((size_t)cap * sizeof *a);
  int32_t *b = malloc((size_t)cap * sizeof *b);
  int32_t *j = malloc((size_t)cap * sizeof *j);
  int64_t *h = calloc((size_t)n, sizeof *h);
  nx_model *q = NULL;
  snprintf(err, errlen, "out of memory");
  if (a && b && j && h) {
    for (int x = 0; x < n; x++) {
      h[x] = coef(x, x, 1);
      for (int y = x + 1; y < n; y++)
        if (rng_mulhi(rng_hash3((uint32_t)x, (uint32_t)y, 0), 100)
            < (uint32_t)pct) {
          a[m] = x;
          b[m] = y;
          j[m++] = coef(x, y, 2);
        }
    }
    q = model_from_couplings(n, h, m, a, b, j, 0, err, errlen);
  }
  free(a);
  free(b);
  free(j);
  free(h);
  return q;
}

static nx_model *load(const char *dir, const char *name, char *err,
                      size_t errlen)
{
  char path[1024];
  int size, which;
  if (sscanf(name, "rand%d.%d", &size, &which) == 2) {
    snprintf(err, errlen, "randN.P needs N >= 2 and P in 0..100");
    return size < 2 || which < 0 || which > 100
           ? NULL : load_random(size, which, err, errlen);
  }
  if (sscanf(name, "bqp%d.%d", &size, &which) == 2) {
    snprintf(path, sizeof path, "%s/bqp/bqp%d.txt", dir, size);
    snprintf(err, errlen, "bqpN.k needs k >= 1");
    return which < 1 ? NULL : load_file(path, which, err, errlen);
  }
  snprintf(path, sizeof path, "%s/gset/%s", dir, name);
  return load_file(path, 0, err, errlen);
}

/* Best-known value of `name` from DIR/best-known.tsv, or -1. */
static long long best_known(const char *dir, const char *name)
{
  char path[1024], line[256], inst[128], kind[32];
  long long n, best = -1, v;
  FILE *f;
  snprintf(path, sizeof path, "%s/best-known.tsv", dir);
  f = fopen(path, "r");
  if (!f)
    return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "%127s %31s %lld %lld", inst, kind, &n, &v) == 4
        && strcmp(inst, name) == 0)
      best = v;
  fclose(f);
  return best;
}

/* CPU seconds of the process, all threads. */
static double cpu_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n)
{
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void header(void)
{
  printf("| instance | n | budget s | target | best | median | worst | "
         "hits | median t-hit s | M flips/s | M flips/cpu-s |\n");
  printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
         "---: | ---: |\n");
}

static int solve(const options *o, const binary_model *m,
                 const anneal_params *p, anneal_result *res, char *err,
                 size_t errlen)
{
  char dev[256];
  if (o->gpu)
    return binary_solve_gpu(m, p, NULL, NULL, res, dev, sizeof dev, err,
                            errlen);
  return binary_solve_cpu_layout(m, p, o->layout, NULL, NULL, res, err,
                                 errlen);
}

static int bench_one(const options *o, const char *name)
{
  double val[BENCH_MAX_SEEDS], thit[BENCH_MAX_SEEDS], rate = 0, cpu = 0;
  double flips = 0;
  char err[256], tcol[32] = "-", tmed[32] = "-";
  long long target = o->has_target ? o->target : best_known(o->data, name);
  int hits = 0, nt = 0;
  nx_model *q = load(o->data, name, err, sizeof err);
  if (!q) {
    fprintf(stderr, "bench_binary: cannot read %s: %s\n", name, err);
    return -1;
  }
  const binary_model *m = model_binary(q);
  for (int s = 0; s < o->seeds; s++) {
    anneal_params p = { (uint64_t)s + 1, o->replicas, 0, o->time_s,
                        o->threads, !o->no_target && target >= 0,
                        -target };
    anneal_result res;
    double c0 = cpu_s();
    if (solve(o, m, &p, &res, err, sizeof err)) {
      fprintf(stderr, "bench_binary: %s: %s\n", name, err);
      model_release(q);
      return -1;
    }
    cpu += cpu_s() - c0;
    flips += (double)res.proposals;
    val[s] = (double)-res.energy;
    rate += (double)res.proposals / res.elapsed_s;
    if (target >= 0 && -res.energy >= target)
      hits++;
    if (res.stop == ANNEAL_STOP_TARGET)
      thit[nt++] = res.elapsed_s;
    free(res.tour);
  }
  if (target >= 0)
    snprintf(tcol, sizeof tcol, "%lld", target);
  if (nt > 0)
    snprintf(tmed, sizeof tmed, "%.3f", median(thit, nt));
  qsort(val, (size_t)o->seeds, sizeof *val, cmp_double);
  printf("| %s | %d | %g | %s | %.0f | %.0f | %.0f | %d/%d | %s | %.0f "
         "| %.0f |\n", name, m->n, o->time_s, tcol, val[o->seeds - 1],
         median(val, o->seeds), val[0], hits, o->seeds, tmed,
         rate / o->seeds / 1e6, cpu > 0 ? flips / cpu / 1e6 : 0.0);
  fflush(stdout);
  model_release(q);
  return 0;
}

static int layout_flags(const char *v)
{
  if (!strcmp(v, "dense"))
    return BINARY_LAYOUT_DENSE;
  if (!strcmp(v, "sparse"))
    return BINARY_LAYOUT_SPARSE;
  if (!strcmp(v, "wide"))
    return BINARY_LAYOUT_SPARSE | BINARY_LAYOUT_WIDE;
  if (!strcmp(v, "dense-wide"))
    return BINARY_LAYOUT_DENSE | BINARY_LAYOUT_WIDE;
  return BINARY_LAYOUT_AUTO;
}

static void usage(void)
{
  fprintf(stderr,
          "usage: bench_binary [--time S] [--seeds N] [--threads T]\n"
          "         [--replicas R]\n"
          "         [--layout auto|sparse|dense|wide|dense-wide]\n"
          "         [--solver cpu|gpu] [--target V] [--no-target]\n"
          "         [--header] [--data DIR]\n"
          "         INSTANCE...\n");
}

static int parse(options *o, int argc, char **argv, int *first)
{
  int i;
  for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--header")) {
      o->header = 1;
      continue;
    }
    if (!strcmp(a, "--no-target")) {
      o->no_target = 1;
      continue;
    }
    if (!v)
      return -1;
    i++;
    if (!strcmp(a, "--time"))
      o->time_s = atof(v);
    else if (!strcmp(a, "--seeds"))
      o->seeds = atoi(v);
    else if (!strcmp(a, "--threads"))
      o->threads = atoi(v);
    else if (!strcmp(a, "--replicas"))
      o->replicas = atoi(v);
    else if (!strcmp(a, "--target"))
      o->target = atoll(v), o->has_target = 1;
    else if (!strcmp(a, "--data"))
      o->data = v;
    else if (!strcmp(a, "--solver") && (!strcmp(v, "gpu")
                                         || !strcmp(v, "cpu")))
      o->gpu = !strcmp(v, "gpu");
    else if (!strcmp(a, "--layout"))
      o->layout = layout_flags(v);
    else
      return -1;
  }
  *first = i;
  if (o->seeds < 1 || o->seeds > BENCH_MAX_SEEDS || !(o->time_s > 0))
    return -1;
  return 0;
}

int main(int argc, char **argv)
{
  const char *env = getenv("NEROX_DATA_DIR");
  options o = { 1.0, 10, 0, 0, BINARY_LAYOUT_AUTO, 0, 0, 0, 0, 0,
                env && *env ? env : "../shared/data" };
  int first, rc = 0;
  if (argc > 1 && !strcmp(argv[1], "--help")) {
    usage();
    return 0;
  }
  if (parse(&o, argc, argv, &first) || first >= argc) {
    usage();
    return 2;
  }
  if (o.header)
    header();
  for (int i = first; i < argc; i++)
    if (bench_one(&o, argv[i]))
      rc = 1;
  if (o.gpu)
    nvk_shutdown();
  return rc;
}
