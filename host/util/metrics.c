/* A thread-safe Prometheus registry (see metrics.h).
 *
 * A family's fixed parts (name, help, labels, bounds) never change after
 * registration, and a series's label values never change after creation;
 * both live until metrics_free. The mutex guards what does change: the
 * values, each family's series list and hash table, and the family count.
 * Family handles index an array of atomic pointers, so an add finds its
 * family, hashes its label values and picks its bucket before it locks. */
#include "util/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_TABLE_INIT 8    /* first size of a family's hash table */
#define METRICS_NUM_MAX 40      /* bytes of a formatted number */
#define METRICS_INT_EXACT 1e15  /* integral values below print without %g */
#define METRICS_FNV_OFFSET 14695981039346656037ULL
#define METRICS_FNV_PRIME 1099511628211ULL

typedef enum mtype { MTYPE_COUNTER, MTYPE_GAUGE, MTYPE_HISTOGRAM } mtype;

typedef enum mop { MOP_ADD, MOP_SET, MOP_OBSERVE } mop;

/* One label-value set of a family, allocated in one block. */
typedef struct mseries {
  struct mseries *next; /* the family's next series in first-use order */
  uint64_t hash;        /* of the label values */
  double value;         /* counter or gauge value; histogram sum */
  uint64_t count;       /* histogram observations */
  uint64_t *buckets;    /* histogram observations per bucket, not summed */
  char **values;        /* label values in the family's label order */
} mseries;

typedef struct mfamily {
  mtype type;
  char *name;
  char *help;
  size_t nlabels;
  char **labels;
  size_t nbounds;
  double *bounds;
  /* Guarded by the registry's mutex. */
  mseries *head, *tail;
  size_t nseries;
  mseries **table; /* open addressing, linear probing, tcap a power of 2 */
  size_t tcap;
} mfamily;

struct metrics {
  pthread_mutex_t mu;
  _Atomic(mfamily *) fams[METRICS_MAX_FAMILIES];
  size_t nfams;     /* guarded */
  size_t slots;     /* guarded: snapshot slots all series take */
  mfamily *dropped; /* the built-in counter of dropped samples */
};

/* One number copied out for a render. */
typedef union mslot {
  double d;
  uint64_t u;
} mslot;

/* A growing output buffer; oom sticks once set. */
typedef struct mbuf {
  char *p;
  size_t len, cap;
  int oom;
} mbuf;

const double METRICS_DEFAULT_BUCKETS[] = {
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
  30, 60, 120, 300, 600, 1800, 3600
};
const size_t METRICS_DEFAULT_NBUCKETS =
  sizeof METRICS_DEFAULT_BUCKETS / sizeof METRICS_DEFAULT_BUCKETS[0];

static const char *const mtype_names[] = { "counter", "gauge", "histogram" };

static void metrics_err(char *err, size_t errlen, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

static void metrics_err(char *err, size_t errlen, const char *fmt, ...)
{
  va_list ap;

  if (!err || errlen == 0)
    return;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

static int metrics_lock(metrics *m)
{
  return pthread_mutex_lock(&m->mu) == 0 ? 0 : -1;
}

static int metrics_unlock(metrics *m)
{
  return pthread_mutex_unlock(&m->mu) == 0 ? 0 : -1;
}

/* ---- validation ---------------------------------------------------- */

static int metrics_name_ok(const char *s, int colons)
{
  size_t n = strlen(s);

  if (n == 0 || n > METRICS_NAME_MAX)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    int digit = c >= '0' && c <= '9';
    if (!alpha && !(colons && c == ':') && !(digit && i > 0))
      return 0;
  }
  return 1;
}

/* Whether s holds well-formed UTF-8 (no overlongs, surrogates or values
 * past U+10FFFF) and no NUL before its end. */
static int metrics_utf8_ok(const char *s)
{
  const unsigned char *p = (const unsigned char *)s;

  while (*p) {
    unsigned c = *p, need, min;
    uint32_t cp;
    if (c < 0x80) { p++; continue; }
    if (c >= 0xc2 && c <= 0xdf) { need = 1; min = 0x80; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { need = 2; min = 0x800; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { need = 3; min = 0x10000; cp = c & 7; }
    else return 0;
    for (unsigned i = 1; i <= need; i++) {
      if ((p[i] & 0xc0) != 0x80)
        return 0;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return 0;
    p += need + 1;
  }
  return 1;
}

/* Whether a histogram's bounds are finite and strictly increasing. */
static int metrics_bounds_ok(const double *b, size_t n, char *err,
                             size_t errlen)
{
  if (n > METRICS_MAX_BUCKETS) {
    metrics_err(err, errlen, "%zu bucket bounds, at most %d", n,
                METRICS_MAX_BUCKETS);
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(b[i])) {
      metrics_err(err, errlen, "bucket bound %zu is not finite "
                  "(le=\"+Inf\" is implicit)", i);
      return 0;
    }
    if (i > 0 && !(b[i] > b[i - 1])) {
      metrics_err(err, errlen, "bucket bounds must increase strictly "
                  "(bound %zu)", i);
      return 0;
    }
  }
  return 1;
}

/* ---- families ------------------------------------------------------ */

static void metrics_family_free(mfamily *f)
{
  if (!f)
    return;
  for (mseries *s = f->head, *next; s; s = next) {
    next = s->next;
    free(s);
  }
  for (size_t i = 0; i < f->nlabels; i++)
    free(f->labels[i]);
  free(f->labels);
  free(f->table);
  free(f->bounds);
  free(f->help);
  free(f->name);
  free(f);
}

static char *metrics_strndup(const char *s, size_t n)
{
  char *d = malloc(n + 1);

  if (d) {
    memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

/* Append one label name (a trimmed piece of the list) to f. */
static int metrics_label_add(mfamily *f, const char *s, size_t n,
                             char *err, size_t errlen)
{
  char *name;

  while (n > 0 && *s == ' ') { s++; n--; }
  while (n > 0 && s[n - 1] == ' ') n--;
  if (f->nlabels == METRICS_MAX_LABELS) {
    metrics_err(err, errlen, "%s: more than %d labels", f->name,
                METRICS_MAX_LABELS);
    return -1;
  }
  if (!(name = metrics_strndup(s, n))) {
    metrics_err(err, errlen, "%s: out of memory", f->name);
    return -1;
  }
  f->labels[f->nlabels++] = name;
  if (!metrics_name_ok(name, 0) || strncmp(name, "__", 2) == 0) {
    metrics_err(err, errlen, "%s: bad label name '%s' (must match "
                "[a-zA-Z_][a-zA-Z0-9_]*, not start with __)", f->name, name);
    return -1;
  }
  if (f->type == MTYPE_HISTOGRAM && strcmp(name, "le") == 0) {
    metrics_err(err, errlen, "%s: label 'le' is reserved in histograms",
                f->name);
    return -1;
  }
  for (size_t i = 0; i + 1 < f->nlabels; i++)
    if (strcmp(f->labels[i], name) == 0) {
      metrics_err(err, errlen, "%s: label '%s' twice", f->name, name);
      return -1;
    }
  return 0;
}

static int metrics_labels_parse(mfamily *f, const char *list, char *err,
                                size_t errlen)
{
  if (!list || !*list)
    return 0;
  f->labels = calloc(METRICS_MAX_LABELS, sizeof *f->labels);
  if (!f->labels) {
    metrics_err(err, errlen, "%s: out of memory", f->name);
    return -1;
  }
  for (const char *p = list;;) {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    if (metrics_label_add(f, p, n, err, errlen) != 0)
      return -1;
    if (!comma)
      return 0;
    p = comma + 1;
  }
}

static int metrics_family_names(mfamily *f, const char *name,
                                const char *help, char *err, size_t errlen)
{
  if (!name || !metrics_name_ok(name, 1)) {
    metrics_err(err, errlen, "bad metric name '%s' (must match "
                "[a-zA-Z_:][a-zA-Z0-9_:]*, at most %d bytes)",
                name ? name : "(null)", METRICS_NAME_MAX);
    return -1;
  }
  size_t n = strlen(name);
  if (f->type == MTYPE_COUNTER && (n < 6 || strcmp(name + n - 6, "_total"))) {
    metrics_err(err, errlen, "counter '%s' must end in _total", name);
    return -1;
  }
  if (!help || !*help || strlen(help) > METRICS_HELP_MAX ||
      !metrics_utf8_ok(help)) {
    metrics_err(err, errlen, "%s: help must be UTF-8 text of 1 to %d bytes",
                name, METRICS_HELP_MAX);
    return -1;
  }
  f->name = strdup(name);
  f->help = strdup(help);
  if (!f->name || !f->help) {
    metrics_err(err, errlen, "%s: out of memory", name);
    return -1;
  }
  return 0;
}

static int metrics_family_bounds(mfamily *f, const double *bounds,
                                 size_t nbounds, char *err, size_t errlen)
{
  if (!bounds) {
    bounds = METRICS_DEFAULT_BUCKETS;
    nbounds = METRICS_DEFAULT_NBUCKETS;
  }
  if (!metrics_bounds_ok(bounds, nbounds, err, errlen))
    return -1;
  f->nbounds = nbounds;
  if (nbounds == 0)
    return 0;
  if (!(f->bounds = malloc(nbounds * sizeof *f->bounds))) {
    metrics_err(err, errlen, "%s: out of memory", f->name);
    return -1;
  }
  memcpy(f->bounds, bounds, nbounds * sizeof *f->bounds);
  return 0;
}

/* Whether name is one of the sample names family f writes. */
static int metrics_family_writes(const mfamily *f, const char *name)
{
  static const char *const suffixes[] = { "_bucket", "_sum", "_count" };
  size_t n = strlen(f->name);

  if (strcmp(f->name, name) == 0)
    return 1;
  if (f->type != MTYPE_HISTOGRAM || strncmp(f->name, name, n) != 0)
    return 0;
  for (size_t i = 0; i < 3; i++)
    if (strcmp(name + n, suffixes[i]) == 0)
      return 1;
  return 0;
}

/* Whether families a and b would write a sample name in common. */
static int metrics_family_clash(const mfamily *a, const mfamily *b)
{
  static const char *const suffixes[] = { "_bucket", "_sum", "_count" };
  char name[METRICS_NAME_MAX + sizeof "_bucket"];

  if (metrics_family_writes(a, b->name))
    return 1;
  if (b->type != MTYPE_HISTOGRAM)
    return 0;
  for (size_t i = 0; i < 3; i++) {
    snprintf(name, sizeof name, "%s%s", b->name, suffixes[i]);
    if (metrics_family_writes(a, name))
      return 1;
  }
  return 0;
}

/* ---- series -------------------------------------------------------- */

/* Snapshot slots one series of f takes: value, or sum, count, buckets. */
static size_t metrics_slots(const mfamily *f)
{
  return f->type == MTYPE_HISTOGRAM ? 2 + f->nbounds : 1;
}

/* Hash of the label values; -1 when one is missing or too long. */
static int metrics_hash(const mfamily *f, const char *const *values,
                        uint64_t *out)
{
  uint64_t h = METRICS_FNV_OFFSET;

  if (f->nlabels > 0 && !values)
    return -1;
  for (size_t i = 0; i < f->nlabels; i++) {
    const unsigned char *p = (const unsigned char *)values[i];
    if (!p)
      return -1;
    for (size_t n = 0;; n++, p++) {
      if (n > METRICS_VALUE_MAX)
        return -1;
      h = (h ^ *p) * METRICS_FNV_PRIME; /* the NUL separates values */
      if (!*p)
        break;
    }
  }
  *out = h;
  return 0;
}

static int metrics_same(const mfamily *f, const mseries *s,
                        const char *const *values, uint64_t h)
{
  if (s->hash != h)
    return 0;
  for (size_t i = 0; i < f->nlabels; i++)
    if (strcmp(s->values[i], values[i]) != 0)
      return 0;
  return 1;
}

static mseries *metrics_find(const mfamily *f, const char *const *values,
                             uint64_t h)
{
  if (f->tcap == 0)
    return NULL;
  for (size_t i = h & (f->tcap - 1);; i = (i + 1) & (f->tcap - 1)) {
    mseries *s = f->table[i];
    if (!s || metrics_same(f, s, values, h))
      return s;
  }
}

static void metrics_table_put(mseries **table, size_t cap, mseries *s)
{
  size_t i = s->hash & (cap - 1);

  while (table[i])
    i = (i + 1) & (cap - 1);
  table[i] = s;
}

/* Make room for one more series, keeping the table at most half full. */
static int metrics_table_grow(mfamily *f)
{
  if (2 * (f->nseries + 1) <= f->tcap)
    return 0;
  size_t cap = f->tcap ? 2 * f->tcap : METRICS_TABLE_INIT;
  mseries **t = calloc(cap, sizeof *t);
  if (!t)
    return -1;
  for (mseries *s = f->head; s; s = s->next)
    metrics_table_put(t, cap, s);
  free(f->table);
  f->table = t;
  f->tcap = cap;
  return 0;
}

/* A series block: the struct, its bucket counts, its value pointers and
 * the value bytes. */
static mseries *metrics_series_alloc(const mfamily *f,
                                     const char *const *values, uint64_t h)
{
  size_t size = sizeof(mseries) + f->nbounds * sizeof(uint64_t) +
                f->nlabels * sizeof(char *);
  for (size_t i = 0; i < f->nlabels; i++)
    size += strlen(values[i]) + 1;
  mseries *s = calloc(1, size);
  if (!s)
    return NULL;
  s->hash = h;
  s->buckets = (uint64_t *)(s + 1);
  s->values = (char **)(s->buckets + f->nbounds);
  char *p = (char *)(s->values + f->nlabels);
  for (size_t i = 0; i < f->nlabels; i++) {
    size_t n = strlen(values[i]) + 1;
    memcpy(p, values[i], n);
    s->values[i] = p;
    p += n;
  }
  return s;
}

static int metrics_values_ok(const mfamily *f, const char *const *values)
{
  for (size_t i = 0; i < f->nlabels; i++)
    if (!metrics_utf8_ok(values[i]))
      return 0;
  return 1;
}

static void metrics_count_drop(metrics *m, const mfamily *f);

/* Create a series of f under the lock; NULL at the cap (the sample is
 * counted as dropped), on OOM or for label values that are not UTF-8. */
static mseries *metrics_series_new(metrics *m, mfamily *f,
                                   const char *const *values, uint64_t h)
{
  mseries *s;

  if (f->nseries >= METRICS_MAX_SERIES) {
    metrics_count_drop(m, f);
    return NULL;
  }
  if (!metrics_values_ok(f, values) || metrics_table_grow(f) != 0)
    return NULL;
  if (!(s = metrics_series_alloc(f, values, h)))
    return NULL;
  metrics_table_put(f->table, f->tcap, s);
  if (f->tail)
    f->tail->next = s;
  else
    f->head = s;
  f->tail = s;
  f->nseries++;
  m->slots += metrics_slots(f);
  return s;
}

static mseries *metrics_series_get(metrics *m, mfamily *f,
                                   const char *const *values, uint64_t h)
{
  mseries *s = metrics_find(f, values, h);

  return s ? s : metrics_series_new(m, f, values, h);
}

/* Count a dropped sample of f, under the lock. The built-in family holds
 * one series per family, far below its own cap; when even that series
 * cannot be made (OOM) the drop goes uncounted: the sample is lost
 * either way and the caller sees -1. */
static void metrics_count_drop(metrics *m, const mfamily *f)
{
  const char *values[1] = { f->name };
  uint64_t h;

  if (metrics_hash(m->dropped, values, &h) != 0)
    return;
  mseries *s = metrics_series_get(m, m->dropped, values, h);
  if (s)
    s->value += 1;
}

/* ---- registry ------------------------------------------------------ */

metrics *metrics_new(char *err, size_t errlen)
{
  metrics *m = calloc(1, sizeof *m);

  if (!m) {
    metrics_err(err, errlen, "metrics: out of memory");
    return NULL;
  }
  int rc = pthread_mutex_init(&m->mu, NULL);
  if (rc != 0) {
    metrics_err(err, errlen, "metrics: mutex: %s", strerror(rc));
    free(m);
    return NULL;
  }
  for (size_t i = 0; i < METRICS_MAX_FAMILIES; i++)
    atomic_init(&m->fams[i], NULL);
  int fam = metrics_counter(m, METRICS_DROPPED_NAME,
                            "Samples dropped because their metric reached "
                            "its series cap.", "metric", err, errlen);
  if (fam < 0) {
    metrics_free(m);
    return NULL;
  }
  m->dropped = atomic_load(&m->fams[fam]);
  return m;
}

void metrics_free(metrics *m)
{
  if (!m)
    return;
  for (size_t i = 0; i < METRICS_MAX_FAMILIES; i++)
    metrics_family_free(atomic_load(&m->fams[i]));
  pthread_mutex_destroy(&m->mu);
  free(m);
}

/* Under the lock: check f against the registry, give it its first series
 * when it has no labels, and publish it. Returns its handle or -1. */
static int metrics_publish(metrics *m, mfamily *f, char *err, size_t errlen)
{
  if (m->nfams == METRICS_MAX_FAMILIES) {
    metrics_err(err, errlen, "%s: more than %d metrics", f->name,
                METRICS_MAX_FAMILIES);
    return -1;
  }
  for (size_t i = 0; i < m->nfams; i++) {
    const mfamily *g = atomic_load_explicit(&m->fams[i],
                                            memory_order_relaxed);
    if (metrics_family_clash(g, f) || metrics_family_clash(f, g)) {
      metrics_err(err, errlen, "%s: name clashes with metric '%s'",
                  f->name, g->name);
      return -1;
    }
  }
  uint64_t h;
  if (f->nlabels == 0 && (metrics_hash(f, NULL, &h) != 0 ||
                          !metrics_series_new(m, f, NULL, h))) {
    metrics_err(err, errlen, "%s: out of memory", f->name);
    return -1;
  }
  atomic_store_explicit(&m->fams[m->nfams], f, memory_order_release);
  return (int)m->nfams++;
}

static int metrics_register(metrics *m, mtype type, const char *name,
                            const char *help, const char *label_names,
                            const double *bounds, size_t nbounds,
                            char *err, size_t errlen)
{
  mfamily *f = calloc(1, sizeof *f);
  int fam = -1;

  if (!f) {
    metrics_err(err, errlen, "metrics: out of memory");
    return -1;
  }
  f->type = type;
  if (metrics_family_names(f, name, help, err, errlen) != 0 ||
      metrics_labels_parse(f, label_names, err, errlen) != 0 ||
      (type == MTYPE_HISTOGRAM &&
       metrics_family_bounds(f, bounds, nbounds, err, errlen) != 0))
    goto fail;
  if (metrics_lock(m) != 0) {
    metrics_err(err, errlen, "%s: cannot lock the registry", name);
    goto fail;
  }
  fam = metrics_publish(m, f, err, errlen);
  if (metrics_unlock(m) != 0) {
    metrics_err(err, errlen, "%s: cannot unlock the registry", name);
    if (fam >= 0)
      return -1; /* published: metrics_free frees it */
    goto fail;
  }
  if (fam >= 0)
    return fam;
fail:
  metrics_family_free(f);
  return -1;
}

int metrics_counter(metrics *m, const char *name, const char *help,
                    const char *label_names, char *err, size_t errlen)
{
  return metrics_register(m, MTYPE_COUNTER, name, help, label_names, NULL,
                          0, err, errlen);
}

int metrics_gauge(metrics *m, const char *name, const char *help,
                  const char *label_names, char *err, size_t errlen)
{
  return metrics_register(m, MTYPE_GAUGE, name, help, label_names, NULL, 0,
                          err, errlen);
}

int metrics_histogram(metrics *m, const char *name, const char *help,
                      const char *label_names, const double *bounds,
                      size_t nbounds, char *err, size_t errlen)
{
  return metrics_register(m, MTYPE_HISTOGRAM, name, help, label_names,
                          bounds, nbounds, err, errlen);
}

/* ---- samples ------------------------------------------------------- */

static mfamily *metrics_family(metrics *m, int fam)
{
  if (!m || fam < 0 || fam >= METRICS_MAX_FAMILIES)
    return NULL;
  return atomic_load_explicit(&m->fams[fam], memory_order_acquire);
}

/* The bucket of v: the first bound >= v, nbounds for +Inf only. */
static size_t metrics_bucket(const mfamily *f, double v)
{
  size_t lo = 0, hi = f->nbounds;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (v <= f->bounds[mid])
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

static void metrics_apply(const mfamily *f, mseries *s, mop op, double v)
{
  if (op == MOP_SET) {
    s->value = v;
  } else if (op == MOP_ADD) {
    s->value += v;
  } else {
    size_t b = metrics_bucket(f, v);
    if (b < f->nbounds)
      s->buckets[b]++;
    s->count++;
    s->value += v;
  }
}

static int metrics_update(metrics *m, mfamily *f, const char *const *values,
                          mop op, double v)
{
  uint64_t h;

  if (metrics_hash(f, values, &h) != 0 || metrics_lock(m) != 0)
    return -1;
  mseries *s = metrics_series_get(m, f, values, h);
  if (s)
    metrics_apply(f, s, op, v);
  if (metrics_unlock(m) != 0)
    return -1;
  return s ? 0 : -1;
}

int metrics_add(metrics *m, int fam, const char *const *values, double v)
{
  mfamily *f = metrics_family(m, fam);

  if (!f || f->type == MTYPE_HISTOGRAM || !isfinite(v) ||
      (f->type == MTYPE_COUNTER && v < 0))
    return -1;
  return metrics_update(m, f, values, MOP_ADD, v);
}

int metrics_set(metrics *m, int fam, const char *const *values, double v)
{
  mfamily *f = metrics_family(m, fam);

  if (!f || f->type != MTYPE_GAUGE)
    return -1;
  return metrics_update(m, f, values, MOP_SET, v);
}

int metrics_observe(metrics *m, int fam, const char *const *values,
                    double v)
{
  mfamily *f = metrics_family(m, fam);

  if (!f || f->type != MTYPE_HISTOGRAM || isnan(v))
    return -1;
  return metrics_update(m, f, values, MOP_OBSERVE, v);
}

/* ---- rendering ----------------------------------------------------- */

static void mbuf_put(mbuf *b, const char *s, size_t n)
{
  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (b->len + n + 1 > cap)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void mbuf_puts(mbuf *b, const char *s)
{
  mbuf_put(b, s, strlen(s));
}

/* Copy s, escaping backslash and newline, and double quote when quote. */
static void mbuf_escaped(mbuf *b, const char *s, int quote)
{
  const char *run = s;

  for (; *s; s++) {
    const char *esc = *s == '\\' ? "\\\\" : *s == '\n' ? "\\n"
                    : quote && *s == '"' ? "\\\"" : NULL;
    if (!esc)
      continue;
    mbuf_put(b, run, (size_t)(s - run));
    mbuf_puts(b, esc);
    run = s + 1;
  }
  mbuf_put(b, run, (size_t)(s - run));
}

/* v as Prometheus reads it: NaN, +Inf, -Inf, integers without exponent,
 * others in the shortest %g form that reads back exactly. */
static void metrics_fmt_num(double v, char out[METRICS_NUM_MAX])
{
  if (isnan(v)) {
    strcpy(out, "NaN");
  } else if (isinf(v)) {
    strcpy(out, v > 0 ? "+Inf" : "-Inf");
  } else if (v == 0) {
    strcpy(out, "0");
  } else if (v == floor(v) && fabs(v) < METRICS_INT_EXACT) {
    snprintf(out, METRICS_NUM_MAX, "%.0f", v);
  } else {
    for (int prec = 15; prec <= 17; prec++) {
      snprintf(out, METRICS_NUM_MAX, "%.*g", prec, v);
      char *comma = strchr(out, ','); /* a locale's decimal comma */
      if (comma)
        *comma = '.';
      if (strtod(out, NULL) == v)
        break;
    }
  }
}

static void mbuf_num(mbuf *b, double v)
{
  char num[METRICS_NUM_MAX];

  metrics_fmt_num(v, num);
  mbuf_puts(b, num);
}

/* One sample line: name+suffix{labels[,le="..."]} value. */
static void metrics_line(mbuf *b, const mfamily *f, const mseries *s,
                         const char *suffix, const double *le, double v)
{
  mbuf_puts(b, f->name);
  mbuf_puts(b, suffix);
  if (f->nlabels > 0 || le) {
    mbuf_puts(b, "{");
    for (size_t i = 0; i < f->nlabels; i++) {
      mbuf_puts(b, i ? ",": "");
      mbuf_puts(b, f->labels[i]);
      mbuf_puts(b, "=\"");
      mbuf_escaped(b, s->values[i], 1);
      mbuf_puts(b, "\"");
    }
    if (le) {
      mbuf_puts(b, f->nlabels ? ",le=\"" : "le=\"");
      mbuf_num(b, *le);
      mbuf_puts(b, "\"");
    }
    mbuf_puts(b, "}");
  }
  mbuf_puts(b, " ");
  mbuf_num(b, v);
  mbuf_puts(b, "\n");
}

/* A histogram series from its slots: sum, count, then bucket counts. */
static void metrics_render_hist(mbuf *b, const mfamily *f, const mseries *s,
                                const mslot *slot)
{
  const double inf = INFINITY;
  uint64_t cum = 0;

  for (size_t i = 0; i < f->nbounds; i++) {
    cum += slot[2 + i].u;
    metrics_line(b, f, s, "_bucket", &f->bounds[i], (double)cum);
  }
  metrics_line(b, f, s, "_bucket", &inf, (double)slot[1].u);
  metrics_line(b, f, s, "_sum", NULL, slot[0].d);
  metrics_line(b, f, s, "_count", NULL, (double)slot[1].u);
}

/* Write family f's first n series from the snapshot; returns the slots
 * used. Only fixed fields of f and its series are read: no lock. */
static size_t metrics_render_family(mbuf *b, const mfamily *f, size_t n,
                                    const mslot *slot)
{
  const mseries *s = n > 0 ? f->head : NULL; /* head may be changing at 0 */
  size_t used = 0;

  mbuf_puts(b, "# HELP ");
  mbuf_puts(b, f->name);
  mbuf_puts(b, " ");
  mbuf_escaped(b, f->help, 0);
  mbuf_puts(b, "\n# TYPE ");
  mbuf_puts(b, f->name);
  mbuf_puts(b, " ");
  mbuf_puts(b, mtype_names[f->type]);
  mbuf_puts(b, "\n");
  for (size_t i = 0; i < n; i++, s = i < n ? s->next : NULL) {
    if (f->type == MTYPE_HISTOGRAM)
      metrics_render_hist(b, f, s, slot + used);
    else
      metrics_line(b, f, s, "", NULL, slot[used].d);
    used += metrics_slots(f);
  }
  return used;
}

/* Copy every value under the lock; fills counts[] with the series each
 * family had. Returns the slots (malloc'd) or NULL. */
static mslot *metrics_snapshot(metrics *m, size_t *nfams, size_t *counts)
{
  if (metrics_lock(m) != 0)
    return NULL;
  mslot *slots = malloc((m->slots ? m->slots : 1) * sizeof *slots);
  size_t k = 0;
  *nfams = m->nfams;
  for (size_t i = 0; slots && i < m->nfams; i++) {
    const mfamily *f = atomic_load_explicit(&m->fams[i],
                                            memory_order_relaxed);
    counts[i] = f->nseries;
    for (const mseries *s = f->head; s; s = s->next) {
      slots[k++].d = s->value;
      if (f->type != MTYPE_HISTOGRAM)
        continue;
      slots[k++].u = s->count;
      for (size_t j = 0; j < f->nbounds; j++)
        slots[k++].u = s->buckets[j];
    }
  }
  if (metrics_unlock(m) != 0) {
    free(slots);
    return NULL;
  }
  return slots;
}

char *metrics_render(metrics *m)
{
  size_t counts[METRICS_MAX_FAMILIES], nfams = 0, k = 0;
  mbuf b = { 0 };

  if (!m)
    return NULL;
  mslot *slots = metrics_snapshot(m, &nfams, counts);
  if (!slots)
    return NULL;
  mbuf_puts(&b, "");
  for (size_t i = 0; i < nfams; i++) {
    const mfamily *f = atomic_load_explicit(&m->fams[i],
                                            memory_order_acquire);
    k += metrics_render_family(&b, f, counts[i], slots + k);
  }
  free(slots);
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  return b.p;
}
