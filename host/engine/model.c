/* Problem models for the engine (see model.h). */
#include "engine/model.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

struct nx_model {
  atomic_int refs;
  char name[128];
  char hash[17];
  int32_t *matrix;          /* owned; NULL for large coordinate models */
  tsp_instance *instance;   /* owned; NULL for matrix models */
  perm_model perm;
};

/* FNV-1a, 64 bits, over the canonical model bytes. */
static uint64_t model_fnv(uint64_t h, const void *data, size_t len)
{
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

/* The hash covers the distances the kernel sees, so one instance given as
 * a file, a matrix or coordinates hashes alike when its distances agree. */
static void model_compute_hash(nx_model *m)
{
  uint64_t h = 0xcbf29ce484222325ULL;
  int32_t n = m->perm.n;
  h = model_fnv(h, "perm", 4);
  h = model_fnv(h, &n, sizeof n);
  if (m->matrix) {
    h = model_fnv(h, m->matrix, (size_t)n * (size_t)n * sizeof(int32_t));
  } else {
    const tsp_instance *t = m->instance;
    int32_t metric = (int32_t)t->metric;
    h = model_fnv(h, &metric, sizeof metric);
    h = model_fnv(h, t->coords, (size_t)n * (size_t)t->dims * sizeof(double));
  }
  snprintf(m->hash, sizeof m->hash, "%016llx", (unsigned long long)h);
}

static nx_model *model_alloc(char *err, size_t errlen)
{
  nx_model *m = calloc(1, sizeof *m);
  if (!m) {
    snprintf(err, errlen, "out of memory for a model");
    return NULL;
  }
  atomic_init(&m->refs, 1);
  return m;
}

/* Build the full matrix when it is small enough to pay off. */
static int model_attach_instance(nx_model *m, tsp_instance *t, char *err,
                                 size_t errlen)
{
  m->instance = t;
  m->perm.n = t->n;
  m->perm.instance = t;
  if (t->matrix) {
    m->perm.matrix = t->matrix;
  } else if (perm_wants_matrix(t)) {
    size_t cells = (size_t)t->n * (size_t)t->n;
    m->matrix = malloc(cells * sizeof(int32_t));
    if (!m->matrix) {
      snprintf(err, errlen, "out of memory for a %d x %d distance matrix",
               t->n, t->n);
      return -1;
    }
    tsplib_fill_matrix(t, m->matrix);
    m->perm.matrix = m->matrix;
  }
  snprintf(m->name, sizeof m->name, "%s", t->name);
  return 0;
}

/* Explicit TSPLIB matrices hash through the matrix path too. */
static void model_hash_any(nx_model *m)
{
  int32_t *saved = m->matrix;
  if (!m->matrix && m->instance && m->instance->matrix)
    m->matrix = m->instance->matrix;
  model_compute_hash(m);
  m->matrix = saved;
}

nx_model *model_from_tsplib(const char *path, char *err, size_t errlen)
{
  tsp_instance *t = NULL;
  if (tsplib_read_file(path, &t, err, errlen) != 0)
    return NULL;
  if (t->n > PERM_MAX_N) {
    snprintf(err, errlen, "%s:0: %d cities, more than the %d a tour may "
             "have", path, t->n, PERM_MAX_N);
    tsplib_free(t);
    return NULL;
  }
  nx_model *m = model_alloc(err, errlen);
  if (!m) {
    tsplib_free(t);
    return NULL;
  }
  if (model_attach_instance(m, t, err, errlen) != 0) {
    model_release(m);
    return NULL;
  }
  model_hash_any(m);
  LOG_D("model", "loaded %s: n=%d hash=%s", path, t->n, m->hash);
  return m;
}

nx_model *model_from_matrix(int n, int32_t *matrix, char *err,
                            size_t errlen)
{
  if (n < 3 || n > PERM_MAX_N) {
    snprintf(err, errlen, "a tour needs 3 to %d cities, got %d",
             PERM_MAX_N, n);
    free(matrix);
    return NULL;
  }
  nx_model *m = model_alloc(err, errlen);
  if (!m) {
    free(matrix);
    return NULL;
  }
  m->matrix = matrix;
  m->perm.n = n;
  m->perm.matrix = matrix;
  model_compute_hash(m);
  return m;
}

nx_model *model_from_coords(int n, const double *xy, double scale,
                            char *err, size_t errlen)
{
  if (n < 3 || n > PERM_MAX_N) {
    snprintf(err, errlen, "a tour needs 3 to %d cities, got %d",
             PERM_MAX_N, n);
    return NULL;
  }
  tsp_instance *t = calloc(1, sizeof *t);
  double *coords = malloc((size_t)n * 2 * sizeof(double));
  nx_model *m = model_alloc(err, errlen);
  if (!t || !coords || !m) {
    snprintf(err, errlen, "out of memory for %d coordinates", n);
    free(t);
    free(coords);
    free(m);
    return NULL;
  }
  /* nint(sqrt((s dx)^2 + (s dy)^2)) is TSPLIB's EUC_2D on scaled points. */
  for (int i = 0; i < 2 * n; i++)
    coords[i] = xy[i] * scale;
  t->n = n;
  t->dims = 2;
  t->metric = TSP_METRIC_EUC_2D;
  t->coords = coords;
  if (model_attach_instance(m, t, err, errlen) != 0) {
    model_release(m);
    return NULL;
  }
  model_hash_any(m);
  return m;
}

void model_retain(nx_model *m)
{
  atomic_fetch_add(&m->refs, 1);
}

void model_release(nx_model *m)
{
  if (!m || atomic_fetch_sub(&m->refs, 1) != 1)
    return;
  free(m->matrix);
  tsplib_free(m->instance);
  free(m);
}

int model_n(const nx_model *m) { return m->perm.n; }
const char *model_name(const nx_model *m) { return m->name; }
const char *model_hash(const nx_model *m) { return m->hash; }
const perm_model *model_perm(const nx_model *m) { return &m->perm; }

int32_t model_dist(const nx_model *m, int i, int j)
{
  if (m->perm.matrix)
    return m->perm.matrix[(size_t)i * (size_t)m->perm.n + (size_t)j];
  return tsplib_dist(m->instance, i, j);
}
