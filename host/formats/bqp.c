/* bqp reader: OR-Library QUBO files ("K", then per instance "n nnz" and
 * nnz lines "i j q").
 *
 * The text is read line by line in memory: each record sits on one line,
 * so a missing or extra entry is reported where the instance ends instead
 * of shifting every later value. Every instance is parsed and checked in
 * turn; the one asked for is kept and the others are freed as soon as
 * they are checked, so memory holds at most two instances. Repeated pairs
 * are found with an open-addressing hash set that remembers the line of
 * each pair. Arrays grow as entries arrive (never sized from a header
 * alone). Every failure returns -1 with "label:LINE: reason" in err. No
 * global mutable state. */
#include "formats/bqp.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BQ_NUMLEN 128              /* longest decimal token converted */
#define BQ_SHOWLEN 40              /* token characters quoted in errors */
#define BQ_INT_SAT 1000000000000LL /* integer parsing saturates here */
#define BQ_MAX_TOKS 4              /* tokens split per line: 3 + excess */
#define BQ_FIRST_CAP 4096          /* first capacity of the entry arrays */

#if defined(__GNUC__)
#define BQ_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define BQ_PRINTF(a, b)
#endif

typedef struct bq_tok {
  const char *s;
  size_t len;
} bq_tok;

/* A token quoted in a message: at most BQ_SHOWLEN bytes, every byte
 * that is not printable ASCII (NUL included) shown as '?'. */
typedef struct bq_shown {
  char s[BQ_SHOWLEN + 4];
} bq_shown;

/* One line of the text, split into blank-separated tokens. */
typedef struct bq_line {
  int line;
  int ntok;                 /* tokens found, at most BQ_MAX_TOKS */
  bq_tok tok[BQ_MAX_TOKS];
} bq_line;

/* Hash set of index pairs; keys[k] = pair + 1, 0 marks a free slot. */
typedef struct bq_set {
  uint64_t *keys;
  int *lines;
  size_t cap;     /* power of two */
  size_t count;
} bq_set;

typedef struct bq_parse {
  const char *p;
  const char *end;
  int line;            /* line of p */
  const char *label;
  char *err;
  size_t errlen;
  int k;               /* instances in the file */
  int k_line;          /* line of K */
  int last_line;       /* last line that held a record */
  /* the instance being read */
  bqp_instance *b;
  int index;           /* its 1-based index */
  int64_t want;        /* its nnz */
  int64_t cap;         /* capacity of b->i, b->j, b->q */
  int head_line;       /* line of its "n nnz" */
  double abs_sum;
  bq_set set;
} bq_parse;

/* ---- errors ----------------------------------------------------------- */

static int bq_fail(bq_parse *ps, int line, const char *fmt, ...)
    BQ_PRINTF(3, 4);

/* Replace bytes that are not printable ASCII by '?': a reason may quote
 * binary garbage or terminal escapes from the file. */
static void bq_printable(char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
      *s = '?';
}

static bq_shown bq_show(const bq_tok *t)
{
  bq_shown q;
  size_t k, n = t->len < BQ_SHOWLEN ? t->len : BQ_SHOWLEN;

  for (k = 0; k < n; k++) {
    unsigned char c = (unsigned char)t->s[k];

    q.s[k] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
  }
  strcpy(q.s + n, t->len > n ? "..." : "");
  return q;
}

static int bq_fail(bq_parse *ps, int line, const char *fmt, ...)
{
  va_list ap;
  int k;

  if (!ps->err || ps->errlen == 0)
    return -1;
  k = snprintf(ps->err, ps->errlen, "%s:%d: ", ps->label, line);
  if (k >= 0 && (size_t)k < ps->errlen) {
    va_start(ap, fmt);
    vsnprintf(ps->err + k, ps->errlen - (size_t)k, fmt, ap);
    va_end(ap);
    bq_printable(ps->err + k);
  }
  return -1;
}

/* ---- lines and tokens ------------------------------------------------- */

static int bq_blank(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Split [s, e) into at most BQ_MAX_TOKS tokens; returns how many. */
static int bq_split(const char *s, const char *e, bq_tok *tok)
{
  int n = 0;

  while (n < BQ_MAX_TOKS) {
    while (s < e && bq_blank(*s))
      s++;
    if (s == e)
      break;
    tok[n].s = s;
    while (s < e && !bq_blank(*s))
      s++;
    tok[n].len = (size_t)(s - tok[n].s);
    n++;
  }
  return n;
}

/* Next line that holds a token; 0 at the end of the text. */
static int bq_next_line(bq_parse *ps, bq_line *ln)
{
  const char *e;

  while (ps->p < ps->end) {
    e = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
    if (!e)
      e = ps->end;
    ln->line = ps->line;
    ln->ntok = bq_split(ps->p, e, ln->tok);
    ps->p = e < ps->end ? e + 1 : e;
    if (ps->line < INT_MAX)
      ps->line++;  /* saturates on absurd runs of blank lines */
    if (ln->ntok > 0) {
      ps->last_line = ln->line;
      return 1;
    }
  }
  return 0;
}

/* "3 values", "at least 4 values": a count of tokens for a message. */
static const char *bq_atleast(const bq_line *ln)
{
  return ln->ntok >= BQ_MAX_TOKS ? "at least " : "";
}

/* ---- numbers ---------------------------------------------------------- */

static int bq_digits(const bq_tok *t, size_t *i)
{
  size_t start = *i;

  while (*i < t->len && isdigit((unsigned char)t->s[*i]))
    (*i)++;
  return *i > start;
}

static size_t bq_sign(const bq_tok *t)
{
  return t->len && (t->s[0] == '+' || t->s[0] == '-');
}

static int bq_is_int(const bq_tok *t)
{
  size_t i = bq_sign(t);

  return bq_digits(t, &i) && i == t->len;
}

/* Decimal number: [+-]digits[.digits][e[+-]digits], or [+-].digits... */
static int bq_is_num(const bq_tok *t)
{
  size_t i = bq_sign(t);
  int whole, frac = 0;

  if (t->len >= BQ_NUMLEN)
    return 0;
  whole = bq_digits(t, &i);
  if (i < t->len && t->s[i] == '.') {
    i++;
    frac = bq_digits(t, &i);
  }
  if (!whole && !frac)
    return 0;
  if (i < t->len && (t->s[i] == 'e' || t->s[i] == 'E')) {
    i++;
    if (i < t->len && (t->s[i] == '+' || t->s[i] == '-'))
      i++;
    if (!bq_digits(t, &i))
      return 0;
  }
  return i == t->len;
}

static int bq_is_nonfinite(const bq_tok *t)
{
  size_t i = bq_sign(t);

  return t->len - i >= 3 && (strncasecmp(t->s + i, "nan", 3) == 0 ||
                             strncasecmp(t->s + i, "inf", 3) == 0);
}

/* Value of a token that passed bq_is_int, saturated at +-BQ_INT_SAT. */
static int64_t bq_int(const bq_tok *t)
{
  size_t i = bq_sign(t);
  int64_t v = 0;

  for (; i < t->len; i++) {
    v = v * 10 + (t->s[i] - '0');
    if (v > BQ_INT_SAT) {
      v = BQ_INT_SAT;
      break;
    }
  }
  return t->s[0] == '-' ? -v : v;
}

/* Value of a token that passed bq_is_num; 0, or -1 when unconvertible. */
static int bq_num(const bq_tok *t, double *out)
{
  char buf[BQ_NUMLEN];
  char *endp;

  memcpy(buf, t->s, t->len);
  buf[t->len] = '\0';
  *out = strtod(buf, &endp);
  return endp == buf + t->len ? 0 : -1;
}

/* Integer token k of ln (a count in a header), saturated. */
static int bq_count(bq_parse *ps, const bq_line *ln, int k,
                    const char *what, int64_t *v)
{
  const bq_tok *t = &ln->tok[k];

  if (!bq_is_int(t))
    return bq_fail(ps, ln->line, "%s '%s' is not an integer", what,
                   bq_show(t).s);
  *v = bq_int(t);
  return 0;
}

/* ---- pair set --------------------------------------------------------- */

static size_t bq_hash(uint64_t x)
{
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return (size_t)x;
}

static int bq_set_grow(bq_set *s)
{
  size_t cap = s->cap ? s->cap * 2 : 1024, k, h;
  uint64_t *keys = calloc(cap, sizeof *keys);
  int *lines = malloc(cap * sizeof *lines);

  if (!keys || !lines) {
    free(keys);
    free(lines);
    return -1;
  }
  for (k = 0; k < s->cap; k++) {
    if (!s->keys[k])
      continue;
    h = bq_hash(s->keys[k]) & (cap - 1);
    while (keys[h])
      h = (h + 1) & (cap - 1);
    keys[h] = s->keys[k];
    lines[h] = s->lines[k];
  }
  free(s->keys);
  free(s->lines);
  s->keys = keys;
  s->lines = lines;
  s->cap = cap;
  return 0;
}

/* Add pair `key` seen on `line`: 0 when new, 1 when already present (its
 * line in *first), -1 when out of memory. */
static int bq_set_add(bq_set *s, uint64_t key, int line, int *first)
{
  size_t h;

  if ((s->count + 1) * 2 > s->cap && bq_set_grow(s))
    return -1;
  key++;
  for (h = bq_hash(key) & (s->cap - 1); s->keys[h];
       h = (h + 1) & (s->cap - 1)) {
    if (s->keys[h] == key) {
      *first = s->lines[h];
      return 1;
    }
  }
  s->keys[h] = key;
  s->lines[h] = line;
  s->count++;
  return 0;
}

static void bq_set_free(bq_set *s)
{
  free(s->keys);
  free(s->lines);
  memset(s, 0, sizeof *s);
}

/* ---- file header ------------------------------------------------------ */

static int bq_file_header(bq_parse *ps)
{
  bq_line ln;
  int64_t k = 0;

  if (!bq_next_line(ps, &ln))
    return bq_fail(ps, 1, "empty file: expected the number of instances");
  ps->k_line = ln.line;
  if (ln.ntok != 1)
    return bq_fail(ps, ln.line, "the first line must hold the number of "
                   "instances alone, found %s%d values", bq_atleast(&ln),
                   ln.ntok);
  if (bq_count(ps, &ln, 0, "instance count", &k))
    return -1;
  if (k < 1)
    return bq_fail(ps, ln.line, "instance count %lld: need at least 1 "
                   "instance", (long long)k);
  if (k > BQP_MAX_INSTANCES)
    return bq_fail(ps, ln.line, "instance count %s exceeds the limit of "
                   "%d instances", bq_show(&ln.tok[0]).s, BQP_MAX_INSTANCES);
  ps->k = (int)k;
  return 0;
}

/* ---- instance header -------------------------------------------------- */

static int bq_check_n(bq_parse *ps, const bq_line *ln, int64_t n)
{
  if (n < 1)
    return bq_fail(ps, ln->line, "instance %d: variable count %lld, need "
                   "at least 1", ps->index, (long long)n);
  if (n > BQP_MAX_VARIABLES)
    return bq_fail(ps, ln->line, "instance %d: variable count %s exceeds "
                   "the limit of %d variables", ps->index,
                   bq_show(&ln->tok[0]).s, BQP_MAX_VARIABLES);
  return 0;
}

static int bq_check_nnz(bq_parse *ps, const bq_line *ln, int64_t n,
                        int64_t nnz)
{
  int64_t most = n * (n + 1) / 2;

  if (nnz < 0)
    return bq_fail(ps, ln->line, "instance %d: negative entry count %lld",
                   ps->index, (long long)nnz);
  if (nnz > BQP_MAX_ENTRIES)
    return bq_fail(ps, ln->line, "instance %d: entry count %s exceeds "
                   "the limit of %lld entries", ps->index,
                   bq_show(&ln->tok[1]).s, BQP_MAX_ENTRIES);
  if (nnz > most)
    return bq_fail(ps, ln->line, "instance %d: entry count %lld exceeds "
                   "%lld, the number of distinct pairs i <= j of %lld "
                   "variables", ps->index, (long long)nnz, (long long)most,
                   (long long)n);
  return 0;
}

/* A line with an entry's shape where a header or the end was expected:
 * one entry more than instance `idx`, read last, declares. */
static int bq_extra_entry(bq_parse *ps, const bq_line *ln, int idx)
{
  return bq_fail(ps, ln->line, "extra entry: instance %d declares nnz = "
                 "%lld on line %d", idx, (long long)ps->want,
                 ps->head_line);
}

static int bq_inst_header(bq_parse *ps)
{
  bq_line ln;
  int64_t n = 0, nnz = 0;

  if (!bq_next_line(ps, &ln))
    return bq_fail(ps, ps->last_line, "file ends after %d of the %d "
                   "instances given on line %d", ps->index - 1, ps->k,
                   ps->k_line);
  if (ln.ntok == 3 && ps->index > 1)
    return bq_extra_entry(ps, &ln, ps->index - 1);
  ps->head_line = ln.line;
  if (ln.ntok != 2)
    return bq_fail(ps, ln.line, "expected the header 'n nnz' of instance "
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

/* Variable id token k of ln, checked against 1..n, returned 0-based. */
static int bq_var(bq_parse *ps, const bq_line *ln, int k, int32_t *out)
{
  const bq_tok *t = &ln->tok[k];
  int64_t id;

  if (!bq_is_int(t))
    return bq_fail(ps, ln->line, "variable id '%s' is not an integer",
                   bq_show(t).s);
  id = bq_int(t);
  if (id == 0)
    return bq_fail(ps, ln->line, "variable id 0: ids are 1-based (1..%d); "
                   "is the file zero-based?", ps->b->n);
  if (id < 1 || id > ps->b->n)
    return bq_fail(ps, ln->line, "variable id %s out of range 1..%d",
                   bq_show(t).s, ps->b->n);
  *out = (int32_t)(id - 1);
  return 0;
}

static int bq_value(bq_parse *ps, const bq_line *ln, double *q)
{
  const bq_tok *t = &ln->tok[2];
  double v;

  if (bq_is_int(t)) {
    v = (double)bq_int(t);
  } else if (bq_is_num(t)) {
    if (bq_num(t, &v))
      return bq_fail(ps, ln->line, "cannot convert value '%s'",
                     bq_show(t).s);
    if (!isfinite(v))
      return bq_fail(ps, ln->line, "value '%s' is not finite",
                     bq_show(t).s);
  } else if (bq_is_nonfinite(t)) {
    return bq_fail(ps, ln->line, "value '%s' is not finite", bq_show(t).s);
  } else {
    return bq_fail(ps, ln->line, "non-numeric value '%s'", bq_show(t).s);
  }
  if (fabs(v) > BQP_MAX_COEF)
    return bq_fail(ps, ln->line, "value '%s' exceeds the limit |q| <= "
                   "%.0f (2^31-1)", bq_show(t).s, BQP_MAX_COEF);
  *q = v;
  return 0;
}

/* Account q of pair (a, b): the objective counts q_ij twice. */
static int bq_sum(bq_parse *ps, const bq_line *ln, int32_t a, int32_t b,
                  double q)
{
  ps->abs_sum += a == b ? fabs(q) : 2 * fabs(q);
  if (ps->abs_sum > BQP_MAX_ABS_SUM)
    return bq_fail(ps, ln->line, "instance %d: sum of |q_ii| + 2|q_ij| "
                   "exceeds 2^53 (%.0f); objective values would not be "
                   "exact", ps->index, BQP_MAX_ABS_SUM);
  if (q != floor(q))
    ps->b->integral = 0;
  return 0;
}

/* Pair (a, b), a <= b, must not repeat an earlier entry. */
static int bq_pair(bq_parse *ps, const bq_line *ln, int32_t a, int32_t b)
{
  int first = 0, rc;

  rc = bq_set_add(&ps->set, (uint64_t)a << 32 | (uint64_t)b, ln->line,
                  &first);
  if (rc < 0)
    return bq_fail(ps, ln->line, "out of memory");
  if (rc > 0)
    return bq_fail(ps, ln->line, "repeated pair %d %d (first given on "
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
    return bq_fail(ps, line, "out of memory for %lld entries",
                   (long long)cap);
  b->q = q;
  ps->cap = cap;
  return 0;
}

static int bq_entry(bq_parse *ps, const bq_line *ln)
{
  bqp_instance *b = ps->b;
  int32_t x = 0, y = 0, t;
  double q = 0;

  if (ln->ntok != 3)
    return bq_fail(ps, ln->line, "instance %d (nnz = %lld on line %d): "
                   "expected entry %lld as 'i j q', found %s%d value%s",
                   ps->index, (long long)ps->want, ps->head_line,
                   (long long)b->nnz + 1, bq_atleast(ln), ln->ntok,
                   ln->ntok == 1 ? "" : "s");
  if (bq_var(ps, ln, 0, &x) || bq_var(ps, ln, 1, &y) ||
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
  bq_line ln;

  while (ps->b->nnz < ps->want) {
    if (!bq_next_line(ps, &ln))
      return bq_fail(ps, ps->last_line, "file ends after %lld of the %lld "
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
    return bq_fail(ps, ps->line, "out of memory");
  ps->b->integral = 1;
  ps->cap = 0;
  ps->abs_sum = 0;
  rc = bq_inst_header(ps);
  if (rc == 0)
    rc = bq_entries(ps);
  bq_set_free(&ps->set);
  return rc;
}

/* After the last instance only blank lines may follow. */
static int bq_trailer(bq_parse *ps)
{
  bq_line ln;

  if (!bq_next_line(ps, &ln))
    return 0;
  if (ln.ntok == 3)
    return bq_extra_entry(ps, &ln, ps->k);
  return bq_fail(ps, ln.line, "extra data after the %d instances given on "
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

static void bq_init(bq_parse *ps, const char *text, size_t len,
                    const char *label, char *err, size_t errlen)
{
  memset(ps, 0, sizeof *ps);
  ps->p = text ? text : "";
  ps->end = ps->p + (text ? len : 0);
  ps->line = 1;
  ps->label = label ? label : "<string>";
  ps->err = err;
  ps->errlen = errlen;
  if (ps->end - ps->p >= 3 && memcmp(ps->p, "\xEF\xBB\xBF", 3) == 0)
    ps->p += 3;  /* UTF-8 byte order mark */
  if (err && errlen)
    err[0] = '\0';
}

int bqp_read_string(const char *text, size_t len, const char *label,
                    int instance, bqp_instance **out, int *count,
                    char *err, size_t errlen)
{
  bqp_instance *keep = NULL;
  bq_parse ps;

  bq_init(&ps, text, len, label, err, errlen);
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
    return bq_fail(&ps, ps.k_line, "instance %d out of range: the file "
                   "holds %d instance%s, numbered from 1", instance, ps.k,
                   ps.k == 1 ? "" : "s");
  }
  *out = keep;
  return 0;
}

/* ---- files ------------------------------------------------------------ */

static int bq_os_fail(const char *path, const char *what, int e,
                      char *err, size_t errlen)
{
  char msg[128];

  if (strerror_r(e, msg, sizeof msg) != 0)
    snprintf(msg, sizeof msg, "error %d", e);
  if (err && errlen)
    snprintf(err, errlen, "%s:0: %s (%s)", path, what, msg);
  return -1;
}

/* Whole file in a malloc'd buffer (not NUL-terminated). */
static int bq_slurp(const char *path, char **buf, size_t *len,
                    char *err, size_t errlen)
{
  FILE *f = fopen(path, "rb");
  size_t cap = 0, got;
  char *b = NULL, *nb;
  int e;

  *buf = NULL;
  *len = 0;
  if (!f)
    return bq_os_fail(path, "cannot open file", errno, err, errlen);
  for (;;) {
    if (*len == cap) {
      cap = cap ? cap * 2 : 65536;
      nb = cap > *len ? realloc(b, cap) : NULL;
      if (!nb) {
        free(b);
        fclose(f);
        return bq_os_fail(path, "cannot read file", ENOMEM, err, errlen);
      }
      b = nb;
    }
    got = fread(b + *len, 1, cap - *len, f);
    *len += got;
    if (got == 0)
      break;
  }
  e = ferror(f) ? (errno ? errno : EIO) : 0;
  fclose(f);
  if (e) {
    free(b);
    return bq_os_fail(path, "cannot read file", e, err, errlen);
  }
  *buf = b;
  return 0;
}

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
  if (bq_slurp(path, &buf, &len, err, errlen))
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
