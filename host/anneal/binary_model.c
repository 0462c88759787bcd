/* The `binary` kernel's model side: checks, energies and the plan that
 * both backends anneal with (binary_internal.h describes it). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anneal/binary.h"
#include "anneal/binary_internal.h"
#include "anneal/rng.h"

static int fail(char *err, size_t errlen, const char *msg)
{
  if (err && errlen)
    snprintf(err, errlen, "binary: %s", msg);
  return -1;
}

/* ---- model checks ---------------------------------------------------- */

static int check_shape(const binary_model *m, char *err, size_t errlen)
{
  char msg[160];
  if (!m)
    return fail(err, errlen, "a model is required");
  if (m->n < 1 || m->n > BINARY_MAX_N) {
    snprintf(msg, sizeof msg, "n = %d is outside 1..%d", m->n,
             BINARY_MAX_N);
    return fail(err, errlen, msg);
  }
  if (!m->h || !m->row_start)
    return fail(err, errlen, "h and row_start are required");
  if (m->row_start[0] != 0)
    return fail(err, errlen, "row_start[0] must be 0");
  for (int i = 0; i < m->n; i++)
    if (m->row_start[i + 1] < m->row_start[i]) {
      snprintf(msg, sizeof msg, "row_start decreases at row %d", i);
      return fail(err, errlen, msg);
    }
  if (m->row_start[m->n] > 0 && (!m->col || !m->val))
    return fail(err, errlen, "col and val are required when nnz > 0");
  return 0;
}

/* Columns in range, off the diagonal, not repeated (stamp: n scratch). */
static int check_columns(const binary_model *m, int32_t *stamp, char *err,
                         size_t errlen)
{
  char msg[160];
  for (int i = 0; i < m->n; i++)
    stamp[i] = -1;
  for (int i = 0; i < m->n; i++)
    for (int64_t k = m->row_start[i]; k < m->row_start[i + 1]; k++) {
      int32_t j = m->col[k];
      if (j < 0 || j >= m->n)
        snprintf(msg, sizeof msg, "row %d: column %d is outside 0..%d", i,
                 (int)j, m->n - 1);
      else if (j == i)
        snprintf(msg, sizeof msg, "row %d: diagonal entry (a linear "
                 "term belongs in h)", i);
      else if (stamp[j] == i)
        snprintf(msg, sizeof msg, "row %d: column %d repeated", i, (int)j);
      else {
        stamp[j] = i;
        continue;
      }
      return fail(err, errlen, msg);
    }
  return 0;
}

/* Row i of the transpose: every (j, J_ji) with j ascending. */
typedef struct transpose {
  int64_t *start;
  int32_t *col, *val;
} transpose;

static int transpose_build(const binary_model *m, transpose *t)
{
  int n = m->n;
  int64_t nnz = m->row_start[n];
  t->start = calloc((size_t)n + 2, sizeof *t->start);
  t->col = malloc((size_t)(nnz > 0 ? nnz : 1) * sizeof *t->col);
  t->val = malloc((size_t)(nnz > 0 ? nnz : 1) * sizeof *t->val);
  if (!t->start || !t->col || !t->val)
    return -1;
  for (int64_t k = 0; k < nnz; k++)
    t->start[m->col[k] + 2]++;
  for (int i = 0; i < n; i++)
    t->start[i + 2] += t->start[i + 1];
  for (int i = 0; i < n; i++)
    for (int64_t k = m->row_start[i]; k < m->row_start[i + 1]; k++) {
      int64_t at = t->start[m->col[k] + 1]++;
      t->col[at] = i;
      t->val[at] = m->val[k];
    }
  return 0;
}

/* Every row equals its transposed row as a set of (column, value): rows
 * have no repeats, so equal lengths and every transposed entry found in
 * the row suffice. */
static int check_symmetry(const binary_model *m, int32_t *stamp,
                          int32_t *sval, char *err, size_t errlen)
{
  transpose t = { 0 };
  char msg[160];
  int rc = 0;
  if (transpose_build(m, &t)) {
    rc = fail(err, errlen, "out of memory (symmetry check)");
    goto out;
  }
  for (int i = 0; i < m->n; i++)
    stamp[i] = -1;
  for (int i = 0; i < m->n && rc == 0; i++) {
    int64_t a = m->row_start[i], b = m->row_start[i + 1];
    for (int64_t k = a; k < b; k++) {
      stamp[m->col[k]] = i;
      sval[m->col[k]] = m->val[k];
    }
    for (int64_t k = t.start[i]; k < t.start[i + 1] && rc == 0; k++) {
      int32_t j = t.col[k];
      if (stamp[j] != i || sval[j] != t.val[k]) {
        snprintf(msg, sizeof msg, "not symmetric: J[%d][%d] = %d but "
                 "J[%d][%d] is %s", (int)j, i, (int)t.val[k], i, (int)j,
                 stamp[j] != i ? "absent" : "different");
        rc = fail(err, errlen, msg);
      }
    }
    if (rc == 0 && t.start[i + 1] - t.start[i] != b - a) {
      snprintf(msg, sizeof msg, "not symmetric: row %d has an entry "
               "whose mirror is absent", i);
      rc = fail(err, errlen, msg);
    }
  }
out:
  free(t.start);
  free(t.col);
  free(t.val);
  return rc;
}

/* |h_i| + sum_j |J_ij| of row i, or -1 above BINARY_MAX_ABS_SUM. */
static int64_t row_abs(const binary_model *m, int i)
{
  int64_t h = m->h[i], s;
  if (h < -BINARY_MAX_ABS_SUM || h > BINARY_MAX_ABS_SUM)
    return -1;
  s = h < 0 ? -h : h;
  for (int64_t k = m->row_start[i]; k < m->row_start[i + 1]; k++) {
    s += m->val[k] < 0 ? -(int64_t)m->val[k] : m->val[k];
    if (s > BINARY_MAX_ABS_SUM)
      return -1;
  }
  return s;
}

static int check_magnitudes(const binary_model *m, char *err,
                            size_t errlen)
{
  char msg[160];
  int64_t total = 0;
  if (m->offset < -BINARY_MAX_ABS_SUM || m->offset > BINARY_MAX_ABS_SUM)
    return fail(err, errlen, "|offset| exceeds BINARY_MAX_ABS_SUM (2^61)");
  for (int i = 0; i < m->n; i++) {
    int64_t r = row_abs(m, i);
    if (r < 0 || (total += r) > BINARY_MAX_ABS_SUM) {
      snprintf(msg, sizeof msg, "coefficients too large: sum of |h_i| + "
               "sum_j |J_ij| exceeds 2^61 by row %d", i);
      return fail(err, errlen, msg);
    }
  }
  return 0;
}

int binary_check_model(const binary_model *m, char *err, size_t errlen)
{
  int32_t *stamp, *sval;
  int rc;
  if (check_shape(m, err, errlen))
    return -1;
  stamp = malloc((size_t)m->n * sizeof *stamp);
  sval = malloc((size_t)m->n * sizeof *sval);
  if (!stamp || !sval)
    rc = fail(err, errlen, "out of memory (model check)");
  else
    rc = check_columns(m, stamp, err, errlen)
         || check_symmetry(m, stamp, sval, err, errlen)
         || check_magnitudes(m, err, errlen) ? -1 : 0;
  free(stamp);
  free(sval);
  return rc;
}

int binary_check_params(const anneal_params *p, char *err, size_t errlen)
{
  return pt_check_params(p, "binary", BINARY_MAX_REPLICAS,
                         BINARY_MAX_THREADS, err, errlen);
}

/* ---- energies ------------------------------------------------------- */

int64_t binary_energy(const binary_model *m, const int32_t *x)
{
  int64_t e = m->offset;
  for (int i = 0; i < m->n; i++) {
    if (!x[i])
      continue;
    e += m->h[i];
    for (int64_t k = m->row_start[i]; k < m->row_start[i + 1]; k++)
      if (m->col[k] > i && x[m->col[k]])
        e += m->val[k];
  }
  return e;
}

double binary_field_scale(const binary_model *m)
{
  double acc = 0;
  for (int i = 0; i < m->n; i++) {
    double mean = (double)m->h[i], var = 0;
    for (int64_t k = m->row_start[i]; k < m->row_start[i + 1]; k++) {
      mean += 0.5 * m->val[k];
      var += 0.25 * (double)m->val[k] * m->val[k];
    }
    acc += mean * mean + var;
  }
  acc = sqrt(acc / m->n);
  return acc < 1.0 ? 1.0 : acc;
}

/* ---- the plan -------------------------------------------------------- */

static int wants_dense(const binary_model *m, int layout)
{
  int64_t nn = (int64_t)m->n * m->n;
  if (layout & (BINARY_LAYOUT_SPARSE | BINARY_LAYOUT_DENSE))
    return (layout & BINARY_LAYOUT_DENSE) != 0;
  return m->n <= BINARY_DENSE_MAX_N
         && m->row_start[m->n] * BINARY_DENSE_DIV >= nn;
}

static int fields_narrow(const binary_model *m)
{
  for (int i = 0; i < m->n; i++)
    if (row_abs(m, i) > BINARY_NARROW_MAX)
      return 0;
  return 1;
}

static int build_dense(const binary_model *m, binary_plan *pl)
{
  size_t n = (size_t)m->n;
  pl->mat = calloc(n * n, sizeof *pl->mat);
  if (!pl->mat)
    return -1;
  for (size_t i = 0; i < n; i++)
    for (int64_t k = m->row_start[i]; k < m->row_start[i + 1]; k++)
      pl->mat[i * n + (size_t)m->col[k]] = m->val[k];
  return 0;
}

void binary_plan_free(binary_plan *pl)
{
  free(pl->mat);
  free(pl->site);
  memset(pl, 0, sizeof *pl);
}

int binary_plan_build(const binary_model *m, int replicas, int layout,
                      binary_plan *pl, char *err, size_t errlen)
{
  memset(pl, 0, sizeof *pl);
  pl->n = m->n;
  pl->replicas = replicas > 0 ? replicas : BINARY_DEFAULT_REPLICAS;
  pl->round_sweeps = (BINARY_ROUND_FLIPS + m->n - 1) / m->n;
  pl->narrow = !(layout & BINARY_LAYOUT_WIDE) && fields_narrow(m);
  pl->dense = wants_dense(m, layout);
  if (pl->dense && (size_t)m->n > BINARY_DENSE_MAX_N) {
    binary_plan_free(pl);
    return fail(err, errlen, "n too large for the dense layout");
  }
  pl->site = malloc((size_t)m->n * sizeof *pl->site);
  if (!pl->site || (pl->dense && build_dense(m, pl))) {
    binary_plan_free(pl);
    return fail(err, errlen, "out of memory (plan)");
  }
  for (int i = 0; i < m->n; i++)
    pl->site[i] = rng_mix(2u * (uint32_t)i);
  pl->scale = binary_field_scale(m);
  pl->t_cold = BINARY_T_COLD * pl->scale;
  pl->t_hot = BINARY_T_HOT * pl->scale;
  pt_ladder_build(&pl->lad, pl->replicas, pl->t_cold, pl->t_hot);
  return 0;
}
