/* rudy reader: G-set style Max-Cut graphs ("n m" then m lines "i j w").
 *
 * The text is read line by line in memory: each record sits on one line,
 * so a short or long line is reported where it is instead of shifting
 * every later value. Repeated edges are found with a hash set of vertex
 * pairs (textio_seen) that remembers the line of each pair. Arrays grow
 * as edges arrive (never sized from the header alone, so a lying header
 * costs no memory). Lines, tokens, numbers and messages come from
 * textio. Every failure returns -1 with "label:LINE: reason" in err. No
 * global mutable state. */
#include "formats/rudy.h"

#include "formats/textio.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RD_FIRST_CAP 4096          /* first capacity of the edge arrays */
#define RD_FAIL(ps, ...) textio_fail(&(ps)->src, __VA_ARGS__)
#define RD_SHOW(t) textio_show(t).s

typedef struct rd_parse {
  textio_src src;      /* src.tok_line: last line that held a record */
  rudy_graph *g;
  int64_t want;        /* m from the header */
  int64_t cap;         /* capacity of g->u, g->v, g->w */
  int head_line;
  double abs_sum;
  textio_seen set;
} rd_parse;

/* ---- header ----------------------------------------------------------- */

static int rd_count(rd_parse *ps, const textio_line *ln, int k,
                    const char *what, int64_t *v)
{
  const textio_tok *t = &ln->tok[k];

  if (!textio_is_int(t))
    return RD_FAIL(ps, ln->line, "%s '%s' in the header is not an "
                   "integer", what, RD_SHOW(t));
  *v = textio_int(t);
  return 0;
}

static int rd_check_n(rd_parse *ps, const textio_line *ln, int64_t n)
{
  if (n < 1)
    return RD_FAIL(ps, ln->line, "vertex count %lld in the header: need "
                   "at least 1 vertex", (long long)n);
  if (n > RUDY_MAX_VERTICES)
    return RD_FAIL(ps, ln->line, "vertex count %s exceeds the limit of "
                   "%d vertices", RD_SHOW(&ln->tok[0]), RUDY_MAX_VERTICES);
  return 0;
}

static int rd_check_m(rd_parse *ps, const textio_line *ln, int64_t n,
                      int64_t m)
{
  int64_t most = n * (n - 1) / 2;

  if (m < 0)
    return RD_FAIL(ps, ln->line, "negative edge count %lld in the header",
                   (long long)m);
  if (m > RUDY_MAX_EDGES)
    return RD_FAIL(ps, ln->line, "edge count %s exceeds the limit of "
                   "%lld edges", RD_SHOW(&ln->tok[1]), RUDY_MAX_EDGES);
  if (m > most)
    return RD_FAIL(ps, ln->line, "edge count %lld exceeds %lld, the most "
                   "a graph on %lld vertices has without self-loops or "
                   "repeated edges", (long long)m, (long long)most,
                   (long long)n);
  return 0;
}

static int rd_header(rd_parse *ps)
{
  textio_line ln;
  int64_t n = 0, m = 0;

  if (!textio_next_line(&ps->src, &ln))
    return RD_FAIL(ps, 1, "empty file: expected the header 'n m' "
                   "(vertex and edge counts)");
  ps->head_line = ln.line;
  if (ln.ntok != 2)
    return RD_FAIL(ps, ln.line, "header must be 'n m' (vertex and edge "
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

/* ---- edges ------------------------------------------------------------ */

static int rd_weight_value(rd_parse *ps, const textio_line *ln, double *w)
{
  const textio_tok *t = &ln->tok[2];
  double v;

  if (textio_real(&ps->src, t, "weight", &v))
    return -1;
  if (fabs(v) > RUDY_MAX_WEIGHT)
    return RD_FAIL(ps, ln->line, "weight '%s' exceeds the limit |w| <= "
                   "%.0f (2^31-1)", RD_SHOW(t), RUDY_MAX_WEIGHT);
  *w = v;
  return 0;
}

static int rd_weight(rd_parse *ps, const textio_line *ln, double *w)
{
  if (rd_weight_value(ps, ln, w))
    return -1;
  ps->abs_sum += fabs(*w);
  if (ps->abs_sum > RUDY_MAX_ABS_SUM)
    return RD_FAIL(ps, ln->line, "sum of |w| over the edges exceeds 2^53 "
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
    return RD_FAIL(ps, line, "out of memory for %lld edges",
                   (long long)cap);
  g->w = w;
  ps->cap = cap;
  return 0;
}

/* The pair (a, b) of ln must not be a self-loop or a repeat. */
static int rd_pair(rd_parse *ps, const textio_line *ln, int32_t a, int32_t b)
{
  uint64_t lo = (uint64_t)(a < b ? a : b), hi = (uint64_t)(a < b ? b : a);
  int first = 0, rc;

  if (a == b)
    return RD_FAIL(ps, ln->line, "self-loop on vertex %d: a self-loop "
                   "never crosses a cut", a + 1);
  rc = textio_seen_add(&ps->set, lo << 32 | hi, ln->line, &first);
  if (rc < 0)
    return RD_FAIL(ps, ln->line, "out of memory");
  if (rc > 0)
    return RD_FAIL(ps, ln->line, "repeated edge %d-%d (first given on "
                   "line %d)", a + 1, b + 1, first);
  return 0;
}

static int rd_edge(rd_parse *ps, const textio_line *ln)
{
  rudy_graph *g = ps->g;
  int32_t a = 0, b = 0;
  double w = 0;

  if (g->m == ps->want)
    return RD_FAIL(ps, ln->line, "extra line after the %lld edges given "
                   "in the header (line %d)", (long long)ps->want,
                   ps->head_line);
  if (ln->ntok != 3)
    return RD_FAIL(ps, ln->line, "expected an edge 'i j w', found %s%d "
                   "value%s", ln->ntok > 3 ? "at least " : "", ln->ntok,
                   ln->ntok == 1 ? "" : "s");
  if (textio_id(&ps->src, &ln->tok[0], g->n, "vertex", &a) ||
      textio_id(&ps->src, &ln->tok[1], g->n, "vertex", &b) ||
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
  textio_line ln;

  if (rd_header(ps))
    return -1;
  while (textio_next_line(&ps->src, &ln)) {
    if (rd_edge(ps, &ln))
      return -1;
  }
  if (ps->g->m < ps->want)
    return RD_FAIL(ps, ps->src.tok_line, "file ends after %lld of the %lld "
                   "edges given in the header (line %d)",
                   (long long)ps->g->m, (long long)ps->want, ps->head_line);
  return 0;
}

/* ---- entry points ----------------------------------------------------- */

int rudy_read_string(const char *text, size_t len, const char *label,
                     rudy_graph **out, char *err, size_t errlen)
{
  rd_parse ps;
  int rc;

  memset(&ps, 0, sizeof ps);
  textio_init(&ps.src, text, len, label, err, errlen);
  *out = NULL;
  ps.g = calloc(1, sizeof *ps.g);
  if (!ps.g)
    return RD_FAIL(&ps, 1, "out of memory");
  ps.g->integral = 1;
  rc = rd_parse_text(&ps);
  textio_seen_free(&ps.set);
  if (rc) {
    rudy_free(ps.g);
    return -1;
  }
  *out = ps.g;
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
  if (textio_slurp(path, &buf, &len, err, errlen))
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
