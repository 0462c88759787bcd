/* TSPLIB reader: symmetric TSP files (.tsp) and tours (.opt.tour).
 *
 * A small lexer walks the whole text in memory. Header lines are
 * `KEY: value` (any blanks around the colon, or none); inside a section
 * line breaks carry no meaning, so sections are read token by token.
 * Distances follow TSPLIB95; GEO truncates degrees ((int)x) as the
 * reference code and every published optimum do. The lexer runs on a
 * textio_src; number syntax and messages come from textio. Every failure
 * returns -1 with "label:LINE: reason" in err. No global mutable state. */
#include "formats/tsplib.h"

#include "formats/textio.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Largest DIMENSION accepted: the perm kernel's PERM_MAX_N, so a file too
 * big to solve is refused on its DIMENSION line. */
#define TSPLIB_MAX_NODES 100000
#define TSPLIB_MAX_COORD 5.0e8     /* keeps every distance inside int32 */
#define TL_PI 3.141592
#define TL_RRR 6378.388
#define TL_VALLEN 128              /* longest header value kept */

/* ---- lexer ------------------------------------------------------------ */

/* A token quoted by "%.*s": its first TEXTIO_SHOWLEN bytes. */
#define TL_SHOW(t) \
  (int)((t)->len < TEXTIO_SHOWLEN ? (t)->len : TEXTIO_SHOWLEN), (t)->s

static int tl_space(char c)
{
  return textio_blank(c) || c == '\n';
}

static void tl_skip_ws(textio_src *lx)
{
  while (lx->p < lx->end && tl_space(*lx->p)) {
    if (*lx->p == '\n')
      lx->line++;
    lx->p++;
  }
}

/* Look at the next blank-delimited token; 0 at the end of the text. */
static int tl_peek(textio_src *lx, textio_tok *t)
{
  const char *q;

  tl_skip_ws(lx);
  t->s = lx->p;
  t->line = lx->line;
  for (q = lx->p; q < lx->end && !tl_space(*q); q++)
    ;
  t->len = (size_t)(q - lx->p);
  return t->len > 0;
}

static void tl_take(textio_src *lx, const textio_tok *t)
{
  lx->p = t->s + t->len;
  lx->tok_line = t->line;
}

/* ---- numbers ---------------------------------------------------------- */

/* Value of a token that passed textio_is_num. */
static int tl_num(textio_src *lx, const textio_tok *t, double *out)
{
  if (textio_num(t, out))
    return textio_fail(lx, t->line, "cannot convert number '%.*s'",
                       TL_SHOW(t));
  return 0;
}

/* ---- keywords --------------------------------------------------------- */

enum {
  K_NONE, K_NAME, K_TYPE, K_COMMENT, K_DIMENSION, K_CAPACITY, K_EW_TYPE,
  K_EW_FORMAT, K_ED_FORMAT, K_NC_TYPE, K_DD_TYPE,
  K_SECTIONS,  /* keys from here on open a section */
  K_NODE_COORD = K_SECTIONS, K_EDGE_WEIGHT, K_DISPLAY, K_FIXED, K_DEPOT,
  K_DEMAND, K_EDGE_DATA, K_TOUR, K_EOF
};

static const char *const tl_key_names[] = {
  "", "NAME", "TYPE", "COMMENT", "DIMENSION", "CAPACITY",
  "EDGE_WEIGHT_TYPE", "EDGE_WEIGHT_FORMAT", "EDGE_DATA_FORMAT",
  "NODE_COORD_TYPE", "DISPLAY_DATA_TYPE", "NODE_COORD_SECTION",
  "EDGE_WEIGHT_SECTION", "DISPLAY_DATA_SECTION", "FIXED_EDGES_SECTION",
  "DEPOT_SECTION", "DEMAND_SECTION", "EDGE_DATA_SECTION", "TOUR_SECTION",
  "EOF"
};

static size_t tl_kw_len(const textio_tok *t)
{
  size_t i = 0;

  while (i < t->len && (isalnum((unsigned char)t->s[i]) || t->s[i] == '_'))
    i++;
  return i;
}

/* Key of the keyword that starts token t, or K_NONE. */
static int tl_key_of(const textio_tok *t)
{
  size_t len = tl_kw_len(t);
  int k;

  for (k = 1; k <= K_EOF; k++)
    if (strlen(tl_key_names[k]) == len &&
        memcmp(tl_key_names[k], t->s, len) == 0)
      return k;
  return K_NONE;
}

/* Consume the keyword that starts token t; its key, or -1. */
static int tl_key_take(textio_src *lx, const textio_tok *t)
{
  int key = tl_key_of(t);

  if (tl_kw_len(t) == 0)
    return textio_fail(lx, t->line, "unexpected token '%.*s'", TL_SHOW(t));
  if (key == K_NONE)
    return textio_fail(lx, t->line, "unknown keyword '%.*s'",
                       (int)tl_kw_len(t), t->s);
  lx->p = t->s + tl_kw_len(t);
  lx->tok_line = t->line;
  return key;
}

/* Skip blanks and one ':' on the current line. */
static void tl_skip_colon(textio_src *lx)
{
  while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t'))
    lx->p++;
  if (lx->p < lx->end && *lx->p == ':')
    lx->p++;
}

/* The rest of the line after a keyword and its ':', trimmed, in buf. */
static void tl_value(textio_src *lx, char *buf, size_t cap)
{
  const char *s, *e;
  size_t n;

  tl_skip_colon(lx);
  s = lx->p;
  while (lx->p < lx->end && *lx->p != '\n')
    lx->p++;
  e = lx->p;
  while (s < e && tl_space(*s))
    s++;
  while (e > s && tl_space(e[-1]))
    e--;
  n = (size_t)(e - s) < cap - 1 ? (size_t)(e - s) : cap - 1;
  memcpy(buf, s, n);
  buf[n] = '\0';
}

/* True when the first blank-delimited word of value equals word. */
static int tl_first_word_is(const char *value, const char *word)
{
  size_t n = strcspn(value, " \t");

  return n == strlen(word) && strncasecmp(value, word, n) == 0;
}

/* Next value of a section: 0 with *t a number (taken), 1 where the
 * section ends (end of text or a keyword; t->line says where), -1 on a
 * token that is not a number. */
static int tl_next_num(textio_src *lx, textio_tok *t, const char *sec)
{
  if (!tl_peek(lx, t)) {
    t->line = lx->tok_line;
    return 1;
  }
  if (textio_is_num(t)) {
    tl_take(lx, t);
    return 0;
  }
  if (tl_key_of(t) != K_NONE)
    return 1;
  if (textio_is_nonfinite(t))
    return textio_fail(lx, t->line, "value '%.*s' in %s is not finite",
                       TL_SHOW(t), sec);
  return textio_fail(lx, t->line, "non-numeric token '%.*s' in %s",
                     TL_SHOW(t), sec);
}

/* Skip a section the solver does not need: numbers up to a keyword. */
static int tl_skip_section(textio_src *lx, const char *sec)
{
  textio_tok t;
  int rc;

  while ((rc = tl_next_num(lx, &t, sec)) == 0)
    ;
  return rc < 0 ? -1 : 0;
}

static int tl_extra(textio_src *lx, const textio_tok *t, const char *sec)
{
  if (sec)
    return textio_fail(lx, t->line, "too many values: '%.*s' after the end "
                       "of %s", TL_SHOW(t), sec);
  return textio_fail(lx, t->line, "unexpected number '%.*s' outside any "
                     "section", TL_SHOW(t));
}

/* DIMENSION value: 3..TSPLIB_MAX_NODES. */
static int tl_dimension(textio_src *lx, const char *val, int line, int *n)
{
  textio_tok t = { val, strlen(val), line };
  int64_t v;

  if (!textio_is_int(&t))
    return textio_fail(lx, line, "DIMENSION '%.*s' is not an integer",
                       TL_SHOW(&t));
  v = textio_int(&t);
  if (v < 3)
    return textio_fail(lx, line, "DIMENSION %s is too small (need at least "
                       "3 nodes)", val);
  if (v > TSPLIB_MAX_NODES)
    return textio_fail(lx, line, "DIMENSION %s exceeds the limit of %d "
                       "nodes", val, TSPLIB_MAX_NODES);
  *n = (int)v;
  return 0;
}

/* ---- .tsp parser ------------------------------------------------------ */

enum {
  F_FUNCTION, F_FULL, F_UPPER_ROW, F_LOWER_ROW, F_UPPER_DIAG_ROW,
  F_LOWER_DIAG_ROW, F_UPPER_COL, F_LOWER_COL, F_UPPER_DIAG_COL,
  F_LOWER_DIAG_COL, F_COUNT
};

static const char *const tl_fmt_names[F_COUNT] = {
  "FUNCTION", "FULL_MATRIX", "UPPER_ROW", "LOWER_ROW", "UPPER_DIAG_ROW",
  "LOWER_DIAG_ROW", "UPPER_COL", "LOWER_COL", "UPPER_DIAG_COL",
  "LOWER_DIAG_COL"
};

static const char *const tl_metric_names[] = {
  "EXPLICIT", "EUC_2D", "CEIL_2D", "ATT", "GEO", "MAN_2D", "MAX_2D",
  "EUC_3D"
};

#define TL_NMETRICS (int)(sizeof tl_metric_names / sizeof *tl_metric_names)

typedef struct tl_tsp {
  textio_src lx;
  tsp_instance *t;
  int n;            /* 0 until DIMENSION */
  int metric;       /* -1 until EDGE_WEIGHT_TYPE */
  int fmt;          /* -1 until EDGE_WEIGHT_FORMAT */
  int coord_dims;   /* from NODE_COORD_TYPE; -1 when absent */
  int coord_line;   /* line of NODE_COORD_SECTION */
  unsigned seen;    /* one bit per keyword already given */
  const char *section;  /* last data section read */
} tl_tsp;

static int tl_lookup(const char *const *names, int count, const char *v)
{
  int k;

  for (k = 0; k < count; k++)
    if (strcasecmp(names[k], v) == 0)
      return k;
  return -1;
}

static int tl_tsp_type(tl_tsp *ps, const char *val, int line)
{
  if (tl_first_word_is(val, "TSP"))
    return 0;
  return textio_fail(&ps->lx, line, "TYPE %s is not supported (only "
                     "symmetric TSP is)", val);
}

static int tl_coord_type(tl_tsp *ps, const char *val, int line)
{
  if (strcasecmp(val, "TWOD_COORDS") == 0)
    ps->coord_dims = 2;
  else if (strcasecmp(val, "THREED_COORDS") == 0)
    ps->coord_dims = 3;
  else if (strcasecmp(val, "NO_COORDS") == 0)
    ps->coord_dims = 0;
  else
    return textio_fail(&ps->lx, line, "unknown NODE_COORD_TYPE '%s'", val);
  return 0;
}

/* A `KEY: value` line. */
static int tl_tsp_spec(tl_tsp *ps, int key, int line)
{
  char val[TL_VALLEN];

  tl_value(&ps->lx, val, sizeof val);
  if (!val[0] && key != K_COMMENT && key != K_NAME)
    return textio_fail(&ps->lx, line, "%s has no value", tl_key_names[key]);
  switch (key) {
  case K_NAME:
    snprintf(ps->t->name, sizeof ps->t->name, "%s", val);
    return 0;
  case K_TYPE:
    return tl_tsp_type(ps, val, line);
  case K_DIMENSION:
    return tl_dimension(&ps->lx, val, line, &ps->n);
  case K_EW_TYPE:
    ps->metric = tl_lookup(tl_metric_names, TL_NMETRICS, val);
    if (ps->metric < 0)
      return textio_fail(&ps->lx, line, "unknown or unsupported "
                         "EDGE_WEIGHT_TYPE '%s'", val);
    return 0;
  case K_EW_FORMAT:
    ps->fmt = tl_lookup(tl_fmt_names, F_COUNT, val);
    if (ps->fmt < 0)
      return textio_fail(&ps->lx, line, "unknown EDGE_WEIGHT_FORMAT '%s'",
                         val);
    return 0;
  case K_NC_TYPE:
    return tl_coord_type(ps, val, line);
  default:
    return 0;  /* COMMENT, CAPACITY, EDGE_DATA_FORMAT, DISPLAY_DATA_TYPE */
  }
}

/* One node of NODE_COORD_SECTION: id then dims coordinates. */
static int tl_read_node(tl_tsp *ps, char *seen, int k)
{
  const char *sec = "NODE_COORD_SECTION";
  tsp_instance *t = ps->t;
  textio_tok tok;
  int64_t id;
  int d, rc;

  rc = tl_next_num(&ps->lx, &tok, sec);
  if (rc > 0) {
    for (d = 0; seen[d]; d++)
      ;
    return textio_fail(&ps->lx, tok.line, "too few values: %s ends after %d "
                       "of %d nodes (node %d missing)", sec, k, ps->n, d + 1);
  }
  if (rc < 0)
    return -1;
  if (!textio_is_int(&tok))
    return textio_fail(&ps->lx, tok.line, "node id '%.*s' is not an integer",
                       TL_SHOW(&tok));
  id = textio_int(&tok);
  if (id < 1 || id > ps->n)
    return textio_fail(&ps->lx, tok.line, "node id %.*s out of range 1..%d",
                       TL_SHOW(&tok), ps->n);
  if (seen[id - 1])
    return textio_fail(&ps->lx, tok.line, "node id %d repeated", (int)id);
  seen[id - 1] = 1;
  for (d = 0; d < t->dims; d++) {
    double *x = &t->coords[(size_t)(id - 1) * (size_t)t->dims + (size_t)d];

    rc = tl_next_num(&ps->lx, &tok, sec);
    if (rc > 0)
      return textio_fail(&ps->lx, tok.line, "too few values: node %d has %d "
                         "of %d coordinates", (int)id, d, t->dims);
    if (rc < 0 || tl_num(&ps->lx, &tok, x))
      return -1;
    if (!isfinite(*x))
      return textio_fail(&ps->lx, tok.line, "coordinate '%.*s' is not finite",
                         TL_SHOW(&tok));
    if (fabs(*x) > TSPLIB_MAX_COORD)
      return textio_fail(&ps->lx, tok.line, "coordinate '%.*s' out of range "
                         "(|x| <= %g)", TL_SHOW(&tok), TSPLIB_MAX_COORD);
  }
  return 0;
}

static int tl_read_coords(tl_tsp *ps, int line)
{
  tsp_instance *t = ps->t;
  char *seen;
  int k, rc = 0;

  if (!ps->n)
    return textio_fail(&ps->lx, line, "missing DIMENSION before "
                       "NODE_COORD_SECTION");
  if (ps->coord_dims == 0)
    return textio_fail(&ps->lx, line, "NODE_COORD_SECTION but "
                       "NODE_COORD_TYPE is NO_COORDS");
  t->dims = ps->coord_dims > 0 ? ps->coord_dims
            : ps->metric == TSP_METRIC_EUC_3D ? 3 : 2;
  t->coords = malloc((size_t)ps->n * (size_t)t->dims * sizeof(double));
  seen = calloc((size_t)ps->n, 1);
  if (!t->coords || !seen) {
    free(seen);
    return textio_fail(&ps->lx, line, "out of memory for %d nodes", ps->n);
  }
  ps->coord_line = line;
  for (k = 0; k < ps->n && rc == 0; k++)
    rc = tl_read_node(ps, seen, k);
  free(seen);
  ps->section = "NODE_COORD_SECTION";
  return rc;
}

/* Columns [lo, hi) of row i that a row-wise format lists. The *_COL
 * formats list the same numbers as the mirrored *_ROW format. */
static void tl_row_range(int fmt, int n, int i, int *lo, int *hi)
{
  switch (fmt) {
  case F_UPPER_ROW: case F_LOWER_COL:
    *lo = i + 1; *hi = n; break;
  case F_UPPER_DIAG_ROW: case F_LOWER_DIAG_COL:
    *lo = i; *hi = n; break;
  case F_LOWER_ROW: case F_UPPER_COL:
    *lo = 0; *hi = i; break;
  case F_LOWER_DIAG_ROW: case F_UPPER_DIAG_COL:
    *lo = 0; *hi = i + 1; break;
  default:
    *lo = 0; *hi = n; break;
  }
}

static int64_t tl_fmt_count(int fmt, int n)
{
  int64_t m = n;

  switch (fmt) {
  case F_FULL:
    return m * m;
  case F_UPPER_ROW: case F_LOWER_COL: case F_LOWER_ROW: case F_UPPER_COL:
    return m * (m - 1) / 2;
  default:
    return m * (m + 1) / 2;
  }
}

/* One explicit weight: a non-negative integer that fits int32. */
static int tl_weight(textio_src *lx, const textio_tok *tok, int32_t *w)
{
  double v;

  if (tl_num(lx, tok, &v))
    return -1;
  if (!isfinite(v))
    return textio_fail(lx, tok->line, "weight '%.*s' is not finite",
                       TL_SHOW(tok));
  if (v < 0)
    return textio_fail(lx, tok->line, "negative weight '%.*s'", TL_SHOW(tok));
  if (v != floor(v))
    return textio_fail(lx, tok->line, "weight '%.*s' is not an integer",
                       TL_SHOW(tok));
  if (v > INT32_MAX)
    return textio_fail(lx, tok->line, "weight '%.*s' out of range",
                       TL_SHOW(tok));
  *w = (int32_t)v;
  return 0;
}

static int tl_weights_ready(tl_tsp *ps, int line)
{
  const char *sec = "EDGE_WEIGHT_SECTION";

  if (!ps->n)
    return textio_fail(&ps->lx, line, "missing DIMENSION before %s", sec);
  if (ps->metric < 0)
    return textio_fail(&ps->lx, line, "missing EDGE_WEIGHT_TYPE before %s",
                       sec);
  if (ps->metric != TSP_METRIC_EXPLICIT)
    return textio_fail(&ps->lx, line, "%s needs EDGE_WEIGHT_TYPE EXPLICIT, "
                       "not %s", sec, tl_metric_names[ps->metric]);
  if (ps->fmt < 0)
    return textio_fail(&ps->lx, line, "missing EDGE_WEIGHT_FORMAT before %s",
                       sec);
  if (ps->fmt == F_FUNCTION)
    return textio_fail(&ps->lx, line, "%s with EDGE_WEIGHT_FORMAT FUNCTION",
                       sec);
  if ((uint64_t)tl_fmt_count(F_FULL, ps->n) > SIZE_MAX / sizeof(int32_t))
    return textio_fail(&ps->lx, line, "DIMENSION %d too large for a matrix",
                       ps->n);
  return 0;
}

/* Append w to the growing list of weights, checking FULL_MATRIX
 * symmetry against the mirrored entry already read. */
static int tl_push_weight(tl_tsp *ps, int32_t **vals, size_t *cap,
                          int64_t got, int64_t want, const textio_tok *tok,
                          int32_t w)
{
  size_t k = (size_t)got, n = (size_t)ps->n;

  if (ps->fmt == F_FULL && k % n < k / n &&
      (*vals)[(k % n) * n + k / n] != w)
    return textio_fail(&ps->lx, tok->line, "FULL_MATRIX is not symmetric: "
                       "d(%zu,%zu) = %d but d(%zu,%zu) = %d", k / n + 1,
                       k % n + 1, (int)w, k % n + 1, k / n + 1,
                       (int)(*vals)[(k % n) * n + k / n]);
  if (k == *cap) {
    size_t ncap = *cap ? *cap * 2 : 1024;
    int32_t *nv;

    if (ncap > (size_t)want)
      ncap = (size_t)want;
    nv = realloc(*vals, ncap * sizeof **vals);
    if (!nv)
      return textio_fail(&ps->lx, tok->line, "out of memory for weights");
    *vals = nv;
    *cap = ncap;
  }
  (*vals)[k] = w;
  return 0;
}

static void tl_build_matrix(const tl_tsp *ps, const int32_t *vals,
                            int32_t *m)
{
  size_t k = 0, n = (size_t)ps->n;
  int i, j, lo, hi;

  for (i = 0; i < ps->n; i++) {
    tl_row_range(ps->fmt, ps->n, i, &lo, &hi);
    for (j = lo; j < hi; j++) {
      m[(size_t)i * n + (size_t)j] = vals[k];
      m[(size_t)j * n + (size_t)i] = vals[k];
      k++;
    }
  }
}

static int tl_read_weights(tl_tsp *ps, int line)
{
  const char *sec = "EDGE_WEIGHT_SECTION";
  int32_t *vals = NULL, w = 0;
  size_t cap = 0;
  int64_t got, want;
  textio_tok tok;
  int rc = 0;

  if (tl_weights_ready(ps, line))
    return -1;
  want = tl_fmt_count(ps->fmt, ps->n);
  for (got = 0; got < want && rc == 0; got++) {
    rc = tl_next_num(&ps->lx, &tok, sec);
    if (rc > 0)
      rc = textio_fail(&ps->lx, tok.line, "too few values: %s ends after "
                       "%lld of %lld weights (%s, DIMENSION %d)", sec,
                       (long long)got, (long long)want, tl_fmt_names[ps->fmt],
                       ps->n);
    if (rc == 0)
      rc = tl_weight(&ps->lx, &tok, &w);
    if (rc == 0)
      rc = tl_push_weight(ps, &vals, &cap, got, want, &tok, w);
  }
  if (rc == 0) {
    ps->t->matrix = calloc((size_t)ps->n * (size_t)ps->n, sizeof(int32_t));
    if (!ps->t->matrix)
      rc = textio_fail(&ps->lx, line, "out of memory for a %d x %d matrix",
                       ps->n, ps->n);
    else
      tl_build_matrix(ps, vals, ps->t->matrix);
  }
  free(vals);
  ps->section = sec;
  return rc;
}

static int tl_tsp_section(tl_tsp *ps, int key, int line)
{
  tl_skip_colon(&ps->lx);
  if (key == K_NODE_COORD)
    return tl_read_coords(ps, line);
  if (key == K_EDGE_WEIGHT)
    return tl_read_weights(ps, line);
  return tl_skip_section(&ps->lx, tl_key_names[key]);
}

static int tl_tsp_parse(tl_tsp *ps)
{
  textio_tok tok;
  int key, rc;

  while (tl_peek(&ps->lx, &tok)) {
    if (textio_is_num(&tok))
      return tl_extra(&ps->lx, &tok, ps->section);
    key = tl_key_take(&ps->lx, &tok);
    if (key < 0)
      return -1;
    if (key == K_EOF)
      return 0;
    if (key != K_COMMENT && (ps->seen & (1u << key)))
      return textio_fail(&ps->lx, tok.line, "repeated %s", tl_key_names[key]);
    ps->seen |= 1u << key;
    rc = key < K_SECTIONS ? tl_tsp_spec(ps, key, tok.line)
                          : tl_tsp_section(ps, key, tok.line);
    if (rc)
      return -1;
  }
  return 0;
}

static int tl_tsp_finish(tl_tsp *ps)
{
  tsp_instance *t = ps->t;
  int line = ps->lx.tok_line, want;

  if (!ps->n)
    return textio_fail(&ps->lx, line, "missing DIMENSION");
  if (ps->metric < 0)
    return textio_fail(&ps->lx, line, "missing EDGE_WEIGHT_TYPE");
  t->n = ps->n;
  t->metric = (tsp_metric)ps->metric;
  if (ps->metric == TSP_METRIC_EXPLICIT) {
    if (!t->matrix)
      return textio_fail(&ps->lx, line, "missing EDGE_WEIGHT_SECTION for "
                         "EDGE_WEIGHT_TYPE EXPLICIT");
    free(t->coords);
    t->coords = NULL;
    t->dims = 0;
    return 0;
  }
  if (!t->coords)
    return textio_fail(&ps->lx, line, "missing NODE_COORD_SECTION for "
                       "EDGE_WEIGHT_TYPE %s", tl_metric_names[ps->metric]);
  want = ps->metric == TSP_METRIC_EUC_3D ? 3 : 2;
  if (t->dims != want)
    return textio_fail(&ps->lx, ps->coord_line, "EDGE_WEIGHT_TYPE %s needs %d "
                       "coordinates per node, NODE_COORD_SECTION has %d",
                       tl_metric_names[ps->metric], want, t->dims);
  free(t->matrix);
  t->matrix = NULL;
  return 0;
}

int tsplib_read_string(const char *text, size_t len, const char *label,
                       tsp_instance **out, char *err, size_t errlen)
{
  tl_tsp ps;

  memset(&ps, 0, sizeof ps);
  textio_init(&ps.lx, text, len, label, err, errlen);
  *out = NULL;
  ps.metric = -1;
  ps.fmt = -1;
  ps.coord_dims = -1;
  ps.t = calloc(1, sizeof *ps.t);
  if (!ps.t)
    return textio_fail(&ps.lx, 1, "out of memory");
  if (tl_tsp_parse(&ps) || tl_tsp_finish(&ps)) {
    tsplib_free(ps.t);
    return -1;
  }
  *out = ps.t;
  return 0;
}

/* ---- files ------------------------------------------------------------ */

int tsplib_read_file(const char *path, tsp_instance **out,
                     char *err, size_t errlen)
{
  char *buf;
  size_t len;
  int rc;

  *out = NULL;
  errno = 0;
  if (textio_slurp(path, &buf, &len, err, errlen))
    return -1;
  rc = tsplib_read_string(buf, len, path, out, err, errlen);
  free(buf);
  return rc;
}

void tsplib_free(tsp_instance *t)
{
  if (!t)
    return;
  free(t->coords);
  free(t->matrix);
  free(t);
}

/* ---- distances -------------------------------------------------------- */

static int32_t tl_nint(double x)
{
  return (int32_t)(x + 0.5);
}

/* TSPLIB GEO: DDD.MM degrees and minutes to radians, degrees truncated. */
static double tl_geo_rad(double x)
{
  int deg = (int)x;
  double min = x - deg;

  return TL_PI * (deg + 5.0 * min / 3.0) / 180.0;
}

static int32_t tl_geo(const double *a, const double *b)
{
  double lat_a = tl_geo_rad(a[0]), lon_a = tl_geo_rad(a[1]);
  double lat_b = tl_geo_rad(b[0]), lon_b = tl_geo_rad(b[1]);
  double q1 = cos(lon_a - lon_b);
  double q2 = cos(lat_a - lat_b);
  double q3 = cos(lat_a + lat_b);
  double c = 0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3);

  c = c > 1.0 ? 1.0 : c < -1.0 ? -1.0 : c;
  return (int32_t)(TL_RRR * acos(c) + 1.0);
}

static int32_t tl_att(double xd, double yd)
{
  double r = sqrt((xd * xd + yd * yd) / 10.0);
  int32_t t = tl_nint(r);

  return t < r ? t + 1 : t;
}

static int32_t tl_coord_dist(const tsp_instance *t, const double *a,
                             const double *b)
{
  double xd = fabs(a[0] - b[0]), yd = fabs(a[1] - b[1]);
  double zd = t->dims == 3 ? fabs(a[2] - b[2]) : 0.0;
  int32_t mx, my;

  switch (t->metric) {
  case TSP_METRIC_CEIL_2D:
    return (int32_t)ceil(sqrt(xd * xd + yd * yd));
  case TSP_METRIC_ATT:
    return tl_att(xd, yd);
  case TSP_METRIC_GEO:
    return tl_geo(a, b);
  case TSP_METRIC_MAN_2D:
    return tl_nint(xd + yd);
  case TSP_METRIC_MAX_2D:
    mx = tl_nint(xd);
    my = tl_nint(yd);
    return mx > my ? mx : my;
  case TSP_METRIC_EUC_3D:
    return tl_nint(sqrt(xd * xd + yd * yd + zd * zd));
  default:
    return tl_nint(sqrt(xd * xd + yd * yd));
  }
}

int32_t tsplib_dist(const tsp_instance *t, int i, int j)
{
  size_t d = (size_t)t->dims;

  if (t->metric == TSP_METRIC_EXPLICIT)
    return t->matrix[(size_t)i * (size_t)t->n + (size_t)j];
  if (i == j)
    return 0;
  return tl_coord_dist(t, t->coords + (size_t)i * d,
                       t->coords + (size_t)j * d);
}

void tsplib_fill_matrix(const tsp_instance *t, int32_t *matrix)
{
  size_t n = (size_t)t->n;
  int i, j;

  if (t->metric == TSP_METRIC_EXPLICIT) {
    memcpy(matrix, t->matrix, n * n * sizeof *matrix);
    return;
  }
  for (i = 0; i < t->n; i++) {
    matrix[(size_t)i * n + (size_t)i] = 0;
    for (j = i + 1; j < t->n; j++) {
      int32_t d = tsplib_dist(t, i, j);

      matrix[(size_t)i * n + (size_t)j] = d;
      matrix[(size_t)j * n + (size_t)i] = d;
    }
  }
}

int64_t tsplib_tour_length(const tsp_instance *t, const int32_t *tour)
{
  int64_t sum = 0;
  int k;

  for (k = 0; k < t->n; k++)
    sum += tsplib_dist(t, tour[k], tour[k + 1 < t->n ? k + 1 : 0]);
  return sum;
}

/* ---- .opt.tour parser ------------------------------------------------- */

typedef struct tl_tour {
  textio_src lx;
  int n;            /* DIMENSION, 0 when absent */
  int32_t *ids;     /* 0-based ids in tour order */
  int *lines;       /* line of each id */
  size_t count, cap;
  int have_section;
  int end_line;     /* where TOUR_SECTION ended */
  unsigned seen;
  const char *section;
} tl_tour;

static int tl_tour_push(tl_tour *tr, const textio_tok *tok, int64_t id)
{
  size_t lim = tr->n ? (size_t)tr->n : TSPLIB_MAX_NODES;

  if (id < 1 || id > (int64_t)lim)
    return textio_fail(&tr->lx, tok->line, "node id %.*s out of range 1..%zu "
                       "(not a permutation)", TL_SHOW(tok), lim);
  if (tr->count == lim)
    return textio_fail(&tr->lx, tok->line, "too many values in TOUR_SECTION: "
                       "more than %zu ids", lim);
  if (tr->count == tr->cap) {
    size_t ncap = tr->cap ? tr->cap * 2 : 256;
    int32_t *ni = realloc(tr->ids, ncap * sizeof *ni);
    int *nl;

    if (ni)
      tr->ids = ni;
    nl = ni ? realloc(tr->lines, ncap * sizeof *nl) : NULL;
    if (!nl)
      return textio_fail(&tr->lx, tok->line, "out of memory for the tour");
    tr->lines = nl;
    tr->cap = ncap;
  }
  tr->ids[tr->count] = (int32_t)(id - 1);
  tr->lines[tr->count] = tok->line;
  tr->count++;
  return 0;
}

/* TOUR_SECTION: ids up to -1, a keyword or the end of the text. */
static int tl_tour_section(tl_tour *tr)
{
  const char *sec = "TOUR_SECTION";
  textio_tok tok;
  int rc;

  tr->have_section = 1;
  tr->section = sec;
  for (;;) {
    rc = tl_next_num(&tr->lx, &tok, sec);
    if (rc < 0)
      return -1;
    tr->end_line = tok.line;
    if (rc > 0)
      return 0;
    if (!textio_is_int(&tok))
      return textio_fail(&tr->lx, tok.line, "node id '%.*s' is not an "
                         "integer", TL_SHOW(&tok));
    if (textio_int(&tok) == -1)
      return 0;
    if (tl_tour_push(tr, &tok, textio_int(&tok)))
      return -1;
  }
}

static int tl_tour_key(tl_tour *tr, int key, int line)
{
  char val[TL_VALLEN];

  if (key == K_TOUR) {
    tl_skip_colon(&tr->lx);
    return tl_tour_section(tr);
  }
  if (key >= K_SECTIONS)
    return tl_skip_section(&tr->lx, tl_key_names[key]);
  tl_value(&tr->lx, val, sizeof val);
  if (key == K_TYPE && !tl_first_word_is(val, "TOUR"))
    return textio_fail(&tr->lx, line, "TYPE %s is not a tour (expected "
                       "TOUR)", val);
  if (key == K_DIMENSION)
    return tl_dimension(&tr->lx, val, line, &tr->n);
  return 0;
}

static int tl_tour_parse(tl_tour *tr)
{
  textio_tok tok;
  int key;

  while (tl_peek(&tr->lx, &tok)) {
    if (textio_is_num(&tok))
      return tl_extra(&tr->lx, &tok, tr->section);
    key = tl_key_take(&tr->lx, &tok);
    if (key < 0)
      return -1;
    if (key == K_EOF)
      return 0;
    if (key != K_COMMENT && (tr->seen & (1u << key)))
      return textio_fail(&tr->lx, tok.line, "repeated %s", tl_key_names[key]);
    tr->seen |= 1u << key;
    if (tl_tour_key(tr, key, tok.line))
      return -1;
  }
  return 0;
}

/* The ids must be a permutation of 1..n. */
static int tl_tour_finish(tl_tour *tr)
{
  size_t n, k;
  int *first;

  if (!tr->have_section)
    return textio_fail(&tr->lx, tr->lx.tok_line, "missing TOUR_SECTION");
  n = tr->n ? (size_t)tr->n : tr->count;
  if (tr->count < n || n < 3)
    return textio_fail(&tr->lx, tr->end_line, "too few values: TOUR_SECTION "
                       "has %zu of %zu node ids", tr->count, n < 3 ? 3 : n);
  first = calloc(n, sizeof *first);
  if (!first)
    return textio_fail(&tr->lx, tr->end_line, "out of memory for the tour");
  for (k = 0; k < tr->count; k++) {
    size_t id = (size_t)tr->ids[k];

    if (id >= n || first[id]) {
      int line = id >= n ? 0 : first[id];

      free(first);
      if (!line)
        return textio_fail(&tr->lx, tr->lines[k], "node id %zu out of range "
                           "1..%zu (not a permutation)", id + 1, n);
      return textio_fail(&tr->lx, tr->lines[k], "node id %zu repeated (first "
                         "on line %d; not a permutation)", id + 1, line);
    }
    first[id] = tr->lines[k];
  }
  free(first);
  tr->n = (int)n;
  return 0;
}

int tsplib_read_tour(const char *path, int32_t **tour, int *n,
                     char *err, size_t errlen)
{
  tl_tour tr;
  char *buf;
  size_t len;
  int rc;

  *tour = NULL;
  *n = 0;
  if (textio_slurp(path, &buf, &len, err, errlen))
    return -1;
  memset(&tr, 0, sizeof tr);
  textio_init(&tr.lx, buf, len, path, err, errlen);
  rc = tl_tour_parse(&tr);
  if (rc == 0)
    rc = tl_tour_finish(&tr);
  free(buf);
  free(tr.lines);
  if (rc) {
    free(tr.ids);
    return -1;
  }
  *tour = tr.ids;
  *n = tr.n;
  return 0;
}
