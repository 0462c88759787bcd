/* The HTTP front of `nerox serve` (see http.h): request bodies, routing,
 * authentication and limits, the small handlers, and the one conversion
 * of errors into responses. Submissions are in http_submit.c, event
 * streams in http_sse.c. */
#include "server/http_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/srv_usage.h"
#include "util/clock.h"
#include "util/log.h"

#define HTTP_BEARER "Bearer "
#define HTTP_ALLOW_MAX 32

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

const char *http_header(http_ctx *x, const char *name)
{
  return MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, name);
}

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
  struct MHD_Response *resp = http_sse_response(r->sse);
  if (!resp)
    return MHD_NO;
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
