/* bqp reader: OR-Library QUBO files ("K", then per instance "n nnz" and
 * nnz lines "i j q").
 *
 * The text is read line by line in memory: each record sits on one line,
 * so a missing or extra entry is reported where the instance ends instead
 * of shifting every later value. Every instance is parsed and checked in
 * turn; the one asked for is kept and the others are freed as soon as
 * they are checked, so memory holds at most two instances. Repeated pairs
 * are found with a hash set (textio_seen) that remembers the line of
 * each pair. Arrays grow as entries arrive (never sized from a header
 * alone). Lines, tokens, numbers and messages come from textio. Every
 * failure returns -1 with "label:LINE: reason" in err. No global mutable
 * state. */
#include "formats/bqp.h"

#include "formats/textio.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BQ_FIRST_CAP 4096          /* first capacity of the entry arrays */
#define BQ_FAIL(ps, ...) textio_fail(&(ps)->src, __VA_ARGS__)
#define BQ_SHOW(t) textio_show(t).s

typedef struct bq_parse {
  textio_src src;      /* src.tok_line: last line that held a record */
  int k;               /* instances in the file */
  int k_line;          /* line of K */
  /* the instance being read */
  bqp_instance *b;
  int index;           /* its 1-based index */
  int64_t want;        /* its nnz */
  int64_t cap;         /* capacity of b->i, b->j, b->q */
  int head_line;       /* line of its "n nnz" */
  double abs_sum;
  textio_seen set;
} bq_parse;

/* "3 values", "at least 4 values": a count of tokens for a message. */
static const char *bq_atleast(const textio_line *ln)
{
  return ln->ntok >= TEXTIO_LINE_TOKS ? "at least " : "";
}

/* Integer token k of ln (a count in a header), saturated. */
static int bq_count(bq_parse *ps, const textio_line *ln, int k,
                    const char *what, int64_t *v)
{
  const textio_tok *t = &ln->tok[k];

  if (!textio_is_int(t))
    return BQ_FAIL(ps, ln->line, "%s '%s' is not an integer", what,
                   BQ_SHOW(t));
  *v = textio_int(t);
  return 0;
}

/* ---- file header ------------------------------------------------------ */

static int bq_file_header(bq_parse *ps)
{
  textio_line ln;
  int64_t k = 0;

  if (!textio_next_line(&ps->src, &ln))
    return BQ_FAIL(ps, 1, "empty file: expected the number of instances");
  ps->k_line = ln.line;
  if (ln.ntok != 1)
    return BQ_FAIL(ps, ln.line, "the first line must hold the number of "
                   "instances alone, found %s%d values", bq_atleast(&ln),
                   ln.ntok);
  if (bq_count(ps, &ln, 0, "instance count", &k))
    return -1;
  if (k < 1)
    return BQ_FAIL(ps, ln.line, "instance count %lld: need at least 1 "
                   "instance", (long long)k);
  if (k > BQP_MAX_INSTANCES)
    return BQ_FAIL(ps, ln.line, "instance count %s exceeds the limit of "
                   "%d instances", BQ_SHOW(&ln.tok[0]), BQP_MAX_INSTANCES);
  ps->k = (int)k;
  return 0;
}

/* ---- instance header -------------------------------------------------- */

static int bq_check_n(bq_parse *ps, const textio_line *ln, int64_t n)
{
  if (n < 1)
    return BQ_FAIL(ps, ln->line, "instance %d: variable count %lld, need "
                   "at least 1", ps->index, (long long)n);
  if (n > BQP_MAX_VARIABLES)
    return BQ_FAIL(ps, ln->line, "instance %d: variable count %s exceeds "
                   "the limit of %d variables", ps->index,
                   BQ_SHOW(&ln->tok[0]), BQP_MAX_VARIABLES);
  return 0;
}

static int bq_check_nnz(bq_parse *ps, const textio_line *ln, int64_t n,
                        int64_t nnz)
{
  int64_t most = n * (n + 1) / 2;

  if (nnz < 0)
    return BQ_FAIL(ps, ln->line, "instance %d: negative entry count %lld",
                   ps->index, (long long)nnz);
  if (nnz > BQP_MAX_ENTRIES)
    return BQ_FAIL(ps, ln->line, "instance %d: entry count %s exceeds "
                   "the limit of %lld entries", ps->index,
                   BQ_SHOW(&ln->tok[1]), BQP_MAX_ENTRIES);
  if (nnz > most)
    return BQ_FAIL(ps, ln->line, "instance %d: entry count %lld exceeds "
                   "%lld, the number of distinct pairs i <= j of %lld "
                   "variables", ps->index, (long long)nnz, (long long)most,
                   (long long)n);
  return 0;
}

/* A line with an entry's shape where a header or the end was expected:
 * one entry more than instance `idx`, read last, declares. */
static int bq_extra_entry(bq_parse *ps, const textio_line *ln, int idx)
{
  return BQ_FAIL(ps, ln->line, "extra entry: instance %d declares nnz = "
                 "%lld on line %d", idx, (long long)ps->want,
                 ps->head_line);
}

static int bq_inst_header(bq_parse *ps)
{
  textio_line ln;
  int64_t n = 0, nnz = 0;

  if (!textio_next_line(&ps->src, &ln))
    return BQ_FAIL(ps, ps->src.tok_line, "file ends after %d of the %d "
                   "instances given on line %d", ps->index - 1, ps->k,
                   ps->k_line);
  if (ln.ntok == 3 && ps->index > 1)
    return bq_extra_entry(ps, &ln, ps->index - 1);
  ps->head_line = ln.line;
  if (ln.ntok != 2)
    return BQ_FAIL(ps, ln.line, "expected the header 'n nnz' of instance "
                   "%d, found %s%d value%s", ps->index, bq_atleast(&ln),
                   ln.ntok, ln.ntok == 1 ? "" : "s");
  if (bq_count(ps, &ln, 0, "variable count", &n) ||
      bq_count(ps, &ln, 1, "entry count", &nnz) ||
      bq_check_n(ps, &ln, n) || bq_check_nnz(ps, &ln, n, nnz))
    return -1;
  ps->b->n = (int)n;
  ps->want = nnz;
  return 0;
}

/* ---- entries ---------------------------------------------------------- */

static int bq_value(bq_parse *ps, const textio_line *ln, double *q)
{
  const textio_tok *t = &ln->tok[2];
  double v;

  if (textio_real(&ps->src, t, "value", &v))
    return -1;
  if (fabs(v) > BQP_MAX_COEF)
    return BQ_FAIL(ps, ln->line, "value '%s' exceeds the limit |q| <= "
                   "%.0f (2^31-1)", BQ_SHOW(t), BQP_MAX_COEF);
  *q = v;
  return 0;
}

/* Account q of pair (a, b): the objective counts q_ij twice. */
static int bq_sum(bq_parse *ps, const textio_line *ln, int32_t a, int32_t b,
                  double q)
{
  ps->abs_sum += a == b ? fabs(q) : 2 * fabs(q);
  if (ps->abs_sum > BQP_MAX_ABS_SUM)
    return BQ_FAIL(ps, ln->line, "instance %d: sum of |q_ii| + 2|q_ij| "
                   "exceeds 2^53 (%.0f); objective values would not be "
                   "exact", ps->index, BQP_MAX_ABS_SUM);
  if (q != floor(q))
    ps->b->integral = 0;
  return 0;
}

/* Pair (a, b), a <= b, must not repeat an earlier entry. */
static int bq_pair(bq_parse *ps, const textio_line *ln, int32_t a, int32_t b)
{
  int first = 0, rc;

  rc = textio_seen_add(&ps->set, (uint64_t)a << 32 | (uint64_t)b, ln->line,
                  &first);
  if (rc < 0)
    return BQ_FAIL(ps, ln->line, "out of memory");
  if (rc > 0)
    return BQ_FAIL(ps, ln->line, "repeated pair %d %d (first given on "
                   "line %d); values are never summed", a + 1, b + 1,
                   first);
  return 0;
}

static int bq_reserve(bq_parse *ps, int line)
{
  bqp_instance *b = ps->b;
  int64_t cap;
  void *i, *j, *q;

  if (b->nnz < ps->cap)
    return 0;
  cap = ps->cap ? ps->cap * 2 : BQ_FIRST_CAP;
  if (cap > ps->want)
    cap = ps->want;
  i = realloc(b->i, (size_t)cap * sizeof *b->i);
  if (i)
    b->i = i;
  j = i ? realloc(b->j, (size_t)cap * sizeof *b->j) : NULL;
  if (j)
    b->j = j;
  q = j ? realloc(b->q, (size_t)cap * sizeof *b->q) : NULL;
  if (!q)
    return BQ_FAIL(ps, line, "out of memory for %lld entries",
                   (long long)cap);
  b->q = q;
  ps->cap = cap;
  return 0;
}

static int bq_entry(bq_parse *ps, const textio_line *ln)
{
  bqp_instance *b = ps->b;
  int32_t x = 0, y = 0, t;
  double q = 0;

  if (ln->ntok != 3)
    return BQ_FAIL(ps, ln->line, "instance %d (nnz = %lld on line %d): "
                   "expected entry %lld as 'i j q', found %s%d value%s",
                   ps->index, (long long)ps->want, ps->head_line,
                   (long long)b->nnz + 1, bq_atleast(ln), ln->ntok,
                   ln->ntok == 1 ? "" : "s");
  if (textio_id(&ps->src, &ln->tok[0], ps->b->n, "variable", &x) ||
      textio_id(&ps->src, &ln->tok[1], ps->b->n, "variable", &y) ||
      bq_value(ps, ln, &q))
    return -1;
  if (x > y) {
    t = x;
    x = y;
    y = t;
  }
  if (bq_pair(ps, ln, x, y) || bq_sum(ps, ln, x, y, q) ||
      bq_reserve(ps, ln->line))
    return -1;
  b->i[b->nnz] = x;
  b->j[b->nnz] = y;
  b->q[b->nnz] = q;
  b->nnz++;
  return 0;
}

/* ---- instances and the file ------------------------------------------- */

static int bq_entries(bq_parse *ps)
{
  textio_line ln;

  while (ps->b->nnz < ps->want) {
    if (!textio_next_line(&ps->src, &ln))
      return BQ_FAIL(ps, ps->src.tok_line, "file ends after %lld of the %lld "
                     "entries of instance %d (line %d)",
                     (long long)ps->b->nnz, (long long)ps->want,
                     ps->index, ps->head_line);
    if (bq_entry(ps, &ln))
      return -1;
  }
  return 0;
}

/* Read instance ps->index into a new ps->b. */
static int bq_instance(bq_parse *ps)
{
  int rc;

  ps->b = calloc(1, sizeof *ps->b);
  if (!ps->b)
    return BQ_FAIL(ps, ps->src.line, "out of memory");
  ps->b->integral = 1;
  ps->cap = 0;
  ps->abs_sum = 0;
  rc = bq_inst_header(ps);
  if (rc == 0)
    rc = bq_entries(ps);
  textio_seen_free(&ps->set);
  return rc;
}

/* After the last instance only blank lines may follow. */
static int bq_trailer(bq_parse *ps)
{
  textio_line ln;

  if (!textio_next_line(&ps->src, &ln))
    return 0;
  if (ln.ntok == 3)
    return bq_extra_entry(ps, &ln, ps->k);
  return BQ_FAIL(ps, ln.line, "extra data after the %d instances given on "
                 "line %d", ps->k, ps->k_line);
}

/* Check every instance; the one numbered `want` is returned in *keep. */
static int bq_parse_text(bq_parse *ps, int want, bqp_instance **keep)
{
  if (bq_file_header(ps))
    return -1;
  for (ps->index = 1; ps->index <= ps->k; ps->index++) {
    if (bq_instance(ps)) {
      bqp_free(ps->b);
      return -1;
    }
    if (ps->index == want)
      *keep = ps->b;
    else
      bqp_free(ps->b);
    ps->b = NULL;
  }
  ps->index = ps->k;
  return bq_trailer(ps);
}

int bqp_read_string(const char *text, size_t len, const char *label,
                    int instance, bqp_instance **out, int *count,
                    char *err, size_t errlen)
{
  bqp_instance *keep = NULL;
  bq_parse ps;

  memset(&ps, 0, sizeof ps);
  textio_init(&ps.src, text, len, label, err, errlen);
  *out = NULL;
  if (count)
    *count = 0;
  if (bq_parse_text(&ps, instance, &keep)) {
    bqp_free(keep);
    return -1;
  }
  if (count)
    *count = ps.k;
  if (instance < 1 || instance > ps.k) {
    bqp_free(keep);
    return BQ_FAIL(&ps, ps.k_line, "instance %d out of range: the file "
                   "holds %d instance%s, numbered from 1", instance, ps.k,
                   ps.k == 1 ? "" : "s");
  }
  *out = keep;
  return 0;
}

/* ---- files ------------------------------------------------------------ */

int bqp_read_file(const char *path, int instance, bqp_instance **out,
                  int *count, char *err, size_t errlen)
{
  char *buf;
  size_t len;
  int rc;

  *out = NULL;
  if (count)
    *count = 0;
  errno = 0;
  if (textio_slurp(path, &buf, &len, err, errlen))
    return -1;
  rc = bqp_read_string(buf, len, path, instance, out, count, err, errlen);
  free(buf);
  return rc;
}

void bqp_free(bqp_instance *b)
{
  if (!b)
    return;
  free(b->i);
  free(b->j);
  free(b->q);
  free(b);
}

double bqp_objective(const bqp_instance *b, const int32_t *x)
{
  double f = 0;
  int64_t k;

  for (k = 0; k < b->nnz; k++) {
    if (!x[b->i[k]] || !x[b->j[k]])
      continue;
    f += b->i[k] == b->j[k] ? b->q[k] : 2 * b->q[k];
  }
  return f;
}
