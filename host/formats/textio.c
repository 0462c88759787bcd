/* textio: text machinery shared by the format readers (see textio.h).
 *
 * Reading a file whole, the line and token scanner, number syntax and
 * conversion, "label:LINE: reason" messages, and the set of keys that
 * remembers where each was first seen. No global mutable state. */
#include "formats/textio.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- source and errors ------------------------------------------------ */

void textio_init(textio_src *src, const char *text, size_t len,
                 const char *label, char *err, size_t errlen)
{
  src->p = text ? text : "";
  src->end = src->p + (text ? len : 0);
  src->line = 1;
  src->tok_line = 1;
  src->label = label ? label : "<string>";
  src->err = err;
  src->errlen = errlen;
  if (src->end - src->p >= 3 && memcmp(src->p, "\xEF\xBB\xBF", 3) == 0)
    src->p += 3;  /* UTF-8 byte order mark */
  if (err && errlen)
    err[0] = '\0';
}

static int textio_printable_byte(unsigned char c)
{
  return c >= 0x20 && c < 0x7f;
}

/* Replace bytes that are not printable ASCII by '?': a reason may quote
 * binary garbage or terminal escapes from the file. */
static void textio_printable(char *s)
{
  for (; *s; s++)
    if (!textio_printable_byte((unsigned char)*s))
      *s = '?';
}

int textio_fail(const textio_src *src, int line, const char *fmt, ...)
{
  va_list ap;
  int k;

  if (!src->err || src->errlen == 0)
    return -1;
  k = snprintf(src->err, src->errlen, "%s:%d: ", src->label, line);
  if (k >= 0 && (size_t)k < src->errlen) {
    va_start(ap, fmt);
    vsnprintf(src->err + k, src->errlen - (size_t)k, fmt, ap);
    va_end(ap);
    textio_printable(src->err + k);
  }
  return -1;
}

textio_shown textio_show(const textio_tok *t)
{
  textio_shown q;
  size_t k, n = t->len < TEXTIO_SHOWLEN ? t->len : TEXTIO_SHOWLEN;

  for (k = 0; k < n; k++) {
    unsigned char c = (unsigned char)t->s[k];

    q.s[k] = textio_printable_byte(c) ? (char)c : '?';
  }
  strcpy(q.s + n, t->len > n ? "..." : "");
  return q;
}

/* ---- files ------------------------------------------------------------ */

static int textio_os_fail(const char *path, const char *what, int e,
                          char *err, size_t errlen)
{
  char msg[128];

  if (strerror_r(e, msg, sizeof msg) != 0)
    snprintf(msg, sizeof msg, "error %d", e);
  if (err && errlen)
    snprintf(err, errlen, "%s:0: %s (%s)", path, what, msg);
  return -1;
}

/* Read f to its end into *buf (grown as needed); 0, ENOMEM or the
 * stream's error. */
static int textio_read_all(FILE *f, char **buf, size_t *len)
{
  size_t cap = 0, got;
  char *nb;

  for (;;) {
    if (*len == cap) {
      cap = cap ? cap * 2 : 65536;
      nb = cap > *len ? realloc(*buf, cap) : NULL;
      if (!nb)
        return ENOMEM;
      *buf = nb;
    }
    got = fread(*buf + *len, 1, cap - *len, f);
    *len += got;
    if (got == 0)
      break;
  }
  return ferror(f) ? (errno ? errno : EIO) : 0;
}

int textio_slurp(const char *path, char **buf, size_t *len, char *err,
                 size_t errlen)
{
  FILE *f = fopen(path, "rb");
  char *b = NULL;
  int e;

  *buf = NULL;
  *len = 0;
  if (!f)
    return textio_os_fail(path, "cannot open file", errno, err, errlen);
  e = textio_read_all(f, &b, len);
  fclose(f);
  if (e) {
    free(b);
    *len = 0;
    return textio_os_fail(path, "cannot read file", e, err, errlen);
  }
  *buf = b;
  return 0;
}

/* ---- lines and tokens ------------------------------------------------- */

int textio_blank(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Split [s, e) into at most TEXTIO_LINE_TOKS tokens; returns how many. */
static int textio_split(const char *s, const char *e, int line,
                        textio_tok *tok)
{
  int n = 0;

  while (n < TEXTIO_LINE_TOKS) {
    while (s < e && textio_blank(*s))
      s++;
    if (s == e)
      break;
    tok[n].s = s;
    tok[n].line = line;
    while (s < e && !textio_blank(*s))
      s++;
    tok[n].len = (size_t)(s - tok[n].s);
    n++;
  }
  return n;
}

int textio_next_line(textio_src *src, textio_line *ln)
{
  const char *e;

  while (src->p < src->end) {
    e = memchr(src->p, '\n', (size_t)(src->end - src->p));
    if (!e)
      e = src->end;
    ln->line = src->line;
    ln->ntok = textio_split(src->p, e, src->line, ln->tok);
    src->p = e < src->end ? e + 1 : e;
    if (src->line < INT_MAX)
      src->line++;  /* saturates on absurd runs of blank lines */
    if (ln->ntok > 0) {
      src->tok_line = ln->line;
      return 1;
    }
  }
  return 0;
}

/* ---- numbers ---------------------------------------------------------- */

static int textio_digits(const textio_tok *t, size_t *i)
{
  size_t start = *i;

  while (*i < t->len && isdigit((unsigned char)t->s[*i]))
    (*i)++;
  return *i > start;
}

static size_t textio_sign(const textio_tok *t)
{
  return t->len && (t->s[0] == '+' || t->s[0] == '-');
}

int textio_is_int(const textio_tok *t)
{
  size_t i = textio_sign(t);

  return textio_digits(t, &i) && i == t->len;
}

/* Optional exponent e[+-]digits at *i; 0 when malformed. */
static int textio_exponent(const textio_tok *t, size_t *i)
{
  if (*i < t->len && (t->s[*i] == 'e' || t->s[*i] == 'E')) {
    (*i)++;
    if (*i < t->len && (t->s[*i] == '+' || t->s[*i] == '-'))
      (*i)++;
    if (!textio_digits(t, i))
      return 0;
  }
  return 1;
}

int textio_is_num(const textio_tok *t)
{
  size_t i = textio_sign(t);
  int whole, frac = 0;

  if (t->len >= TEXTIO_NUMLEN)
    return 0;
  whole = textio_digits(t, &i);
  if (i < t->len && t->s[i] == '.') {
    i++;
    frac = textio_digits(t, &i);
  }
  if (!whole && !frac)
    return 0;
  return textio_exponent(t, &i) && i == t->len;
}

int textio_is_nonfinite(const textio_tok *t)
{
  size_t i = textio_sign(t);

  return t->len - i >= 3 && (strncasecmp(t->s + i, "nan", 3) == 0 ||
                             strncasecmp(t->s + i, "inf", 3) == 0);
}

int64_t textio_int(const textio_tok *t)
{
  size_t i = textio_sign(t);
  int64_t v = 0;

  for (; i < t->len; i++) {
    v = v * 10 + (t->s[i] - '0');
    if (v > TEXTIO_INT_SAT) {
      v = TEXTIO_INT_SAT;
      break;
    }
  }
  return t->s[0] == '-' ? -v : v;
}

int textio_num(const textio_tok *t, double *out)
{
  char buf[TEXTIO_NUMLEN];
  char *endp;

  memcpy(buf, t->s, t->len);
  buf[t->len] = '\0';
  *out = strtod(buf, &endp);
  return endp == buf + t->len ? 0 : -1;
}

/* ---- seen keys -------------------------------------------------------- */

static size_t textio_hash(uint64_t x)
{
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return (size_t)x;
}

static int textio_seen_grow(textio_seen *s)
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
    h = textio_hash(s->keys[k]) & (cap - 1);
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

int textio_seen_add(textio_seen *s, uint64_t key, int line, int *first)
{
  size_t h;

  if ((s->count + 1) * 2 > s->cap && textio_seen_grow(s))
    return -1;
  key++;
  for (h = textio_hash(key) & (s->cap - 1); s->keys[h];
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

void textio_seen_free(textio_seen *s)
{
  free(s->keys);
  free(s->lines);
  memset(s, 0, sizeof *s);
}

/* ---- record fields ---------------------------------------------------- */

int textio_real(const textio_src *src, const textio_tok *t,
                const char *what, double *out)
{
  double v;

  if (textio_is_int(t)) {
    v = (double)textio_int(t);
  } else if (textio_is_num(t)) {
    if (textio_num(t, &v))
      return textio_fail(src, t->line, "cannot convert %s '%s'", what,
                         textio_show(t).s);
    if (!isfinite(v))
      return textio_fail(src, t->line, "%s '%s' is not finite", what,
                         textio_show(t).s);
  } else if (textio_is_nonfinite(t)) {
    return textio_fail(src, t->line, "%s '%s' is not finite", what,
                       textio_show(t).s);
  } else {
    return textio_fail(src, t->line, "non-numeric %s '%s'", what,
                       textio_show(t).s);
  }
  *out = v;
  return 0;
}

int textio_id(const textio_src *src, const textio_tok *t, int n,
              const char *what, int32_t *out)
{
  int64_t id;

  if (!textio_is_int(t))
    return textio_fail(src, t->line, "%s id '%s' is not an integer", what,
                       textio_show(t).s);
  id = textio_int(t);
  if (id == 0)
    return textio_fail(src, t->line, "%s id 0: ids are 1-based (1..%d); "
                       "is the file zero-based?", what, n);
  if (id < 1 || id > n)
    return textio_fail(src, t->line, "%s id %s out of range 1..%d", what,
                       textio_show(t).s, n);
  *out = (int32_t)(id - 1);
  return 0;
}
