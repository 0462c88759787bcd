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
  model_kind kind;
  char name[128];
  char hash[17];
  int32_t *matrix;          /* owned; NULL for large coordinate models */
  tsp_instance *instance;   /* owned; NULL for matrix models */
  perm_model perm;
  binary_model bin;         /* binary models: arrays owned below */
  int64_t *h, *row_start;
  int32_t *col, *val;
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

/* A model over a TSPLIB instance just read from `label`; takes t. */
static nx_model *model_from_instance(tsp_instance *t, const char *label,
                                     char *err, size_t errlen)
{
  if (t->n > PERM_MAX_N) {
    snprintf(err, errlen, "%s:0: %d cities, more than the %d a tour may "
             "have", label, t->n, PERM_MAX_N);
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
  LOG_D("model", "loaded %s: n=%d hash=%s", label, t->n, m->hash);
  return m;
}

nx_model *model_from_tsplib(const char *path, char *err, size_t errlen)
{
  tsp_instance *t = NULL;
  if (tsplib_read_file(path, &t, err, errlen) != 0)
    return NULL;
  return model_from_instance(t, path, err, errlen);
}

nx_model *model_from_tsplib_text(const char *text, size_t len,
                                 const char *label, char *err,
                                 size_t errlen)
{
  tsp_instance *t = NULL;
  if (tsplib_read_string(text, len, label, &t, err, errlen) != 0)
    return NULL;
  return model_from_instance(t, label, err, errlen);
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

/* ---- binary models ------------------------------------------------ */

static int model_cmp_col(const void *a, const void *b)
{
  const int32_t *x = a, *y = b;
  return (x[0] > y[0]) - (x[0] < y[0]);
}

/* Sort row i by column (with its values) and refuse a repeated pair. */
static int model_sort_row(nx_model *m, int i, int32_t *pairs, char *err,
                          size_t errlen)
{
  int64_t lo = m->row_start[i], len = m->row_start[i + 1] - lo;
  for (int64_t k = 0; k < len; k++) {
    pairs[2 * k] = m->col[lo + k];
    pairs[2 * k + 1] = m->val[lo + k];
  }
  qsort(pairs, (size_t)len, 2 * sizeof(int32_t), model_cmp_col);
  for (int64_t k = 0; k < len; k++) {
    if (k > 0 && pairs[2 * k] == pairs[2 * k - 2]) {
      snprintf(err, errlen, "couplings: the pair (%d, %d) is listed twice",
               i, pairs[2 * k]);
      return -1;
    }
    m->col[lo + k] = pairs[2 * k];
    m->val[lo + k] = pairs[2 * k + 1];
  }
  return 0;
}

/* Fill the CSR arrays from the coupling list, both directions. */
static int model_fill_csr(nx_model *m, int64_t cnt, const int32_t *ei,
                          const int32_t *ej, const int32_t *w, char *err,
                          size_t errlen)
{
  int n = m->bin.n;
  int64_t *next = calloc((size_t)n, sizeof *next);
  int64_t maxdeg = 0;
  if (!next) {
    snprintf(err, errlen, "out of memory for %lld couplings",
             (long long)cnt);
    return -1;
  }
  for (int64_t k = 0; k < cnt; k++) {
    m->row_start[ei[k] + 1]++;
    m->row_start[ej[k] + 1]++;
  }
  for (int i = 0; i < n; i++) {
    int64_t deg = m->row_start[i + 1];
    maxdeg = deg > maxdeg ? deg : maxdeg;
    m->row_start[i + 1] += m->row_start[i];
    next[i] = m->row_start[i];
  }
  for (int64_t k = 0; k < cnt; k++) {
    int64_t a = next[ei[k]]++, b = next[ej[k]]++;
    m->col[a] = ej[k];
    m->val[a] = w[k];
    m->col[b] = ei[k];
    m->val[b] = w[k];
  }
  free(next);
  int32_t *pairs = malloc((size_t)(maxdeg > 0 ? maxdeg : 1) * 2 *
                          sizeof(int32_t));
  int rc = pairs ? 0 : -1;
  if (!pairs)
    snprintf(err, errlen, "out of memory sorting couplings");
  for (int i = 0; rc == 0 && i < n; i++)
    rc = model_sort_row(m, i, pairs, err, errlen);
  free(pairs);
  return rc;
}

/* Check the coupling list's ids before anything is allocated for it. */
static int model_check_pairs(int n, int64_t cnt, const int32_t *ei,
                             const int32_t *ej, char *err, size_t errlen)
{
  for (int64_t k = 0; k < cnt; k++) {
    if (ei[k] < 0 || ei[k] >= n || ej[k] < 0 || ej[k] >= n) {
      snprintf(err, errlen, "couplings[%lld]: variable out of range "
               "0..%d", (long long)k + 1, n - 1);
      return -1;
    }
    if (ei[k] == ej[k]) {
      snprintf(err, errlen, "couplings[%lld]: (%d, %d) couples a variable "
               "with itself; that is a linear term", (long long)k + 1,
               ei[k], ej[k]);
      return -1;
    }
  }
  return 0;
}

static void model_hash_binary(nx_model *m)
{
  const binary_model *b = &m->bin;
  uint64_t h = 0xcbf29ce484222325ULL;
  int32_t n = b->n;
  int64_t nnz = b->row_start[n];
  h = model_fnv(h, "binary", 6);
  h = model_fnv(h, &n, sizeof n);
  h = model_fnv(h, &b->offset, sizeof b->offset);
  h = model_fnv(h, b->h, (size_t)n * sizeof *b->h);
  h = model_fnv(h, b->row_start, ((size_t)n + 1) * sizeof *b->row_start);
  h = model_fnv(h, b->col, (size_t)nnz * sizeof *b->col);
  h = model_fnv(h, b->val, (size_t)nnz * sizeof *b->val);
  snprintf(m->hash, sizeof m->hash, "%016llx", (unsigned long long)h);
}

nx_model *model_from_couplings(int n, const int64_t *h, int64_t cnt,
                               const int32_t *ei, const int32_t *ej,
                               const int32_t *w, int64_t offset,
                               char *err, size_t errlen)
{
  if (n < 1 || n > BINARY_MAX_N || cnt < 0 ||
      cnt > (int64_t)n * (n - 1) / 2) {
    snprintf(err, errlen, "a model needs 1 to %d variables and at most "
             "n(n-1)/2 couplings, got n = %d and %lld", BINARY_MAX_N, n,
             (long long)cnt);
    return NULL;
  }
  if (model_check_pairs(n, cnt, ei, ej, err, errlen) != 0)
    return NULL;
  nx_model *m = model_alloc(err, errlen);
  if (!m)
    return NULL;
  m->kind = MODEL_BINARY;
  m->h = malloc((size_t)n * sizeof *m->h);
  m->row_start = calloc((size_t)n + 1, sizeof *m->row_start);
  m->col = malloc((size_t)(cnt > 0 ? 2 * cnt : 1) * sizeof *m->col);
  m->val = malloc((size_t)(cnt > 0 ? 2 * cnt : 1) * sizeof *m->val);
  m->bin = (binary_model){ .n = n, .h = m->h, .row_start = m->row_start,
                           .col = m->col, .val = m->val, .offset = offset };
  if (!m->h || !m->row_start || !m->col || !m->val) {
    snprintf(err, errlen, "out of memory for a model of %d variables", n);
    model_release(m);
    return NULL;
  }
  memcpy(m->h, h, (size_t)n * sizeof *m->h);
  if (model_fill_csr(m, cnt, ei, ej, w, err, errlen) != 0 ||
      binary_check_model(&m->bin, err, errlen) != 0) {
    model_release(m);
    return NULL;
  }
  model_hash_binary(m);
  return m;
}

/* A coupling c (a double holding an integer) times `mul`, as an int32. */
static int model_coupling(double c, int mul, int64_t k, const char *what,
                          int32_t *out, char *err, size_t errlen)
{
  double v = c * mul;
  if (v < INT32_MIN || v > INT32_MAX) {
    snprintf(err, errlen, "%s %lld: coupling %.0f does not fit an int32",
             what, (long long)k + 1, v);
    return -1;
  }
  *out = (int32_t)v;
  return 0;
}

nx_model *model_from_maxcut(const rudy_graph *g, char *err, size_t errlen)
{
  if (!g->integral) {
    snprintf(err, errlen, "max-cut: the weights must be integers");
    return NULL;
  }
  int64_t *h = calloc((size_t)g->n, sizeof *h);
  int32_t *w = malloc(((size_t)g->m + 1) * sizeof *w);
  nx_model *m = NULL;
  if (!h || !w) {
    snprintf(err, errlen, "out of memory for a graph of %lld edges",
             (long long)g->m);
    goto out;
  }
  for (int64_t k = 0; k < g->m; k++) {
    if (model_coupling(g->w[k], 2, k, "edge", &w[k], err, errlen) != 0)
      goto out;
    h[g->u[k]] -= (int64_t)g->w[k];
    h[g->v[k]] -= (int64_t)g->w[k];
  }
  m = model_from_couplings(g->n, h, g->m, g->u, g->v, w, 0, err, errlen);
out:
  free(h);
  free(w);
  return m;
}

nx_model *model_from_bqp(const bqp_instance *b, char *err, size_t errlen)
{
  if (!b->integral) {
    snprintf(err, errlen, "bqp: the values must be integers");
    return NULL;
  }
  size_t cap = (size_t)b->nnz + 1;
  int64_t *h = calloc((size_t)b->n, sizeof *h), cnt = 0;
  int32_t *ei = malloc(cap * sizeof *ei), *ej = malloc(cap * sizeof *ej);
  int32_t *w = malloc(cap * sizeof *w);
  nx_model *m = NULL;
  if (!h || !ei || !ej || !w) {
    snprintf(err, errlen, "out of memory for a bqp of %lld entries",
             (long long)b->nnz);
    goto out;
  }
  for (int64_t k = 0; k < b->nnz; k++) {
    if (b->i[k] == b->j[k]) {
      h[b->i[k]] -= (int64_t)b->q[k];
      continue;
    }
    if (model_coupling(b->q[k], -2, k, "entry", &w[cnt], err, errlen))
      goto out;
    ei[cnt] = b->i[k];
    ej[cnt++] = b->j[k];
  }
  m = model_from_couplings(b->n, h, cnt, ei, ej, w, 0, err, errlen);
out:
  free(h);
  free(ei);
  free(ej);
  free(w);
  return m;
}

/* ---- common ---------------------------------------------------------- */

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
  free(m->h);
  free(m->row_start);
  free(m->col);
  free(m->val);
  free(m);
}

int model_n(const nx_model *m)
{
  return m->kind == MODEL_BINARY ? m->bin.n : m->perm.n;
}

model_kind model_get_kind(const nx_model *m) { return m->kind; }

const char *model_kind_name(const nx_model *m)
{
  return m->kind == MODEL_BINARY ? "binary" : "perm";
}

const binary_model *model_binary(const nx_model *m) { return &m->bin; }
const char *model_name(const nx_model *m) { return m->name; }
const char *model_hash(const nx_model *m) { return m->hash; }
const perm_model *model_perm(const nx_model *m) { return &m->perm; }

int32_t model_dist(const nx_model *m, int i, int j)
{
  if (m->perm.matrix)
    return m->perm.matrix[(size_t)i * (size_t)m->perm.n + (size_t)j];
  return tsplib_dist(m->instance, i, j);
}
