/* rudy reader: G-set style Max-Cut graphs ("n m" then m lines "i j w").
 *
 * The text is read line by line in memory: each record sits on one line,
 * so a short or long line is reported where it is instead of shifting
 * every later value. Repeated edges are found with an open-addressing
 * hash set of vertex pairs that remembers the line of each pair. Arrays
 * grow as edges arrive (never sized from the header alone, so a lying
 * header costs no memory). Every failure returns -1 with
 * "label:LINE: reason" in err. No global mutable state. */
#include "formats/rudy.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RD_NUMLEN 128              /* longest decimal token converted */
#define RD_SHOWLEN 40              /* token characters quoted in errors */
#define RD_INT_SAT 1000000000000LL /* integer parsing saturates here */
#define RD_MAX_TOKS 4              /* tokens split per line: 3 + excess */
#define RD_FIRST_CAP 4096          /* first capacity of the edge arrays */

#if defined(__GNUC__)
#define RD_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define RD_PRINTF(a, b)
#endif

typedef struct rd_tok {
  const char *s;
  size_t len;
} rd_tok;

/* A token quoted in a message: at most RD_SHOWLEN bytes, every byte
 * that is not printable ASCII (NUL included) shown as '?'. */
typedef struct rd_shown {
  char s[RD_SHOWLEN + 4];
} rd_shown;

/* One line of the text, split into blank-separated tokens. */
typedef struct rd_line {
  int line;
  int ntok;                 /* tokens found, at most RD_MAX_TOKS */
  rd_tok tok[RD_MAX_TOKS];
} rd_line;

/* Hash set of vertex pairs; keys[k] = pair + 1, 0 marks a free slot. */
typedef struct rd_set {
  uint64_t *keys;
  int *lines;
  size_t cap;     /* power of two */
  size_t count;
} rd_set;

typedef struct rd_parse {
  const char *p;
  const char *end;
  int line;            /* line of p */
  const char *label;
  char *err;
  size_t errlen;
  rudy_graph *g;
  int64_t want;        /* m from the header */
  int64_t cap;         /* capacity of g->u, g->v, g->w */
  int head_line;
  int last_line;       /* last line that held a record */
  double abs_sum;
  rd_set set;
} rd_parse;

/* ---- errors ----------------------------------------------------------- */

static int rd_fail(rd_parse *ps, int line, const char *fmt, ...)
    RD_PRINTF(3, 4);

/* Replace bytes that are not printable ASCII by '?': a reason may quote
 * binary garbage or terminal escapes from the file. */
static void rd_printable(char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
      *s = '?';
}

static rd_shown rd_show(const rd_tok *t)
{
  rd_shown q;
  size_t k, n = t->len < RD_SHOWLEN ? t->len : RD_SHOWLEN;

  for (k = 0; k < n; k++) {
    unsigned char c = (unsigned char)t->s[k];

    q.s[k] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
  }
  strcpy(q.s + n, t->len > n ? "..." : "");
  return q;
}

static int rd_fail(rd_parse *ps, int line, const char *fmt, ...)
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
    rd_printable(ps->err + k);
  }
  return -1;
}

/* ---- lines and tokens ------------------------------------------------- */

static int rd_blank(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Split [s, e) into at most RD_MAX_TOKS tokens; returns how many. */
static int rd_split(const char *s, const char *e, rd_tok *tok)
{
  int n = 0;

  while (n < RD_MAX_TOKS) {
    while (s < e && rd_blank(*s))
      s++;
    if (s == e)
      break;
    tok[n].s = s;
    while (s < e && !rd_blank(*s))
      s++;
    tok[n].len = (size_t)(s - tok[n].s);
    n++;
  }
  return n;
}

/* Next line that holds a token; 0 at the end of the text. */
static int rd_next_line(rd_parse *ps, rd_line *ln)
{
  const char *e;

  while (ps->p < ps->end) {
    e = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
    if (!e)
      e = ps->end;
    ln->line = ps->line;
    ln->ntok = rd_split(ps->p, e, ln->tok);
    ps->p = e < ps->end ? e + 1 : e;
    if (ps->line < INT_MAX)
      ps->line++;  /* saturates on absurd runs of blank lines */
    if (ln->ntok > 0)
      return 1;
  }
  return 0;
}

/* ---- numbers ---------------------------------------------------------- */

static int rd_digits(const rd_tok *t, size_t *i)
{
  size_t start = *i;

  while (*i < t->len && isdigit((unsigned char)t->s[*i]))
    (*i)++;
  return *i > start;
}

static size_t rd_sign(const rd_tok *t)
{
  return t->len && (t->s[0] == '+' || t->s[0] == '-');
}

static int rd_is_int(const rd_tok *t)
{
  size_t i = rd_sign(t);

  return rd_digits(t, &i) && i == t->len;
}

/* Decimal number: [+-]digits[.digits][e[+-]digits], or [+-].digits... */
static int rd_is_num(const rd_tok *t)
{
  size_t i = rd_sign(t);
  int whole, frac = 0;

  if (t->len >= RD_NUMLEN)
    return 0;
  whole = rd_digits(t, &i);
  if (i < t->len && t->s[i] == '.') {
    i++;
    frac = rd_digits(t, &i);
  }
  if (!whole && !frac)
    return 0;
  if (i < t->len && (t->s[i] == 'e' || t->s[i] == 'E')) {
    i++;
    if (i < t->len && (t->s[i] == '+' || t->s[i] == '-'))
      i++;
    if (!rd_digits(t, &i))
      return 0;
  }
  return i == t->len;
}

static int rd_is_nonfinite(const rd_tok *t)
{
  size_t i = rd_sign(t);

  return t->len - i >= 3 && (strncasecmp(t->s + i, "nan", 3) == 0 ||
                             strncasecmp(t->s + i, "inf", 3) == 0);
}

/* Value of a token that passed rd_is_int, saturated at +-RD_INT_SAT. */
static int64_t rd_int(const rd_tok *t)
{
  size_t i = rd_sign(t);
  int64_t v = 0;

  for (; i < t->len; i++) {
    v = v * 10 + (t->s[i] - '0');
    if (v > RD_INT_SAT) {
      v = RD_INT_SAT;
      break;
    }
  }
  return t->s[0] == '-' ? -v : v;
}

/* Value of a token that passed rd_is_num; 0, or -1 when unconvertible. */
static int rd_num(const rd_tok *t, double *out)
{
  char buf[RD_NUMLEN];
  char *endp;

  memcpy(buf, t->s, t->len);
  buf[t->len] = '\0';
  *out = strtod(buf, &endp);
  return endp == buf + t->len ? 0 : -1;
}

/* ---- header ----------------------------------------------------------- */

static int rd_count(rd_parse *ps, const rd_line *ln, int k,
                    const char *what, int64_t *v)
{
  const rd_tok *t = &ln->tok[k];

  if (!rd_is_int(t))
    return rd_fail(ps, ln->line, "%s '%s' in the header is not an "
                   "integer", what, rd_show(t).s);
  *v = rd_int(t);
  return 0;
}

static int rd_check_n(rd_parse *ps, const rd_line *ln, int64_t n)
{
  if (n < 1)
    return rd_fail(ps, ln->line, "vertex count %lld in the header: need "
                   "at least 1 vertex", (long long)n);
  if (n > RUDY_MAX_VERTICES)
    return rd_fail(ps, ln->line, "vertex count %s exceeds the limit of "
                   "%d vertices", rd_show(&ln->tok[0]).s, RUDY_MAX_VERTICES);
  return 0;
}

static int rd_check_m(rd_parse *ps, const rd_line *ln, int64_t n,
                      int64_t m)
{
  int64_t most = n * (n - 1) / 2;

  if (m < 0)
    return rd_fail(ps, ln->line, "negative edge count %lld in the header",
                   (long long)m);
  if (m > RUDY_MAX_EDGES)
    return rd_fail(ps, ln->line, "edge count %s exceeds the limit of "
                   "%lld edges", rd_show(&ln->tok[1]).s, RUDY_MAX_EDGES);
  if (m > most)
    return rd_fail(ps, ln->line, "edge count %lld exceeds %lld, the most "
                   "a graph on %lld vertices has without self-loops or "
                   "repeated edges", (long long)m, (long long)most,
                   (long long)n);
  return 0;
}

static int rd_header(rd_parse *ps)
{
  rd_line ln;
  int64_t n = 0, m = 0;

  if (!rd_next_line(ps, &ln))
    return rd_fail(ps, 1, "empty file: expected the header 'n m' "
                   "(vertex and edge counts)");
  ps->head_line = ps->last_line = ln.line;
  if (ln.ntok != 2)
    return rd_fail(ps, ln.line, "header must be 'n m' (vertex and edge "
                   "counts), found %s%d value%s", ln.ntok > 3 ? "at least "
                   : "", ln.ntok, ln.ntok == 1 ? "" : "s");
  if (rd_count(ps, &ln, 0, "vertex count", &n) ||
      rd_count(ps, &ln, 1, "edge count", &m) || rd_check_n(ps, &ln, n) ||
      rd_check_m(ps, &ln, n, m))
    return -1;
  ps->g->n = (int)n;
  ps->want = m;
  return 0;
}

/* ---- edge set --------------------------------------------------------- */

static size_t rd_hash(uint64_t x)
{
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return (size_t)x;
}

static int rd_set_grow(rd_set *s)
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
    h = rd_hash(s->keys[k]) & (cap - 1);
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
static int rd_set_add(rd_set *s, uint64_t key, int line, int *first)
{
  size_t h;

  if ((s->count + 1) * 2 > s->cap && rd_set_grow(s))
    return -1;
  key++;
  for (h = rd_hash(key) & (s->cap - 1); s->keys[h];
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

static void rd_set_free(rd_set *s)
{
  free(s->keys);
  free(s->lines);
}

/* ---- edges ------------------------------------------------------------ */

/* Vertex id token k of ln, checked against 1..n, returned 0-based. */
static int rd_vertex(rd_parse *ps, const rd_line *ln, int k, int32_t *out)
{
  const rd_tok *t = &ln->tok[k];
  int64_t id;

  if (!rd_is_int(t))
    return rd_fail(ps, ln->line, "vertex id '%s' is not an integer",
                   rd_show(t).s);
  id = rd_int(t);
  if (id == 0)
    return rd_fail(ps, ln->line, "vertex id 0: ids are 1-based (1..%d); "
                   "is the file zero-based?", ps->g->n);
  if (id < 1 || id > ps->g->n)
    return rd_fail(ps, ln->line, "vertex id %s out of range 1..%d",
                   rd_show(t).s, ps->g->n);
  *out = (int32_t)(id - 1);
  return 0;
}

static int rd_weight_value(rd_parse *ps, const rd_line *ln, double *w)
{
  const rd_tok *t = &ln->tok[2];
  double v;

  if (rd_is_int(t)) {
    v = (double)rd_int(t);
  } else if (rd_is_num(t)) {
    if (rd_num(t, &v))
      return rd_fail(ps, ln->line, "cannot convert weight '%s'",
                     rd_show(t).s);
    if (!isfinite(v))
      return rd_fail(ps, ln->line, "weight '%s' is not finite",
                     rd_show(t).s);
  } else if (rd_is_nonfinite(t)) {
    return rd_fail(ps, ln->line, "weight '%s' is not finite", rd_show(t).s);
  } else {
    return rd_fail(ps, ln->line, "non-numeric weight '%s'", rd_show(t).s);
  }
  if (fabs(v) > RUDY_MAX_WEIGHT)
    return rd_fail(ps, ln->line, "weight '%s' exceeds the limit |w| <= "
                   "%.0f (2^31-1)", rd_show(t).s, RUDY_MAX_WEIGHT);
  *w = v;
  return 0;
}

static int rd_weight(rd_parse *ps, const rd_line *ln, double *w)
{
  if (rd_weight_value(ps, ln, w))
    return -1;
  ps->abs_sum += fabs(*w);
  if (ps->abs_sum > RUDY_MAX_ABS_SUM)
    return rd_fail(ps, ln->line, "sum of |w| over the edges exceeds 2^53 "
                   "(%.0f); cut values would not be exact",
                   RUDY_MAX_ABS_SUM);
  if (*w != floor(*w))
    ps->g->integral = 0;
  return 0;
}

static int rd_reserve(rd_parse *ps, int line)
{
  rudy_graph *g = ps->g;
  int64_t cap;
  void *u, *v, *w;

  if (g->m < ps->cap)
    return 0;
  cap = ps->cap ? ps->cap * 2 : RD_FIRST_CAP;
  if (cap > ps->want)
    cap = ps->want;
  u = realloc(g->u, (size_t)cap * sizeof *g->u);
  if (u)
    g->u = u;
  v = u ? realloc(g->v, (size_t)cap * sizeof *g->v) : NULL;
  if (v)
    g->v = v;
  w = v ? realloc(g->w, (size_t)cap * sizeof *g->w) : NULL;
  if (!w)
    return rd_fail(ps, line, "out of memory for %lld edges",
                   (long long)cap);
  g->w = w;
  ps->cap = cap;
  return 0;
}

/* The pair (a, b) of ln must not be a self-loop or a repeat. */
static int rd_pair(rd_parse *ps, const rd_line *ln, int32_t a, int32_t b)
{
  uint64_t lo = (uint64_t)(a < b ? a : b), hi = (uint64_t)(a < b ? b : a);
  int first = 0, rc;

  if (a == b)
    return rd_fail(ps, ln->line, "self-loop on vertex %d: a self-loop "
                   "never crosses a cut", a + 1);
  rc = rd_set_add(&ps->set, lo << 32 | hi, ln->line, &first);
  if (rc < 0)
    return rd_fail(ps, ln->line, "out of memory");
  if (rc > 0)
    return rd_fail(ps, ln->line, "repeated edge %d-%d (first given on "
                   "line %d)", a + 1, b + 1, first);
  return 0;
}

static int rd_edge(rd_parse *ps, const rd_line *ln)
{
  rudy_graph *g = ps->g;
  int32_t a = 0, b = 0;
  double w = 0;

  if (g->m == ps->want)
    return rd_fail(ps, ln->line, "extra line after the %lld edges given "
                   "in the header (line %d)", (long long)ps->want,
                   ps->head_line);
  if (ln->ntok != 3)
    return rd_fail(ps, ln->line, "expected an edge 'i j w', found %s%d "
                   "value%s", ln->ntok > 3 ? "at least " : "", ln->ntok,
                   ln->ntok == 1 ? "" : "s");
  if (rd_vertex(ps, ln, 0, &a) || rd_vertex(ps, ln, 1, &b) ||
      rd_weight(ps, ln, &w) || rd_pair(ps, ln, a, b) ||
      rd_reserve(ps, ln->line))
    return -1;
  g->u[g->m] = a;
  g->v[g->m] = b;
  g->w[g->m] = w;
  g->m++;
  return 0;
}

static int rd_parse_text(rd_parse *ps)
{
  rd_line ln;

  if (rd_header(ps))
    return -1;
  while (rd_next_line(ps, &ln)) {
    ps->last_line = ln.line;
    if (rd_edge(ps, &ln))
      return -1;
  }
  if (ps->g->m < ps->want)
    return rd_fail(ps, ps->last_line, "file ends after %lld of the %lld "
                   "edges given in the header (line %d)",
                   (long long)ps->g->m, (long long)ps->want, ps->head_line);
  return 0;
}

/* ---- entry points ----------------------------------------------------- */

static void rd_init(rd_parse *ps, const char *text, size_t len,
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

int rudy_read_string(const char *text, size_t len, const char *label,
                     rudy_graph **out, char *err, size_t errlen)
{
  rd_parse ps;
  int rc;

  rd_init(&ps, text, len, label, err, errlen);
  *out = NULL;
  ps.g = calloc(1, sizeof *ps.g);
  if (!ps.g)
    return rd_fail(&ps, 1, "out of memory");
  ps.g->integral = 1;
  rc = rd_parse_text(&ps);
  rd_set_free(&ps.set);
  if (rc) {
    rudy_free(ps.g);
    return -1;
  }
  *out = ps.g;
  return 0;
}

static int rd_os_fail(const char *path, const char *what, int e,
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
static int rd_slurp(const char *path, char **buf, size_t *len,
                    char *err, size_t errlen)
{
  FILE *f = fopen(path, "rb");
  size_t cap = 0, got;
  char *b = NULL, *nb;
  int e;

  *buf = NULL;
  *len = 0;
  if (!f)
    return rd_os_fail(path, "cannot open file", errno, err, errlen);
  for (;;) {
    if (*len == cap) {
      cap = cap ? cap * 2 : 65536;
      nb = cap > *len ? realloc(b, cap) : NULL;
      if (!nb) {
        free(b);
        fclose(f);
        return rd_os_fail(path, "cannot read file", ENOMEM, err, errlen);
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
    return rd_os_fail(path, "cannot read file", e, err, errlen);
  }
  *buf = b;
  return 0;
}

int rudy_read_file(const char *path, rudy_graph **out,
                   char *err, size_t errlen)
{
  char *buf;
  size_t len;
  int rc;

  *out = NULL;
  errno = 0;
  if (rd_slurp(path, &buf, &len, err, errlen))
    return -1;
  rc = rudy_read_string(buf, len, path, out, err, errlen);
  free(buf);
  return rc;
}

void rudy_free(rudy_graph *g)
{
  if (!g)
    return;
  free(g->u);
  free(g->v);
  free(g->w);
  free(g);
}
