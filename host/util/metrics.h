/* A thread-safe registry of Prometheus metrics (counters, gauges,
 * histograms) rendered in the text exposition format 0.0.4. The HTTP
 * server's GET /metrics and the Lua SDK share it. One mutex guards the
 * values; hashing label values and finding a histogram bucket happen
 * outside it, and a render copies the numbers under it and formats them
 * after. See docs/metrics.md. */
#ifndef NEROX_METRICS_H
#define NEROX_METRICS_H

#include <stddef.h>

#define METRICS_MAX_FAMILIES 256  /* families a registry holds, built-in too */
#define METRICS_MAX_SERIES 1000   /* label-value sets a family holds */
#define METRICS_MAX_LABELS 16     /* label names a family has */
#define METRICS_MAX_BUCKETS 64    /* finite bucket bounds of a histogram */
#define METRICS_NAME_MAX 200      /* bytes of a metric or label name */
#define METRICS_HELP_MAX 1024     /* bytes of a help text */
#define METRICS_VALUE_MAX 1024    /* bytes of one label value */

/* The built-in counter of samples dropped at a family's series cap, with
 * the family's name as its "metric" label. */
#define METRICS_DROPPED_NAME "nerox_metrics_dropped_total"

typedef struct metrics metrics;

/* A new registry holding only the built-in counter; NULL with a message. */
metrics *metrics_new(char *err, size_t errlen);
void metrics_free(metrics *m);

/* Register a family. name follows Prometheus's rules ([a-zA-Z_:]
 * [a-zA-Z0-9_:]*, counters end in _total); help is required UTF-8 text;
 * label_names is a comma-separated list ("route,status") or NULL or "" for
 * none. A family without labels starts with its one series at 0. Returns
 * a handle >= 0, or -1 with a message (bad name, duplicate or colliding
 * name, too many families or labels). Registration may run alongside
 * adds and renders. */
int metrics_counter(metrics *m, const char *name, const char *help,
                    const char *label_names, char *err, size_t errlen);
int metrics_gauge(metrics *m, const char *name, const char *help,
                  const char *label_names, char *err, size_t errlen);
/* bounds: strictly increasing finite upper bounds (le="+Inf" is implicit);
 * NULL takes METRICS_DEFAULT_BUCKETS. */
int metrics_histogram(metrics *m, const char *name, const char *help,
                      const char *label_names, const double *bounds,
                      size_t nbounds, char *err, size_t errlen);

/* Record a sample. values holds the label values in the family's label
 * order (NULL for a family without labels), each valid UTF-8 of at most
 * METRICS_VALUE_MAX bytes; a series is created on first use. Returns 0,
 * or -1 when the sample is not recorded: at the family's series cap (it
 * is counted in METRICS_DROPPED_NAME), or for invalid arguments (unknown
 * handle, wrong family type, bad label value, a counter increment that is
 * negative or not finite, a gauge increment that is not finite, an
 * observation that is NaN).
 *
 * metrics_add: counters (v >= 0) and gauges (v any finite number);
 * metrics_set: gauges; metrics_observe: histograms. */
int metrics_add(metrics *m, int fam, const char *const *values, double v);
int metrics_set(metrics *m, int fam, const char *const *values, double v);
int metrics_observe(metrics *m, int fam, const char *const *values,
                    double v);

/* The whole registry as text: families in registration order, series in
 * first-use order; malloc'd, NULL on OOM or a mutex failure. */
char *metrics_render(metrics *m);

/* Default latency buckets in seconds, for request and job durations. */
extern const double METRICS_DEFAULT_BUCKETS[];
extern const size_t METRICS_DEFAULT_NBUCKETS;

#endif
