/* textio: the text machinery the format readers (tsplib, rudy, bqp)
 * share.
 *
 * A textio_src walks a text held in memory (a file read whole by
 * textio_slurp, or a caller's string): it skips a UTF-8 byte order mark,
 * counts lines and formats failures as "label:LINE: reason" into the
 * caller's buffer, every byte of the reason that is not printable ASCII
 * shown as '?'. Line-oriented readers take one line at a time, split into
 * blank-separated tokens (CR counts as a blank, so CRLF is fine); tokens
 * are classified and converted without locale or overflow surprises
 * (integers saturate at +-TEXTIO_INT_SAT). No global mutable state: every
 * function works on what it is given. */
#ifndef NEROX_TEXTIO_H
#define NEROX_TEXTIO_H

#include <stddef.h>
#include <stdint.h>

#define TEXTIO_NUMLEN 128              /* longest decimal token converted */
#define TEXTIO_SHOWLEN 40              /* token characters quoted */
#define TEXTIO_INT_SAT 1000000000000LL /* integer parsing saturates here */
#define TEXTIO_LINE_TOKS 4             /* tokens split per line: 3 + excess */

#if defined(__GNUC__)
#define TEXTIO_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define TEXTIO_PRINTF(a, b)
/* Add `key` seen on `line`: 0 when new, 1 when already present (its
 * line in *first), -1 when out of memory. */
int textio_seen_add(textio_seen *s, uint64_t key, int line, int *first);
/* Free the set and leave it empty. */
void textio_seen_free(textio_seen *s);

#endif

/* A text being read and where its failures go. */
typedef struct textio_src {
  const char *p;      /* next byte */
  const char *end;
  int line;           /* line of p */
  int tok_line;       /* line of the last token taken (1 before any) */
  const char *label;  /* names the text in messages */
  char *err;          /* message buffer, may be NULL */
  size_t errlen;
} textio_src;

typedef struct textio_tok {
  const char *s;
  size_t len;
  int line;
} textio_tok;

/* A token quoted in a message: at most TEXTIO_SHOWLEN bytes, every byte
 * that is not printable ASCII (NUL included) shown as '?', "..." after a
 * cut. */
typedef struct textio_shown {
  char s[TEXTIO_SHOWLEN + 4];
} textio_shown;

/* One line of the text, split into blank-separated tokens. */
typedef struct textio_line {
  int line;
  int ntok;  /* tokens found, at most TEXTIO_LINE_TOKS */
  textio_tok tok[TEXTIO_LINE_TOKS];
} textio_line;

/* Keys (pairs of ids) each with the line where it was first seen, to
 * name both lines of a repeat: an open-addressing hash set. Zeroed means
 * empty. */
typedef struct textio_seen {
  uint64_t *keys;  /* key + 1; 0 marks a free slot */
  int *lines;
  size_t cap;      /* power of two */
  size_t count;
} textio_seen;

/* Start reading len bytes of text (NULL reads as empty); label NULL
 * reads "<string>". Clears err. */
void textio_init(textio_src *src, const char *text, size_t len,
                 const char *label, char *err, size_t errlen);
/* Write "label:LINE: reason" into src->err; always returns -1. */
int textio_fail(const textio_src *src, int line, const char *fmt, ...)
    TEXTIO_PRINTF(3, 4);
textio_shown textio_show(const textio_tok *t);

/* Whole file in a malloc'd buffer (not NUL-terminated); -1 with
 * "path:0: cannot open/read file (reason)" in err. */
int textio_slurp(const char *path, char **buf, size_t *len, char *err,
                 size_t errlen);

/* Space, tab, CR, FF or VT (not newline). */
int textio_blank(char c);
/* Next line that holds a token; 0 at the end of the text. */
int textio_next_line(textio_src *src, textio_line *ln);

/* [+-]digits */
int textio_is_int(const textio_tok *t);
/* Decimal number: [+-]digits[.digits][e[+-]digits], or [+-].digits... */
int textio_is_num(const textio_tok *t);
/* [+-]nan... or [+-]inf..., any case. */
int textio_is_nonfinite(const textio_tok *t);
/* Value of a token that passed textio_is_int, saturated. */
int64_t textio_int(const textio_tok *t);
/* Value of a token that passed textio_is_num; 0, or -1 when
 * unconvertible. */
int textio_num(const textio_tok *t, double *out);

/* A finite integer or decimal `what` ("weight", "value") of a record;
 * -1 with "cannot convert", "not finite" or "non-numeric" in err. */
int textio_real(const textio_src *src, const textio_tok *t,
                const char *what, double *out);
/* A 1-based `what` id ("vertex", "variable") in 1..n, returned 0-based;
 * -1 with the reason (id 0 called out as zero-based) in err. */
int textio_id(const textio_src *src, const textio_tok *t, int n,
              const char *what, int32_t *out);

/* Add `key` seen on `line`: 0 when new, 1 when already present (its
 * line in *first), -1 when out of memory. */
int textio_seen_add(textio_seen *s, uint64_t key, int line, int *first);
/* Free the set and leave it empty. */
void textio_seen_free(textio_seen *s);

#endif
