/* The HTTP front of `nerox serve` (see http.h): request bodies, routing,
 * authentication, and the one conversion of errors into responses. */
#include "server/http.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <microhttpd.h>

#include "server/keys.h"
#include "server/ratelimit.h"
#include "server/srv_auth.h"
#include "server/srv_counts.h"
#include "server/srv_usage.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/sha256.h"

#define HTTP_BEARER "Bearer "
#define HTTP_ALLOW_MAX 32
/* Longest Idempotency-Key accepted. */
#define HTTP_IDEM_MAX (STORE_IDEM_MAX - 1)
/* How long an event stream waits for events at a time, in seconds, so
 * that it notices a server stopping. */
#define HTTP_SSE_SLICE_S 0.25
/* Reconnection delay suggested to event-stream clients, in ms. */
#define HTTP_SSE_RETRY_MS 1000

struct http_server {
  struct MHD_Daemon *d;
  store *st;
  srv_jobs *jobs;
  srv_auth *auth;
  ratelimit *rl;
  srv_counts *streams; /* open event streams by account */
  srv_metrics *metrics;
  size_t max_body;
  double heartbeat_s;
  unsigned port;
  atomic_int draining;
  atomic_int stopping;
};

/* One request's body, read as it arrives. */
typedef struct http_req {
  double start_s;    /* when its first byte was seen */
  const char *route; /* the route's pattern, once routed */
  char *body;
  size_t len, cap;
  int too_large;
  int oom;
} http_req;

/* An event stream being written (GET /v1/jobs/{id}/events). */
typedef struct http_sse {
  http_server *h;
  char account[STORE_NAME_MAX];
  char id[STORE_ID_MAX];
  int64_t last_seq;
  double last_write_s;
  int done;
  int follow; /* 0: the events there are now, then the end */
  char *buf;
  size_t len, off, cap;
} http_sse;

/* What a route handler sees. */
typedef struct http_ctx {
  struct MHD_Connection *c;
  http_server *h;
  http_req *req;
  const char *id; /* the {id} of the path, or NULL */
  keys_identity who;
  plans_limits limits; /* the caller's account's */
  srv_rate rate;       /* reported in X-RateLimit-* */
} http_ctx;

/* What a route handler answers: JSON, JSON text (owned), or an event
 * stream (owned). */
typedef struct http_reply {
  int status;
  json_t *json;
  char *text;
  http_sse *sse;
  int replayed; /* a submission answered from its Idempotency-Key */
  const char *content_type; /* NULL: JSON */
} http_reply;

typedef int (*http_fn)(http_ctx *x, http_reply *r, srv_error *e);

typedef struct http_route {
  const char *pattern; /* segments; ":id" matches a job id */
  const char *method;
  unsigned scope; /* 0: no key needed */
  http_fn fn;
} http_route;

/* ---- handlers ------------------------------------------------------- */

static int http_healthz(http_ctx *x, http_reply *r, srv_error *e)
{
  int draining = atomic_load(&x->h->draining);
  r->status = draining ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK;
  r->json = json_pack("{s:s}", "status", draining ? "draining" : "ok");
  return r->json ? 0 : srv_fail(e, 500, "out of memory");
}

/* The request body as a JSON object; 400 naming the position. */
static int http_body_json(http_ctx *x, json_t **out, srv_error *e)
{
  json_error_t je;
  *out = json_loadb(x->req->body ? x->req->body : "", x->req->len,
                    JSON_REJECT_DUPLICATES, &je);
  if (!*out)
    return srv_fail(e, 400, "malformed JSON at line %d, column %d: %s",
                    je.line, je.column, je.text);
  if (!json_is_object(*out)) {
    json_decref(*out);
    *out = NULL;
    return srv_fail(e, 400, "expected a JSON object {\"problem_type\": "
                    "..., ...}");
  }
  return 0;
}

static const char *http_header(http_ctx *x, const char *name)
{
  return MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, name);
}

/* Whether the request's Content-Type is one of the TSPLIB text types. */
static int http_is_tsplib(http_ctx *x)
{
  const char *ct = http_header(x, MHD_HTTP_HEADER_CONTENT_TYPE);
  static const char *const types[] = { "text/plain", "application/x-tsplib",
                                       "chemical/x-tsplib" };
  for (size_t i = 0; ct && i < sizeof types / sizeof *types; i++) {
    size_t n = strlen(types[i]);
    if (strncasecmp(ct, types[i], n) == 0 &&
        (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
      return 1;
  }
  return 0;
}

/* Whether v is a decimal number as JSON writes one (no hex, no inf or
 * nan, no spaces). */
static int http_is_decimal(const char *v)
{
  const char *p = v + (*v == '-');
  if (!(*p >= '0' && *p <= '9'))
    return 0;
  for (; *p; p++)
    if (!strchr("0123456789.eE+-", *p))
      return 0;
  return 1;
}

/* A query value as JSON: an integer, a finite number, true/false, or
 * text; NULL when it is a number out of range. */
static json_t *http_query_value(const char *v)
{
  if (http_is_decimal(v)) {
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (!*end && errno == 0)
      return json_integer(n);
    errno = 0;
    double d = strtod(v, &end);
    if (!*end && errno == 0 && isfinite(d))
      return json_real(d);
    return NULL;
  }
  if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
    return json_boolean(v[0] == 't');
  return json_string(v);
}

/* Collects query arguments into a submission; the first bad one stops. */
typedef struct http_query_acc {
  json_t *sub;
  srv_error *e;
  int failed;
} http_query_acc;

static enum MHD_Result http_add_query(void *cls, enum MHD_ValueKind kind,
                                      const char *key, size_t key_size,
                                      const char *value, size_t value_size)
{
  (void)kind;
  http_query_acc *acc = cls;
  const char *why = NULL;
  json_t *v = NULL;
  if (strlen(key) != key_size || (value && strlen(value) != value_size))
    why = "contains a NUL byte";
  else if (json_object_get(acc->sub, key))
    why = "is given twice";
  else if (!(v = http_query_value(value ? value : "")))
    why = "is not a finite number";
  if (!why && json_object_set_new(acc->sub, key, v) == 0)
    return MHD_YES;
  if (!why)
    srv_fail(acc->e, 500, "out of memory");
  else
    srv_fail(acc->e, 400, "query argument '%.64s' %s", key, why);
  snprintf(acc->e->field, sizeof acc->e->field, "%.64s", key);
  acc->failed = 1;
  return MHD_NO;
}

/* A TSPLIB file body as a tsp submission; job parameters come from the
 * query string (?solver=gpu&time_limit=30). */
static int http_body_tsplib(http_ctx *x, json_t **out, srv_error *e)
{
  json_t *text = json_stringn(x->req->body ? x->req->body : "",
                              x->req->len);
  if (!text)
    return srv_fail(e, 400, "the TSPLIB body is not UTF-8 text");
  json_t *sub = json_object();
  if (!sub || json_object_set_new(sub, "tsplib_text", text) != 0) {
    json_decref(sub);
    return srv_fail(e, 500, "out of memory");
  }
  http_query_acc acc = { sub, e, 0 };
  MHD_get_connection_values_n(x->c, MHD_GET_ARGUMENT_KIND, http_add_query,
                              &acc);
  if (acc.failed) {
    json_decref(sub);
    return -1;
  }
  json_t *type = json_object_get(sub, "problem_type");
  if (type && !(json_is_string(type) &&
                strcmp(json_string_value(type), "tsp") == 0)) {
    json_decref(sub);
    srv_fail(e, 400, "problem_type: a TSPLIB body is a tsp problem; send "
             "other problem types as JSON");
    snprintf(e->field, sizeof e->field, "problem_type");
    return -1;
  }
  if (!type)
    json_object_set_new(sub, "problem_type", json_string("tsp"));
  *out = sub;
  return 0;
}

/* The Idempotency-Key header: 0 with *key (NULL when absent), or 400. */
static int http_idem_key(http_ctx *x, const char **key, srv_error *e)
{
  *key = http_header(x, "Idempotency-Key");
  if (!*key)
    return 0;
  size_t n = strlen(*key);
  int ok = n >= 1 && n <= HTTP_IDEM_MAX;
  for (size_t i = 0; ok && i < n; i++)
    ok = (*key)[i] >= 0x21 && (*key)[i] <= 0x7e;
  if (ok)
    return 0;
  srv_fail(e, 400, "Idempotency-Key: expected 1 to %d printable ASCII "
           "characters without spaces", HTTP_IDEM_MAX);
  snprintf(e->field, sizeof e->field, "Idempotency-Key");
  return -1;
}

/* SHA-256 hex of the submission in a canonical form (sorted keys). */
static int http_body_hash(json_t *sub, char out[STORE_HASH_MAX],
                          srv_error *e)
{
  char *text = json_dumps(sub, JSON_COMPACT | JSON_SORT_KEYS);
  if (!text)
    return srv_fail(e, 500, "out of memory");
  sha256_ctx c;
  uint8_t d[SHA256_DIGEST_LEN];
  sha256_init(&c);
  sha256_update(&c, text, strlen(text));
  sha256_final(&c, d);
  free(text);
  for (int i = 0; i < SHA256_DIGEST_LEN; i++)
    snprintf(out + 2 * i, 3, "%02x", d[i]);
  return 0;
}

static int http_submit(http_ctx *x, http_reply *r, srv_error *e)
{
  json_t *sub;
  const char *idem;
  char hash[STORE_HASH_MAX] = "";
  if (atomic_load(&x->h->draining))
    return srv_fail(e, 503, "the server is shutting down and accepts no "
                    "new jobs; submit again in a moment");
  if (http_idem_key(x, &idem, e) != 0)
    return -1;
  int rc = http_is_tsplib(x) ? http_body_tsplib(x, &sub, e)
                             : http_body_json(x, &sub, e);
  if (rc != 0)
    return -1;
  if (idem && http_body_hash(sub, hash, e) != 0) {
    json_decref(sub);
    return -1;
  }
  srv_submit_req rq = { x->who.account, &x->limits, idem, hash };
  rc = srv_jobs_submit(x->h->jobs, &rq, sub, &r->json, &r->replayed, e);
  json_decref(sub);
  r->status = r->replayed ? MHD_HTTP_OK : MHD_HTTP_ACCEPTED;
  return rc;
}

/* GET /metrics: Prometheus text. */
static int http_metrics(http_ctx *x, http_reply *r, srv_error *e)
{
  size_t queued, running;
  srv_jobs_counts(x->h->jobs, &queued, &running);
  r->text = srv_metrics_render(x->h->metrics, queued, running);
  r->content_type = "text/plain; version=0.0.4; charset=utf-8";
  return r->text ? 0 : srv_fail(e, 500, "out of memory");
}

static int http_usage(http_ctx *x, http_reply *r, srv_error *e)
{
  return srv_usage_get(x->h->st, x->who.account, x->who.plan, &x->limits,
                       store_now_ms(), &r->json, e);
}

static int http_cancel_all(http_ctx *x, http_reply *r, srv_error *e)
{
  json_t *ids = srv_jobs_cancel_all(x->h->jobs, x->who.account, e);
  if (!ids)
    return -1;
  size_t n = json_array_size(ids);
  r->json = json_pack("{s:o, s:I}", "cancelled", ids, "count",
                      (json_int_t)n);
  return r->json ? 0 : srv_fail(e, 500, "out of memory");
}

static int http_get(http_ctx *x, http_reply *r, srv_error *e)
{
  return srv_jobs_get(x->h->jobs, x->who.account, x->id, &r->json, e);
}

static int http_result(http_ctx *x, http_reply *r, srv_error *e)
{
  return srv_jobs_result(x->h->jobs, x->who.account, x->id, &r->text, e);
}

static int http_cancel(http_ctx *x, http_reply *r, srv_error *e)
{
  return srv_jobs_cancel(x->h->jobs, x->who.account, x->id, &r->json, e);
}

/* A query argument as an integer, or dflt when absent. */
static int http_query_int(http_ctx *x, const char *name, int64_t dflt,
                          int64_t *out, srv_error *e)
{
  const char *v = MHD_lookup_connection_value(x->c, MHD_GET_ARGUMENT_KIND,
                                              name);
  *out = dflt;
  if (!v)
    return 0;
  char *end;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (errno != 0 || end == v || *end != '\0') {
    srv_fail(e, 400, "%s: expected an integer, got '%s'", name, v);
    snprintf(e->field, sizeof e->field, "%s", name);
    return -1;
  }
  *out = n;
  return 0;
}

static int http_list(http_ctx *x, http_reply *r, srv_error *e)
{
  int64_t limit, offset;
  if (http_query_int(x, "limit", SRV_LIST_DEFAULT_LIMIT, &limit, e) ||
      http_query_int(x, "offset", 0, &offset, e))
    return -1;
  const char *state = MHD_lookup_connection_value(
    x->c, MHD_GET_ARGUMENT_KIND, "status");
  return srv_jobs_list(x->h->jobs, x->who.account, state, limit, offset,
                       &r->json, e);
}

/* ---- event streams -------------------------------------------------- */

/* Where a stream starts: Last-Event-ID, else ?after=, else 0. */
static int http_sse_after(http_ctx *x, int64_t *after, srv_error *e)
{
  const char *name = "Last-Event-ID";
  const char *v = http_header(x, name);
  if (!v) {
    name = "after";
    v = MHD_lookup_connection_value(x->c, MHD_GET_ARGUMENT_KIND, name);
  }
  *after = 0;
  if (!v)
    return 0;
  char *end;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (errno == 0 && end != v && *end == '\0' && n >= 0) {
    *after = n;
    return 0;
  }
  srv_fail(e, 400, "%s: expected an event id (an integer >= 0), got '%s'",
           name, v);
  snprintf(e->field, sizeof e->field, "%s", name);
  return -1;
}

static int http_sse_reserve(http_sse *ss, size_t more)
{
  if (ss->len + more + 1 <= ss->cap)
    return 0;
  size_t cap = ss->cap ? ss->cap : 1024;
  while (cap < ss->len + more + 1)
    cap *= 2;
  char *b = realloc(ss->buf, cap);
  if (!b)
    return -1;
  ss->buf = b;
  ss->cap = cap;
  return 0;
}

/* Appends formatted text to the stream's buffer. */
static int http_sse_put(http_sse *ss, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

static int http_sse_put(http_sse *ss, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || http_sse_reserve(ss, (size_t)n) != 0)
    return -1;
  va_start(ap, fmt);
  vsnprintf(ss->buf + ss->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  ss->len += (size_t)n;
  return 0;
}

/* Writes events as "id: SEQ\nevent: TYPE\ndata: JSON\n\n". */
static int http_sse_put_events(http_sse *ss, json_t *events)
{
  size_t i;
  json_t *ev;
  json_array_foreach(events, i, ev) {
    char *data = json_dumps(ev, JSON_COMPACT);
    json_int_t seq = json_integer_value(json_object_get(ev, "seq"));
    const char *type = json_string_value(json_object_get(ev, "type"));
    int rc = data ? http_sse_put(ss, "id: %lld\nevent: %s\ndata: %s\n\n",
                                 (long long)seq, type ? type : "progress",
                                 data)
                  : -1;
    free(data);
    if (rc != 0)
      return -1;
    if (seq > ss->last_seq)
      ss->last_seq = seq;
  }
  return 0;
}

/* Fills the empty buffer: events, a heartbeat, or an error event. */
static void http_sse_fill(http_sse *ss)
{
  json_t *events = NULL;
  srv_error e;
  ss->len = ss->off = 0;
  double wait_s = ss->follow ? HTTP_SSE_SLICE_S : 0.0;
  if (srv_jobs_events(ss->h->jobs, ss->account, ss->id, ss->last_seq,
                      wait_s, &events, &ss->done, &e) != 0) {
    ss->done = 1;
    json_t *o = json_pack("{s:s, s:s}", "type", e.type, "message",
                          e.message);
    char *data = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (data)
      http_sse_put(ss, "event: error\ndata: %s\n\n", data);
    free(data);
    return;
  }
  double now = clock_mono_s();
  if (json_array_size(events) > 0) {
    if (http_sse_put_events(ss, events) != 0)
      ss->done = 1;
    ss->last_write_s = now;
  } else if (!ss->follow) {
    ss->done = 1;
  } else if (!ss->done && now - ss->last_write_s >= ss->h->heartbeat_s) {
    http_sse_put(ss, ": heartbeat\n\n");
    ss->last_write_s = now;
  }
  json_decref(events);
}

static ssize_t http_sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
  http_sse *ss = cls;
  (void)pos;
  while (ss->off == ss->len) {
    if (ss->done || atomic_load(&ss->h->stopping))
      return MHD_CONTENT_READER_END_OF_STREAM;
    http_sse_fill(ss);
  }
  size_t n = ss->len - ss->off;
  if (n > max)
    n = max;
  memcpy(buf, ss->buf + ss->off, n);
  ss->off += n;
  return (ssize_t)n;
}

static void http_sse_free(void *cls)
{
  http_sse *ss = cls;
  if (ss) {
    srv_counts_add(ss->h->streams, ss->account, -1);
    free(ss->buf);
    free(ss);
  }
}

/* Takes one of the account's event streams; 429 when all are open. */
static int http_sse_take(http_ctx *x, srv_error *e)
{
  if (srv_counts_take(x->h->streams, x->who.account,
                      HTTP_MAX_STREAMS_PER_ACCOUNT))
    return 0;
  int64_t now_s = store_now_ms() / 1000;
  srv_rate r = { "event_streams", HTTP_MAX_STREAMS_PER_ACCOUNT, 0,
                 now_s + 1, 1 };
  return srv_fail_rate(e, &r, "event_streams: the account has %d event "
                       "streams open, the most it may; close one",
                       HTTP_MAX_STREAMS_PER_ACCOUNT);
}

/* ?follow=false: only the events there are now. */
static int http_sse_follow(http_ctx *x, int *follow, srv_error *e)
{
  const char *v = MHD_lookup_connection_value(x->c, MHD_GET_ARGUMENT_KIND,
                                              "follow");
  *follow = 1;
  if (!v || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
    return 0;
  if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0) {
    *follow = 0;
    return 0;
  }
  srv_fail(e, 400, "follow: expected true or false, got '%s'", v);
  snprintf(e->field, sizeof e->field, "follow");
  return -1;
}

static int http_events(http_ctx *x, http_reply *r, srv_error *e)
{
  int64_t after;
  int follow;
  json_t *job;
  if (http_sse_after(x, &after, e) != 0 ||
      http_sse_follow(x, &follow, e) != 0 ||
      srv_jobs_get(x->h->jobs, x->who.account, x->id, &job, e) != 0)
    return -1;
  json_decref(job);
  if (http_sse_take(x, e) != 0)
    return -1;
  http_sse *ss = calloc(1, sizeof *ss);
  if (!ss) {
    srv_counts_add(x->h->streams, x->who.account, -1);
    return srv_fail(e, 500, "out of memory");
  }
  ss->h = x->h;
  snprintf(ss->account, sizeof ss->account, "%s", x->who.account);
  snprintf(ss->id, sizeof ss->id, "%s", x->id);
  ss->last_seq = after;
  ss->follow = follow;
  ss->last_write_s = clock_mono_s();
  if (http_sse_put(ss, "retry: %d\n\n", HTTP_SSE_RETRY_MS) != 0) {
    http_sse_free(ss);
    return srv_fail(e, 500, "out of memory");
  }
  /* A stream may be quiet for longer than an idle connection is kept:
   * the heartbeats, not a timeout, find readers that are gone. */
  if (MHD_set_connection_option(x->c, MHD_CONNECTION_OPTION_TIMEOUT,
                                0u) != MHD_YES)
    LOG_W("http", "an event stream keeps the connection timeout");
  r->sse = ss;
  return 0;
}

static const http_route http_routes[] = {
  { "/healthz", "GET", 0, http_healthz },
  { "/metrics", "GET", 0, http_metrics },
  { "/v1/jobs", "POST", KEYS_SCOPE_JOBS_WRITE, http_submit },
  { "/v1/jobs", "GET", KEYS_SCOPE_JOBS_READ, http_list },
  { "/v1/jobs/cancel", "POST", KEYS_SCOPE_JOBS_WRITE, http_cancel_all },
  { "/v1/jobs/:id", "GET", KEYS_SCOPE_JOBS_READ, http_get },
  { "/v1/jobs/:id/result", "GET", KEYS_SCOPE_JOBS_READ, http_result },
  { "/v1/jobs/:id/cancel", "POST", KEYS_SCOPE_JOBS_WRITE, http_cancel },
  { "/v1/jobs/:id/events", "GET", KEYS_SCOPE_JOBS_READ, http_events },
  { "/v1/usage", "GET", KEYS_SCOPE_USAGE_READ, http_usage },
};
#define HTTP_NROUTES (sizeof http_routes / sizeof *http_routes)

/* ---- routing -------------------------------------------------------- */

static int http_id_char(char ch)
{
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
         (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
}

/* Whether url matches pattern; the :id segment is copied to id. */
static int http_match(const char *pattern, const char *url,
                      char id[STORE_ID_MAX])
{
  while (*pattern && *url) {
    if (strncmp(pattern, ":id", 3) == 0) {
      size_t n = 0;
      while (http_id_char(url[n]))
        n++;
      if (n == 0 || n >= STORE_ID_MAX)
        return 0;
      memcpy(id, url, n);
      id[n] = '\0';
      pattern += 3;
      url += n;
    } else if (*pattern++ != *url++) {
      return 0;
    }
  }
  return *pattern == '\0' && *url == '\0';
}

static int http_auth(http_ctx *x, unsigned scope, srv_error *e)
{
  const char *hdr = MHD_lookup_connection_value(x->c, MHD_HEADER_KIND,
                                                "Authorization");
  size_t plen = strlen(HTTP_BEARER);
  if (!hdr || strncasecmp(hdr, HTTP_BEARER, plen) != 0)
    return srv_fail(e, 401, "missing API key: send Authorization: Bearer "
                    "KEY");
  srv_caller caller;
  if (srv_auth_verify(x->h->auth, hdr + plen, &caller, e) != 0)
    return -1;
  x->who = caller.who;
  x->limits = caller.limits;
  if ((x->who.scopes & scope) != scope) {
    char name[STORE_SCOPES_MAX];
    keys_format_scopes(scope, name, sizeof name);
    return srv_fail(e, 403, "this key lacks the %s scope", name);
  }
  return 0;
}

/* Counts the request against the account's requests per minute; 429
 * when over. x->rate gets what the X-RateLimit-* headers report. */
static int http_rate(http_ctx *x, srv_error *e)
{
  ratelimit_verdict v;
  int64_t per_minute = x->limits.requests_per_minute;
  ratelimit_take(x->h->rl, x->who.account, per_minute, store_now_ms(), &v);
  if (per_minute == PLANS_UNLIMITED || per_minute <= 0)
    return 0;
  srv_rate r = { "requests_per_minute", v.limit, v.remaining, v.reset_s,
                 v.retry_after_s };
  x->rate = r;
  if (v.allowed)
    return 0;
  return srv_fail_rate(e, &r, "requests_per_minute: over the plan's %lld "
                       "requests per minute; retry in %lld s",
                       (long long)v.limit, (long long)v.retry_after_s);
}

/* Routes the request and runs its handler; allow gets the methods of a
 * path requested with another one (405). */
static int http_dispatch(http_ctx *x, const char *url, const char *method,
                         http_reply *r, char *allow, srv_error *e)
{
  char id[STORE_ID_MAX];
  const http_route *hit = NULL;
  int path_known = 0, literal = 0;
  /* HEAD is GET without the body (libmicrohttpd leaves it out). */
  const char *as = strcmp(method, "HEAD") == 0 ? "GET" : method;
  /* A path that is a route of its own ("/v1/jobs/cancel") is never a
   * job id. */
  for (size_t i = 0; i < HTTP_NROUTES; i++)
    literal |= !strchr(http_routes[i].pattern, ':') &&
               strcmp(http_routes[i].pattern, url) == 0;
  for (size_t i = 0; i < HTTP_NROUTES && !hit; i++) {
    if ((literal && strchr(http_routes[i].pattern, ':')) ||
        !http_match(http_routes[i].pattern, url, id))
      continue;
    if (strcmp(http_routes[i].method, as) == 0)
      hit = &http_routes[i];
    else if (strlen(allow) + 8 < HTTP_ALLOW_MAX)
      snprintf(allow + strlen(allow), HTTP_ALLOW_MAX - strlen(allow),
               "%s%s", path_known++ ? ", " : "", http_routes[i].method);
    if (!hit && !x->req->route)
      x->req->route = http_routes[i].pattern; /* for a 405 */
  }
  if (!hit && path_known)
    return srv_fail(e, 405, "%s is not allowed on %s (allowed: %s)",
                    method, url, allow);
  if (hit)
    x->req->route = hit->pattern;
  allow[0] = '\0';
  if (!hit)
    return srv_fail(e, 404, "no route %s %s", method, url);
  if (x->req->too_large)
    return srv_fail(e, 413, "the request body is larger than %zu bytes",
                    x->h->max_body);
  if (x->req->oom)
    return srv_fail(e, 500, "out of memory reading the request body");
  if (hit->scope && (http_auth(x, hit->scope, e) != 0 ||
                     http_rate(x, e) != 0))
    return -1;
  x->id = strstr(hit->pattern, ":id") ? id : NULL;
  r->status = MHD_HTTP_OK;
  return hit->fn(x, r, e);
}

/* ---- responses ------------------------------------------------------ */

static int http_header_int(struct MHD_Response *resp, const char *name,
                           int64_t v)
{
  char buf[32];
  snprintf(buf, sizeof buf, "%lld", (long long)v);
  return MHD_add_response_header(resp, name, buf) == MHD_YES ? 0 : -1;
}

/* X-RateLimit-* of the limit reported, and Retry-After on a 429. */
static int http_rate_headers(struct MHD_Response *resp, const srv_rate *r,
                             int status)
{
  if (!r->limit)
    return 0;
  int rc = http_header_int(resp, "X-RateLimit-Limit", r->max) |
           http_header_int(resp, "X-RateLimit-Remaining", r->remaining) |
           http_header_int(resp, "X-RateLimit-Reset", r->reset_s);
  if (status == MHD_HTTP_TOO_MANY_REQUESTS)
    rc |= http_header_int(resp, MHD_HTTP_HEADER_RETRY_AFTER,
                          r->retry_after_s < 1 ? 1 : r->retry_after_s);
  return rc;
}

/* Headers every answer may carry. */
typedef struct http_extra {
  const char *content_type;
  const char *allow;      /* 405 */
  const srv_rate *rate;
  int replayed;
} http_extra;

static enum MHD_Result http_queue(struct MHD_Connection *c, int status,
                                  struct MHD_Response *resp,
                                  const http_extra *ex)
{
  int rc = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                   ex->content_type) == MHD_YES ? 0 : -1;
  if (ex->allow && ex->allow[0])
    rc |= MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, ex->allow) ==
          MHD_YES ? 0 : -1;
  if (ex->rate)
    rc |= http_rate_headers(resp, ex->rate, status);
  if (ex->replayed)
    rc |= MHD_add_response_header(resp, "Idempotent-Replayed", "true") ==
          MHD_YES ? 0 : -1;
  if (rc != 0)
    LOG_W("http", "adding a response header failed");
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
  MHD_destroy_response(resp);
  return ret;
}

/* Sends text (malloc'd, freed here) as JSON with status. */
static enum MHD_Result http_send(struct MHD_Connection *c, int status,
                                 char *text, const http_extra *ex)
{
  struct MHD_Response *resp = MHD_create_response_from_buffer(
    strlen(text), text, MHD_RESPMEM_MUST_FREE);
  if (!resp) {
    free(text);
    return MHD_NO;
  }
  return http_queue(c, status, resp, ex);
}

/* The one place errors become HTTP answers. */
static enum MHD_Result http_send_error(struct MHD_Connection *c,
                                       const srv_error *e, const char *allow,
                                       const srv_rate *rate)
{
  json_t *inner = json_pack("{s:s, s:s}", "type", e->type, "message",
                            e->message);
  if (inner && e->field[0])
    json_object_set_new(inner, "field", json_string(e->field));
  if (inner && e->rate.limit)
    json_object_set_new(inner, "limit", json_string(e->rate.limit));
  json_t *body = inner ? json_pack("{s:o}", "error", inner) : NULL;
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if (!text)
    text = strdup("{\"error\":{\"type\":\"internal\",\"message\":"
                  "\"out of memory\"}}");
  if (!text)
    return MHD_NO;
  if (e->status >= 500 && e->status != 503)
    LOG_W("http", "%d %s", e->status, e->message);
  http_extra ex = { "application/json", allow,
                    e->rate.limit ? &e->rate : rate, 0 };
  return http_send(c, e->status, text, &ex);
}

static enum MHD_Result http_send_sse(struct MHD_Connection *c,
                                     http_reply *r, const srv_rate *rate)
{
  struct MHD_Response *resp = MHD_create_response_from_callback(
    MHD_SIZE_UNKNOWN, 4096, http_sse_read, r->sse, http_sse_free);
  if (!resp) {
    http_sse_free(r->sse);
    return MHD_NO;
  }
  if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                              "no-cache") != MHD_YES)
    LOG_W("http", "adding a response header failed");
  http_extra ex = { "text/event-stream", NULL, rate, 0 };
  return http_queue(c, MHD_HTTP_OK, resp, &ex);
}

static enum MHD_Result http_send_reply(struct MHD_Connection *c,
                                       http_reply *r, const srv_rate *rate)
{
  if (r->sse)
    return http_send_sse(c, r, rate);
  char *text = r->text;
  if (!text)
    text = json_dumps(r->json, JSON_COMPACT);
  json_decref(r->json);
  if (!text) {
    srv_error e;
    srv_fail(&e, 500, "out of memory writing the response");
    return http_send_error(c, &e, NULL, rate);
  }
  http_extra ex = { r->content_type ? r->content_type : "application/json",
                    NULL, rate, r->replayed };
  return http_send(c, r->status, text, &ex);
}

/* ---- libmicrohttpd callbacks ---------------------------------------- */

static void http_append(http_server *h, http_req *req, const char *data,
                        size_t n)
{
  if (req->too_large || req->oom)
    return;
  if (n > h->max_body - req->len) {
    req->too_large = 1;
    free(req->body);
    req->body = NULL;
    req->len = req->cap = 0;
    return;
  }
  if (req->len + n + 1 > req->cap) {
    size_t cap = req->cap ? req->cap : 4096;
    while (cap < req->len + n + 1)
      cap *= 2;
    char *b = realloc(req->body, cap);
    if (!b) {
      req->oom = 1;
      return;
    }
    req->body = b;
    req->cap = cap;
  }
  memcpy(req->body + req->len, data, n);
  req->len += n;
  req->body[req->len] = '\0';
}

/* The method as a metric label: one of a fixed set. */
static const char *http_known_method(const char *method)
{
  static const char *const known[] = { "GET", "POST", "PUT", "DELETE",
                                       "HEAD", "PATCH", "OPTIONS" };
  for (size_t i = 0; i < sizeof known / sizeof *known; i++)
    if (strcmp(method, known[i]) == 0)
      return known[i];
  return "other";
}

static enum MHD_Result http_handler(void *cls, struct MHD_Connection *c,
                                    const char *url, const char *method,
                                    const char *version,
                                    const char *upload_data,
                                    size_t *upload_size, void **con_cls)
{
  http_server *h = cls;
  http_req *req = *con_cls;
  (void)version;
  if (!req) {
    req = calloc(1, sizeof *req);
    *con_cls = req;
    if (req)
      req->start_s = clock_mono_s();
    return req ? MHD_YES : MHD_NO;
  }
  if (*upload_size) {
    http_append(h, req, upload_data, *upload_size);
    *upload_size = 0;
    return MHD_YES;
  }
  http_ctx x = { .c = c, .h = h, .req = req };
  http_reply r = { 0 };
  srv_error e;
  char allow[HTTP_ALLOW_MAX] = "";
  enum MHD_Result ret;
  int status;
  if (http_dispatch(&x, url, method, &r, allow, &e) != 0) {
    json_decref(r.json);
    free(r.text);
    http_sse_free(r.sse);
    status = e.status;
    if (status == MHD_HTTP_TOO_MANY_REQUESTS)
      srv_metrics_rejected(h->metrics, e.rate.limit);
    ret = http_send_error(c, &e, allow, &x.rate);
  } else {
    status = r.sse ? MHD_HTTP_OK : r.status;
    ret = http_send_reply(c, &r, &x.rate);
  }
  srv_metrics_request(h->metrics, req->route ? req->route : "unmatched",
                      http_known_method(method), status,
                      clock_mono_s() - req->start_s);
  return ret;
}

static void http_completed(void *cls, struct MHD_Connection *c,
                           void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
  (void)cls;
  (void)c;
  (void)toe;
  http_req *req = *con_cls;
  if (req) {
    free(req->body);
    free(req);
    *con_cls = NULL;
  }
}

/* ---- the daemon ----------------------------------------------------- */

static void http_free(http_server *h)
{
  srv_auth_free(h->auth); /* the metrics belong to h->jobs */
  srv_counts_free(h->streams);
  ratelimit_free(h->rl);
  free(h);
}

http_server *http_start(const http_config *cfg, store *st, srv_jobs *jobs,
                        char *err, size_t errlen)
{
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)cfg->port);
  if (inet_pton(AF_INET, cfg->addr, &sa.sin_addr) != 1) {
    snprintf(err, errlen, "--listen: '%s' is not an IPv4 address",
             cfg->addr);
    return NULL;
  }
  http_server *h = calloc(1, sizeof *h);
  if (!h) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  h->st = st;
  h->jobs = jobs;
  h->max_body = cfg->max_body;
  h->heartbeat_s = cfg->sse_heartbeat_s > 0 ? cfg->sse_heartbeat_s
                                            : HTTP_SSE_HEARTBEAT_S;
  h->auth = srv_auth_new(st);
  h->rl = ratelimit_new();
  h->streams = srv_counts_new();
  if (!h->auth || !h->rl || !h->streams) {
    snprintf(err, errlen, "out of memory");
    http_free(h);
    return NULL;
  }
  h->metrics = srv_metrics_new(err, errlen);
  if (!h->metrics) {
    http_free(h);
    return NULL;
  }
  srv_jobs_set_metrics(jobs, h->metrics);
  h->d = MHD_start_daemon(
    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
      MHD_USE_POLL | MHD_USE_ERROR_LOG,
    (uint16_t)cfg->port, NULL, NULL, http_handler, h,
    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_MAX_PER_CLIENT,
    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONNECTION_TIMEOUT_S,
    MHD_OPTION_NOTIFY_COMPLETED, http_completed, h,
    MHD_OPTION_EXTERNAL_LOGGER, log_library_debug, (void *)"http",
    MHD_OPTION_END);
  if (!h->d) {
    snprintf(err, errlen, "cannot listen on %s:%u (address in use?)",
             cfg->addr, cfg->port);
    http_free(h);
    return NULL;
  }
  const union MHD_DaemonInfo *info =
    MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
  h->port = info ? info->port : cfg->port;
  return h;
}

unsigned http_port(const http_server *h)
{
  return h->port;
}

void http_set_draining(http_server *h)
{
  atomic_store(&h->draining, 1);
}

void http_stop(http_server *h)
{
  if (!h)
    return;
  atomic_store(&h->stopping, 1);
  MHD_stop_daemon(h->d);
  http_free(h);
}
