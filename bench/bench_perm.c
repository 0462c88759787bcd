/* Benchmark of the `perm` kernel (CPU or Vulkan) on TSPLIB instances.
 *
 * For each instance it runs several seeds under a time budget, stopping a
 * seed early when it reaches the best-known length, and prints one markdown
 * row: gaps to the best known (best / median / worst), how many seeds hit
 * it, the median time to hit it, and move proposals per second.
 *
 *   bench_perm [--time S] [--seeds N] [--threads T] [--replicas R]
 *              [--dist auto|matrix|coords] [--no-target] [--header]
 *              [--solver cpu|gpu] [--data DIR] [--random N [--metric TYPE]]
 *              INSTANCE...
 *
 * --solver gpu runs perm_solve_gpu on the device nvk picks (NEROX_DEVICE);
 * its name goes to stderr.
 *
 * INSTANCE is a TSPLIB name looked up as DIR/tsplib/NAME.tsp (DIR defaults
 * to $NEROX_DATA_DIR or ../shared/data); --random N instead makes a random
 * instance of N cities in a 10^4 square (no best known) with the TSPLIB
 * EDGE_WEIGHT_TYPE given by --metric (EUC_2D by default). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anneal/perm.h"
#include "formats/tsplib.h"
#include "vk/perm_gpu.h"

/* Most seeds per instance. */
#define BENCH_MAX_SEEDS 100
/* Side of the square that random instances fill. */
#define BENCH_RANDOM_SIDE 10000

typedef struct options {
  double time_s;
  int seeds, threads, replicas, target, header;
  const char *dist;
  const char *data;
  const char *metric;
  int random_n;
  int gpu;
} options;

typedef struct outcome {
  double gap[BENCH_MAX_SEEDS];
  double t_hit[BENCH_MAX_SEEDS];
  double mps_sum;
  int hits;
} outcome;

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

/* Best-known length of `name` from DIR/best-known.tsv, or -1. */
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

static tsp_instance *random_instance(int n, const char *metric)
{
  size_t cap = (size_t)n * 40 + 256, len;
  char *text = malloc(cap), err[256];
  tsp_instance *t = NULL;
  uint32_t x = 12345;
  if (!text)
    return NULL;
  len = (size_t)snprintf(text, cap, "NAME: rand%d\nTYPE: TSP\nDIMENSION: %d\n"
                         "EDGE_WEIGHT_TYPE: %s\nNODE_COORD_SECTION\n",
                         n, n, metric);
  for (int i = 0; i < n; i++) {
    int c[2];
    for (int k = 0; k < 2; k++) {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      c[k] = (int)(x % BENCH_RANDOM_SIDE);
    }
    len += (size_t)snprintf(text + len, cap - len, "%d %d %d\n", i + 1,
                            c[0], c[1]);
  }
  len += (size_t)snprintf(text + len, cap - len, "EOF\n");
  if (tsplib_read_string(text, len, "random", &t, err, sizeof err))
    fprintf(stderr, "%s\n", err);
  free(text);
  return t;
}

static int use_matrix(const options *o, const tsp_instance *t)
{
  if (strcmp(o->dist, "matrix") == 0 || !t->coords)
    return 1;
  if (strcmp(o->dist, "coords") == 0)
    return 0;
  return perm_wants_matrix(t);
}

/* Run every seed on one model; fills `out`. */
static int run_seeds(const options *o, const perm_model *m, long long opt,
                     outcome *out)
{
  char err[256];
  memset(out, 0, sizeof *out);
  for (int s = 0; s < o->seeds; s++) {
    perm_params p = { (uint64_t)s + 1, o->replicas, 0, o->time_s,
                      o->threads, o->target && opt > 0, opt };
    perm_result res;
    char dev[256];
    int rc = o->gpu ? perm_solve_gpu(m, &p, NULL, NULL, &res, dev, sizeof dev,
                                     err, sizeof err)
                    : perm_solve_cpu(m, &p, NULL, NULL, &res, err, sizeof err);
    if (o->gpu && s == 0)
      fprintf(stderr, "  device: %s\n", dev);
    if (rc) {
      fprintf(stderr, "%s\n", err);
      return -1;
    }
    out->gap[s] = opt > 0 ? 100.0 * (double)(res.energy - opt) / opt
                          : (double)res.energy;
    out->t_hit[s] = opt > 0 && res.energy <= opt ? res.elapsed_s : INFINITY;
    out->hits += opt > 0 && res.energy <= opt;
    out->mps_sum += (double)res.proposals / res.elapsed_s / 1e6;
    fprintf(stderr, "  seed %d: %lld (%.2f s, %.1f Mprop/s, %s)\n", s + 1,
            (long long)res.energy, res.elapsed_s,
            (double)res.proposals / res.elapsed_s / 1e6,
            res.stop == PERM_STOP_TARGET ? "target" : "time");
    free(res.tour);
  }
  return 0;
}

static void print_row(const options *o, const char *name, int n, int matrix,
                      long long opt, outcome *out)
{
  double worst = 0, best = INFINITY, med, thit;
  char hit[32];
  for (int s = 0; s < o->seeds; s++) {
    best = out->gap[s] < best ? out->gap[s] : best;
    worst = out->gap[s] > worst ? out->gap[s] : worst;
  }
  med = median(out->gap, o->seeds);
  thit = median(out->t_hit, o->seeds);
  if (isinf(thit))
    snprintf(hit, sizeof hit, "> %.0f s", o->time_s);
  else
    snprintf(hit, sizeof hit, "%.2f s", thit);
  if (opt <= 0) {
    printf("| %s | %d | %s | %.0f s | %.0f | %.0f | %.0f | - | - | %.1f |\n",
           name, n, matrix ? "matrix" : "coords", o->time_s, best, med,
           worst, out->mps_sum / o->seeds);
    return;
  }
  printf("| %s | %d | %s | %.0f s | %.2f %% | %.2f %% | %.2f %% | %d/%d "
         "| %s | %.1f |\n", name, n, matrix ? "matrix" : "coords", o->time_s,
         best, med, worst, out->hits, o->seeds, o->target ? hit : "-",
         out->mps_sum / o->seeds);
}

static int bench_one(const options *o, const char *name)
{
  char path[1024], err[256], label[160];
  tsp_instance *t = NULL;
  int32_t *mat = NULL;
  long long opt = -1;
  outcome out;
  int rc, matrix;
  if (o->random_n > 0) {
    t = random_instance(o->random_n, o->metric);
    snprintf(label, sizeof label, "random%d %s", o->random_n, o->metric);
  } else {
    snprintf(path, sizeof path, "%s/tsplib/%s.tsp", o->data, name);
    if (tsplib_read_file(path, &t, err, sizeof err)) {
      fprintf(stderr, "%s\n", err);
      return -1;
    }
    opt = best_known(o->data, name);
    snprintf(label, sizeof label, "%s", name);
  }
  if (!t)
    return -1;
  matrix = use_matrix(o, t);
  if (matrix) {
    mat = malloc((size_t)t->n * (size_t)t->n * sizeof *mat);
    if (!mat) {
      tsplib_free(t);
      return -1;
    }
    tsplib_fill_matrix(t, mat);
  }
  fprintf(stderr, "%s (n = %d, best known %lld)\n", label, t->n, opt);
  perm_model m = { t->n, mat, t };
  rc = run_seeds(o, &m, opt, &out);
  if (rc == 0)
    print_row(o, label, t->n, matrix, opt, &out);
  fflush(stdout);
  free(mat);
  tsplib_free(t);
  return rc;
}

static const char *data_dir(void)
{
  const char *d = getenv("NEROX_DATA_DIR");
  return d && *d ? d : "../shared/data";
}

static int parse(int argc, char **argv, options *o, int *first)
{
  *o = (options){ 1.0, 10, 0, 0, 1, 0, "auto", data_dir(), "EUC_2D", 0,
                  0 };
  int i = 1;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--no-target") == 0) { o->target = 0; continue; }
    if (strcmp(a, "--header") == 0) { o->header = 1; continue; }
    if (!v)
      return -1;
    i++;
    if (strcmp(a, "--time") == 0) o->time_s = atof(v);
    else if (strcmp(a, "--seeds") == 0) o->seeds = atoi(v);
    else if (strcmp(a, "--threads") == 0) o->threads = atoi(v);
    else if (strcmp(a, "--replicas") == 0) o->replicas = atoi(v);
    else if (strcmp(a, "--dist") == 0) o->dist = v;
    else if (strcmp(a, "--data") == 0) o->data = v;
    else if (strcmp(a, "--random") == 0) o->random_n = atoi(v);
    else if (strcmp(a, "--metric") == 0) o->metric = v;
    else if (strcmp(a, "--solver") == 0 && strcmp(v, "cpu") == 0) o->gpu = 0;
    else if (strcmp(a, "--solver") == 0 && strcmp(v, "gpu") == 0) o->gpu = 1;
    else return -1;
  }
  *first = i;
  if (o->seeds < 1 || o->seeds > BENCH_MAX_SEEDS || o->time_s <= 0)
    return -1;
  return (i < argc || o->random_n > 0) ? 0 : -1;
}

int main(int argc, char **argv)
{
  options o;
  int first, rc = 0;
  if (parse(argc, argv, &o, &first)) {
    fprintf(stderr, "usage: bench_perm [--time S] [--seeds N] [--threads T] "
            "[--replicas R] [--dist auto|matrix|coords] [--no-target] "
            "[--header] [--solver cpu|gpu] [--data DIR] "
            "[--random N [--metric TYPE]] INSTANCE...\n");
    return 2;
  }
  if (o.header) {
    printf("| instance | n | distances | budget | best gap | median gap "
           "| worst gap | optimum hit | median time to optimum "
           "| Mproposals/s |\n");
    printf("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
  }
  if (o.random_n > 0)
    return bench_one(&o, NULL) ? 1 : 0;
  for (int i = first; i < argc; i++)
    if (bench_one(&o, argv[i]))
      rc = 1;
  return rc;
}
