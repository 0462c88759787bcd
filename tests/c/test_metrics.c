/* Tests of the Prometheus registry: exact text for counters, gauges and
 * histograms, escaping, number formats, name checks, the series cap and
 * adds from several threads while another renders.
 *
 * `test_metrics --render FILE` writes a sample covering every kind of
 * line to FILE instead, for tests/e2e/metrics_promtool.sh. */
#include "util/clock.h"
#include "util/metrics.h"
#include "testutil.h"

#include <math.h>
#include <pthread.h>

#define ERRLEN 512
#define MT_THREADS 4
#define MT_ADDS 50000   /* adds per thread */
#define MT_ROUTES 50    /* label values the threads spread over */

/* What a fresh registry renders: the built-in counter, no series yet. */
#define DROPPED_HEAD \
  "# HELP nerox_metrics_dropped_total Samples dropped because their " \
  "metric reached its series cap.\n" \
  "# TYPE nerox_metrics_dropped_total counter\n"

static void check_text(metrics *m, const char *want, int line)
{
  char *got = metrics_render(m);

  test_checks++;
  if (got && strcmp(got, want) == 0) {
    free(got);
    return;
  }
  test_failures++;
  fprintf(stderr, "%s:%d: render differs\n--- got:\n%s--- want:\n%s---\n",
          __FILE__, line, got ? got : "(null)", want);
  free(got);
}

#define CHECK_TEXT(m, want) check_text((m), (want), __LINE__)

static metrics *fresh(void)
{
  char err[ERRLEN];
  metrics *m = metrics_new(err, sizeof err);

  if (!m) {
    fprintf(stderr, "metrics_new: %s\n", err);
    exit(1);
  }
  return m;
}

static void test_empty(void)
{
  metrics *m = fresh();
  char err[ERRLEN];

  CHECK_TEXT(m, DROPPED_HEAD);
  CHECK_EQ_INT(metrics_gauge(m, "queue_depth", "Jobs waiting.", "plan",
                             err, sizeof err), 1);
  CHECK_TEXT(m, DROPPED_HEAD
             "# HELP queue_depth Jobs waiting.\n"
             "# TYPE queue_depth gauge\n");
  metrics_free(m);
  metrics_free(NULL);
}

static void test_counter(void)
{
  metrics *m = fresh();
  char err[ERRLEN];
  const char *get200[] = { "/v1/jobs", "200" };
  const char *post201[] = { "/v1/jobs", "201" };

  int plain = metrics_counter(m, "nerox_jobs_total", "Jobs run.", NULL,
                              err, sizeof err);
  int req = metrics_counter(m, "nerox_http_requests_total", "Requests.",
                            "route, status", err, sizeof err);
  CHECK(plain > 0 && req > plain);
  CHECK_EQ_INT(metrics_add(m, req, post201, 1), 0);
  CHECK_EQ_INT(metrics_add(m, req, get200, 2), 0);
  CHECK_EQ_INT(metrics_add(m, req, post201, 0.5), 0);
  CHECK_EQ_INT(metrics_add(m, plain, NULL, 3), 0);
  CHECK_EQ_INT(metrics_add(m, plain, NULL, 0), 0);
  CHECK_TEXT(m, DROPPED_HEAD
             "# HELP nerox_jobs_total Jobs run.\n"
             "# TYPE nerox_jobs_total counter\n"
             "nerox_jobs_total 3\n"
             "# HELP nerox_http_requests_total Requests.\n"
             "# TYPE nerox_http_requests_total counter\n"
             "nerox_http_requests_total{route=\"/v1/jobs\",status=\"201\"} "
             "1.5\n"
             "nerox_http_requests_total{route=\"/v1/jobs\",status=\"200\"} "
             "2\n");

  /* Invalid samples change nothing. */
  CHECK_EQ_INT(metrics_add(m, plain, NULL, -1), -1);
  CHECK_EQ_INT(metrics_add(m, plain, NULL, NAN), -1);
  CHECK_EQ_INT(metrics_add(m, plain, NULL, INFINITY), -1);
  CHECK_EQ_INT(metrics_set(m, plain, NULL, 1), -1);
  CHECK_EQ_INT(metrics_observe(m, plain, NULL, 1), -1);
  CHECK_EQ_INT(metrics_add(m, req, NULL, 1), -1);
  CHECK_EQ_INT(metrics_add(m, 99, NULL, 1), -1);
  CHECK_EQ_INT(metrics_add(m, -1, NULL, 1), -1);
  CHECK_EQ_INT(metrics_add(m, METRICS_MAX_FAMILIES, NULL, 1), -1);
  CHECK_EQ_INT(metrics_add(NULL, plain, NULL, 1), -1);
  metrics_free(m);
}

static void test_gauge_numbers(void)
{
  metrics *m = fresh();
  char err[ERRLEN];
  static const struct { const char *k; double v; const char *want; } c[] = {
    { "zero", 0.0, "0" },          { "negzero", -0.0, "0" },
    { "int", 42, "42" },           { "neg", -7, "-7" },
    { "big", 123456789012345.0, "123456789012345" },
    { "huge", 1e20, "1e+20" },     { "tenth", 0.1, "0.1" },
    { "third", 1.0 / 3, "0.3333333333333333" },
    { "tiny", 1.5e-9, "1.5e-09" }, { "pinf", INFINITY, "+Inf" },
    { "ninf", -INFINITY, "-Inf" }, { "nan", NAN, "NaN" },
  };
  size_t n = sizeof c / sizeof c[0];
  char want[4096], *w = want;

  int g = metrics_gauge(m, "nerox_value", "Values.", "k", err, sizeof err);
  CHECK(g > 0);
  w += sprintf(w, "%s# HELP nerox_value Values.\n"
               "# TYPE nerox_value gauge\n", DROPPED_HEAD);
  for (size_t i = 0; i < n; i++) {
    const char *k[] = { c[i].k };
    CHECK_EQ_INT(metrics_set(m, g, k, c[i].v), 0);
    w += sprintf(w, "nerox_value{k=\"%s\"} %s\n", c[i].k, c[i].want);
  }
  CHECK_TEXT(m, want);

  /* A gauge goes up and down; its increments must be finite. */
  int up = metrics_gauge(m, "nerox_running", "Running.", "", err,
                         sizeof err);
  CHECK_EQ_INT(metrics_add(m, up, NULL, 2), 0);
  CHECK_EQ_INT(metrics_add(m, up, NULL, -0.5), 0);
  CHECK_EQ_INT(metrics_add(m, up, NULL, NAN), -1);
  CHECK_EQ_INT(metrics_observe(m, up, NULL, 1), -1);
  char *text = metrics_render(m);
  CHECK(text && strstr(text, "\nnerox_running 1.5\n"));
  free(text);
  metrics_free(m);
}

static void test_histogram(void)
{
  metrics *m = fresh();
  char err[ERRLEN];
  const double bounds[] = { 0.5, 1, 10 };
  const char *a[] = { "a" };

  int h = metrics_histogram(m, "nerox_job_seconds", "Job time.", "plan",
                            bounds, 3, err, sizeof err);
  int d = metrics_histogram(m, "nerox_wait_seconds", "Wait.", NULL, NULL, 0,
                            err, sizeof err);
  CHECK(h > 0 && d > h);
  double obs[] = { 0.25, 0.5, 1, 2, 20, -1 };
  for (size_t i = 0; i < sizeof obs / sizeof obs[0]; i++)
    CHECK_EQ_INT(metrics_observe(m, h, a, obs[i]), 0);
  CHECK_EQ_INT(metrics_observe(m, h, a, NAN), -1);
  CHECK_EQ_INT(metrics_add(m, h, a, 1), -1);
  CHECK_EQ_INT(metrics_observe(m, d, NULL, 0.2), 0);
  CHECK_EQ_INT(metrics_observe(m, d, NULL, INFINITY), 0);

  char want[4096], *w = want;
  w += sprintf(w, "%s", DROPPED_HEAD
               "# HELP nerox_job_seconds Job time.\n"
               "# TYPE nerox_job_seconds histogram\n"
               "nerox_job_seconds_bucket{plan=\"a\",le=\"0.5\"} 3\n"
               "nerox_job_seconds_bucket{plan=\"a\",le=\"1\"} 4\n"
               "nerox_job_seconds_bucket{plan=\"a\",le=\"10\"} 5\n"
               "nerox_job_seconds_bucket{plan=\"a\",le=\"+Inf\"} 6\n"
               "nerox_job_seconds_sum{plan=\"a\"} 22.75\n"
               "nerox_job_seconds_count{plan=\"a\"} 6\n"
               "# HELP nerox_wait_seconds Wait.\n"
               "# TYPE nerox_wait_seconds histogram\n");
  for (size_t i = 0; i < METRICS_DEFAULT_NBUCKETS; i++) {
    char le[64];
    snprintf(le, sizeof le, "%g", METRICS_DEFAULT_BUCKETS[i]);
    w += sprintf(w, "nerox_wait_seconds_bucket{le=\"%s\"} %d\n", le,
                 METRICS_DEFAULT_BUCKETS[i] >= 0.2);
  }
  sprintf(w, "nerox_wait_seconds_bucket{le=\"+Inf\"} 2\n"
          "nerox_wait_seconds_sum +Inf\n"
          "nerox_wait_seconds_count 2\n");
  CHECK_TEXT(m, want);
  metrics_free(m);
}

static void test_escaping(void)
{
  metrics *m = fresh();
  char err[ERRLEN];
  const char *v[] = { "a\\b\"c\nd", "" };
  const char *utf8[] = { "caf\xc3\xa9 \xe2\x82\xac", "x" };
  const char *bad[] = { "\xc3(", "x" };
  const char *overlong[] = { "\xc0\xaf", "x" };
  const char *surrogate[] = { "\xed\xa0\x80", "x" };
  static char big[METRICS_VALUE_MAX + 2];
  const char *longv[] = { big, "x" };

  int c = metrics_counter(m, "nerox_odd_total", "Back\\slash and\nnew "
                          "line, \"quotes\" kept.", "a,b", err, sizeof err);
  CHECK(c > 0);
  CHECK_EQ_INT(metrics_add(m, c, v, 1), 0);
  CHECK_EQ_INT(metrics_add(m, c, utf8, 1), 0);
  CHECK_EQ_INT(metrics_add(m, c, bad, 1), -1);
  CHECK_EQ_INT(metrics_add(m, c, overlong, 1), -1);
  CHECK_EQ_INT(metrics_add(m, c, surrogate, 1), -1);
  CHECK_TEXT(m, DROPPED_HEAD
             "# HELP nerox_odd_total Back\\\\slash and\\nnew line, "
             "\"quotes\" kept.\n"
             "# TYPE nerox_odd_total counter\n"
             "nerox_odd_total{a=\"a\\\\b\\\"c\\nd\",b=\"\"} 1\n"
             "nerox_odd_total{a=\"caf\xc3\xa9 \xe2\x82\xac\",b=\"x\"} 1\n");

  /* A value of METRICS_VALUE_MAX bytes is kept, one more is not. */
  memset(big, 'x', METRICS_VALUE_MAX + 1);
  CHECK_EQ_INT(metrics_add(m, c, longv, 1), -1);
  big[METRICS_VALUE_MAX] = '\0';
  CHECK_EQ_INT(metrics_add(m, c, longv, 1), 0);
  metrics_free(m);
}

static void check_reject(metrics *m, int rc, const char *err,
                         const char *want, int line)
{
  test_checks++;
  if (rc == -1 && strstr(err, want))
    return;
  test_failures++;
  fprintf(stderr, "%s:%d: got %d '%s', expected -1 with '%s'\n", __FILE__,
          line, rc, err, want);
  (void)m;
}

#define REJECT(call, want) do { \
    err[0] = '\0'; \
    check_reject(m, (call), err, (want), __LINE__); \
  } while (0)

static void test_names(void)
{
  metrics *m = fresh();
  char err[ERRLEN], name[64];
  const double down[] = { 1, 0.5 }, inf[] = { 1, INFINITY };
  const double nan[] = { NAN };
  double many[METRICS_MAX_BUCKETS + 1];

  for (size_t i = 0; i <= METRICS_MAX_BUCKETS; i++)
    many[i] = (double)i;
  REJECT(metrics_gauge(m, "1abc", "h", NULL, err, ERRLEN), "bad metric name");
  REJECT(metrics_gauge(m, "a-b", "h", NULL, err, ERRLEN), "'a-b'");
  REJECT(metrics_gauge(m, "", "h", NULL, err, ERRLEN), "bad metric name");
  REJECT(metrics_gauge(m, NULL, "h", NULL, err, ERRLEN), "(null)");
  REJECT(metrics_counter(m, "jobs", "h", NULL, err, ERRLEN), "_total");
  REJECT(metrics_gauge(m, "g", "", NULL, err, ERRLEN), "help");
  REJECT(metrics_gauge(m, "g", NULL, NULL, err, ERRLEN), "help");
  REJECT(metrics_gauge(m, "g", "\xff", NULL, err, ERRLEN), "UTF-8");
  REJECT(metrics_gauge(m, "g", "h", "a,__b", err, ERRLEN), "'__b'");
  REJECT(metrics_gauge(m, "g", "h", "a:b", err, ERRLEN), "'a:b'");
  REJECT(metrics_gauge(m, "g", "h", "a,,b", err, ERRLEN), "''");
  REJECT(metrics_gauge(m, "g", "h", "a,", err, ERRLEN), "''");
  REJECT(metrics_gauge(m, "g", "h", "a,b,a", err, ERRLEN), "'a' twice");
  REJECT(metrics_gauge(m, "g", "h", "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q",
                       err, ERRLEN), "more than 16 labels");
  REJECT(metrics_histogram(m, "h", "h", "le", NULL, 0, err, ERRLEN),
         "'le' is reserved");
  REJECT(metrics_histogram(m, "h", "h", NULL, down, 2, err, ERRLEN),
         "increase strictly");
  REJECT(metrics_histogram(m, "h", "h", NULL, inf, 2, err, ERRLEN),
         "not finite");
  REJECT(metrics_histogram(m, "h", "h", NULL, nan, 1, err, ERRLEN),
         "not finite");
  REJECT(metrics_histogram(m, "h", "h", NULL, many, METRICS_MAX_BUCKETS + 1,
                           err, ERRLEN), "bucket bounds, at most");

  /* Duplicates and names a histogram writes. */
  CHECK(metrics_histogram(m, "req", "h", NULL, NULL, 0, err, ERRLEN) > 0);
  CHECK(metrics_gauge(m, "le", "h", "route", err, ERRLEN) > 0);
  REJECT(metrics_gauge(m, "req", "h", NULL, err, ERRLEN), "clashes");
  REJECT(metrics_gauge(m, "req_count", "h", NULL, err, ERRLEN),
         "clashes with metric 'req'");
  REJECT(metrics_histogram(m, "req_sum", "h", NULL, NULL, 0, err, ERRLEN),
         "clashes");
  REJECT(metrics_counter(m, METRICS_DROPPED_NAME, "h", NULL, err, ERRLEN),
         "clashes");
  CHECK(metrics_gauge(m, "req_counts", "h", NULL, err, ERRLEN) > 0);
  CHECK(metrics_gauge(m, "ns:sub_x", "h", NULL, err, ERRLEN) > 0);

  /* Up to the family cap. */
  int last = 0;
  for (int i = 0; last >= 0; i++) {
    snprintf(name, sizeof name, "g%d", i);
    last = metrics_gauge(m, name, "h", NULL, err, ERRLEN);
  }
  CHECK_CONTAINS(err, "more than 256 metrics");
  int fam = metrics_gauge(m, "late", "h", NULL, err, ERRLEN);
  CHECK_EQ_INT(fam, -1);
  metrics_free(m);
}

static void test_series_cap(void)
{
  metrics *m = fresh();
  char err[ERRLEN], id[32];
  const char *v[] = { id };

  int c = metrics_counter(m, "nerox_ids_total", "Ids.", "id", err, ERRLEN);
  for (int i = 0; i < METRICS_MAX_SERIES; i++) {
    snprintf(id, sizeof id, "%d", i);
    CHECK_EQ_INT(metrics_add(m, c, v, 1), 0);
  }
  snprintf(id, sizeof id, "new");
  CHECK_EQ_INT(metrics_add(m, c, v, 1), -1);
  CHECK_EQ_INT(metrics_add(m, c, v, 1), -1);
  snprintf(id, sizeof id, "%d", METRICS_MAX_SERIES - 1);
  CHECK_EQ_INT(metrics_add(m, c, v, 1), 0);

  char *text = metrics_render(m);
  CHECK(text != NULL);
  if (text) {
    CHECK_CONTAINS(text, DROPPED_HEAD
                   "nerox_metrics_dropped_total{metric=\"nerox_ids_total\"} "
                   "2\n# HELP nerox_ids_total");
    CHECK_CONTAINS(text, "\nnerox_ids_total{id=\"0\"} 1\n"
                   "nerox_ids_total{id=\"1\"} 1\n");
    CHECK_CONTAINS(text, "{id=\"999\"} 2\n");
    CHECK(strstr(text, "\"new\"") == NULL);
  }
  free(text);
  metrics_free(m);
}

typedef struct mt_arg {
  metrics *m;
  int counter, hist;
  int failures;
} mt_arg;

static void *mt_adder(void *p)
{
  mt_arg *a = p;
  char route[32];
  const char *v[] = { route, "200" };

  for (int i = 0; i < MT_ADDS; i++) {
    snprintf(route, sizeof route, "/r%d", i % MT_ROUTES);
    if (metrics_add(a->m, a->counter, v, 1) != 0 ||
        metrics_observe(a->m, a->hist, NULL, (i % 4) * 0.5) != 0)
      a->failures++;
  }
  return NULL;
}

/* Renders while the adders run: each render parses, and its count never
 * falls behind the one before. */
static void *mt_renderer(void *p)
{
  mt_arg *a = p;
  long long last = -1;

  for (int i = 0; i < 200; i++) {
    char *text = metrics_render(a->m);
    const char *at = text ? strstr(text, "nerox_mt_seconds_count ") : NULL;
    long long n = at ? atoll(at + strlen("nerox_mt_seconds_count ")) : -1;
    if (!text || n < last)
      a->failures++;
    last = n;
    free(text);
  }
  return NULL;
}

static void test_threads(void)
{
  metrics *m = fresh();
  char err[ERRLEN];
  pthread_t t[MT_THREADS + 1];
  const double b[] = { 0.5, 1 };
  mt_arg a = { m, 0, 0, 0 };

  a.counter = metrics_counter(m, "nerox_mt_total", "Adds.", "route,code",
                              err, ERRLEN);
  a.hist = metrics_histogram(m, "nerox_mt_seconds", "Obs.", NULL, b, 2,
                             err, ERRLEN);
  double t0 = clock_mono_s();
  for (int i = 0; i <= MT_THREADS; i++)
    CHECK_EQ_INT(pthread_create(&t[i], NULL,
                                i < MT_THREADS ? mt_adder : mt_renderer, &a),
                 0);
  for (int i = 0; i <= MT_THREADS; i++)
    CHECK_EQ_INT(pthread_join(t[i], NULL), 0);
  double dt = clock_mono_s() - t0;
  CHECK_EQ_INT(a.failures, 0);
  printf("threads: %d x %d adds and observes, 200 renders in %.3f s "
         "(%.0f samples/s)\n", MT_THREADS, MT_ADDS, dt,
         2.0 * MT_THREADS * MT_ADDS / dt);

  char *text = metrics_render(m), line[512];
  CHECK(text != NULL);
  for (int r = 0; text && r < MT_ROUTES; r++) {
    snprintf(line, sizeof line, "nerox_mt_total{route=\"/r%d\",code="
             "\"200\"} %d\n", r, MT_THREADS * MT_ADDS / MT_ROUTES);
    CHECK(strstr(text, line) != NULL);
  }
  /* (i % 4) * 0.5 per thread: a quarter each of 0, 0.5, 1 and 1.5. */
  int n = MT_THREADS * MT_ADDS, q = n / 4;
  snprintf(line, sizeof line, "nerox_mt_seconds_bucket{le=\"0.5\"} %d\n"
           "nerox_mt_seconds_bucket{le=\"1\"} %d\n"
           "nerox_mt_seconds_bucket{le=\"+Inf\"} %d\n"
           "nerox_mt_seconds_sum %d\nnerox_mt_seconds_count %d\n",
           2 * q, 3 * q, n, 3 * q, n);
  CHECK(text && strstr(text, line) != NULL);
  if (text && !strstr(text, line))
    fprintf(stderr, "render:\n%s", text);
  free(text);
  metrics_free(m);
}

/* A sample of every kind of line, for promtool. */
static int render_sample(const char *path)
{
  metrics *m = fresh();
  char err[ERRLEN], id[16];
  const char *route[] = { "/v1/jobs", "201" };
  const char *odd[] = { "a\\b\"c\nd \xc3\xa9", "" };
  const char *cap[] = { id };
  const double b[] = { 0.001, 0.5, 1, 2.5, 1e6 };

  int req = metrics_counter(m, "nerox_http_requests_total", "Requests by "
                            "route and status.", "route,status", err, ERRLEN);
  int esc = metrics_counter(m, "nerox_escaped_total", "Help with a back"
                            "\\slash\nand a newline.", "v,empty", err, ERRLEN);
  int g = metrics_gauge(m, "nerox_queue_depth", "Jobs waiting.", "k",
                        err, ERRLEN);
  int up = metrics_gauge(m, "nerox_up", "1 when serving.", NULL, err, ERRLEN);
  int h = metrics_histogram(m, "nerox_request_duration_seconds", "Request "
                            "time.", "route", b, 5, err, ERRLEN);
  int hd = metrics_histogram(m, "nerox_job_duration_seconds", "Job time.",
                             NULL, NULL, 0, err, ERRLEN);
  int none = metrics_gauge(m, "nerox_idle_workers", "Never set.", "pool",
                           err, ERRLEN);
  int small = metrics_counter(m, "nerox_capped_total", "Capped.", "id", err,
                              ERRLEN);
  if (req < 0 || esc < 0 || g < 0 || up < 0 || h < 0 || hd < 0 ||
      none < 0 || small < 0) {
    fprintf(stderr, "sample: %s\n", err);
    metrics_free(m);
    return 1;
  }
  int bad = metrics_add(m, req, route, 3) | metrics_add(m, esc, odd, 0.25);
  static const double gv[] = { 0, -2.5, 1e20, 1.5e-9, NAN, INFINITY,
                               -INFINITY };
  for (size_t i = 0; i < sizeof gv / sizeof gv[0]; i++) {
    const char *k[] = { id };
    snprintf(id, sizeof id, "k%zu", i);
    bad |= metrics_set(m, g, k, gv[i]);
  }
  bad |= metrics_set(m, up, NULL, 1) | metrics_observe(m, h, route, 0.2) |
         metrics_observe(m, h, route, 3) | metrics_observe(m, hd, NULL, 42);
  for (int i = 0; i < METRICS_MAX_SERIES; i++) {
    snprintf(id, sizeof id, "%d", i);
    bad |= metrics_add(m, small, cap, 1);
  }
  /* One past the cap: dropped and counted. */
  snprintf(id, sizeof id, "%d", METRICS_MAX_SERIES);
  if (bad || metrics_add(m, small, cap, 1) != -1) {
    fprintf(stderr, "sample: a sample was not recorded as expected\n");
    metrics_free(m);
    return 1;
  }

  char *text = metrics_render(m);
  FILE *f = fopen(path, "w");
  int rc = text && f && fputs(text, f) >= 0 ? 0 : 1;
  if (f && fclose(f) != 0)
    rc = 1;
  if (rc)
    fprintf(stderr, "cannot write %s\n", path);
  free(text);
  metrics_free(m);
  return rc;
}

int main(int argc, char **argv)
{
  if (argc == 3 && strcmp(argv[1], "--render") == 0)
    return render_sample(argv[2]);
  test_empty();
  test_counter();
  test_gauge_numbers();
  test_histogram();
  test_escaping();
  test_names();
  test_series_cap();
  test_threads();
  return test_report("test_metrics");
}
