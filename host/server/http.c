/* The HTTP front of `nerox serve` (see http.h): request bodies, routing,
 * authentication, and the one conversion of errors into responses. */
#include "server/http.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <microhttpd.h>

#include "server/keys.h"
#include "util/log.h"

#define HTTP_BEARER "Bearer "
#define HTTP_ALLOW_MAX 32

struct http_server {
  struct MHD_Daemon *d;
  store *st;
  srv_jobs *jobs;
  size_t max_body;
  unsigned port;
  atomic_int draining;
};

/* One request's body, read as it arrives. */
typedef struct http_req {
  char *body;
  size_t len, cap;
  int too_large;
  int oom;
} http_req;

/* What a route handler sees. */
typedef struct http_ctx {
  struct MHD_Connection *c;
  http_server *h;
  http_req *req;
  const char *id; /* the {id} of the path, or NULL */
  keys_identity who;
} http_ctx;

/* What a route handler answers: JSON, or JSON text (owned). */
typedef struct http_reply {
  int status;
  json_t *json;
  char *text;
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

static int http_submit(http_ctx *x, http_reply *r, srv_error *e)
{
  json_t *sub;
  if (atomic_load(&x->h->draining))
    return srv_fail(e, 503, "the server is shutting down and accepts no "
                    "new jobs; submit again in a moment");
  if (http_body_json(x, &sub, e) != 0)
    return -1;
  int rc = srv_jobs_submit(x->h->jobs, x->who.account, sub, &r->json, e);
  json_decref(sub);
  r->status = MHD_HTTP_ACCEPTED;
  return rc;
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
  { "/v1/jobs", "POST", KEYS_SCOPE_JOBS_WRITE, http_submit },
  { "/v1/jobs", "GET", KEYS_SCOPE_JOBS_READ, http_list },
  { "/v1/jobs/:id", "GET", KEYS_SCOPE_JOBS_READ, http_get },
  { "/v1/jobs/:id/result", "GET", KEYS_SCOPE_JOBS_READ, http_result },
  { "/v1/jobs/:id/cancel", "POST", KEYS_SCOPE_JOBS_WRITE, http_cancel },
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
  char err[256];
  int rc = keys_verify(x->h->st, hdr + plen, &x->who, err, sizeof err);
  if (rc == KEYS_UNKNOWN)
    return srv_fail(e, 401, "unknown or revoked API key");
  if (rc != KEYS_OK)
    return srv_fail(e, 500, "checking the API key: %s", err);
  if ((x->who.scopes & scope) != scope) {
    char name[STORE_SCOPES_MAX];
    keys_format_scopes(scope, name, sizeof name);
    return srv_fail(e, 403, "this key lacks the %s scope", name);
  }
  return 0;
}

/* Routes the request and runs its handler; allow gets the methods of a
 * path requested with another one (405). */
static int http_dispatch(http_ctx *x, const char *url, const char *method,
                         http_reply *r, char *allow, srv_error *e)
{
  char id[STORE_ID_MAX];
  const http_route *hit = NULL;
  int path_known = 0;
  for (size_t i = 0; i < HTTP_NROUTES && !hit; i++) {
    if (!http_match(http_routes[i].pattern, url, id))
      continue;
    if (strcmp(http_routes[i].method, method) == 0)
      hit = &http_routes[i];
    else if (strlen(allow) + 8 < HTTP_ALLOW_MAX)
      snprintf(allow + strlen(allow), HTTP_ALLOW_MAX - strlen(allow),
               "%s%s", path_known++ ? ", " : "", http_routes[i].method);
  }
  if (!hit && path_known)
    return srv_fail(e, 405, "%s is not allowed on %s (allowed: %s)",
                    method, url, allow);
  allow[0] = '\0';
  if (!hit)
    return srv_fail(e, 404, "no route %s %s", method, url);
  if (x->req->too_large)
    return srv_fail(e, 413, "the request body is larger than %zu bytes",
                    x->h->max_body);
  if (x->req->oom)
    return srv_fail(e, 500, "out of memory reading the request body");
  if (hit->scope && http_auth(x, hit->scope, e) != 0)
    return -1;
  x->id = strstr(hit->pattern, ":id") ? id : NULL;
  r->status = MHD_HTTP_OK;
  return hit->fn(x, r, e);
}

/* ---- responses ------------------------------------------------------ */

/* Sends text (malloc'd, freed here) as JSON with status. */
static enum MHD_Result http_send(struct MHD_Connection *c, int status,
                                 char *text, const char *allow)
{
  struct MHD_Response *resp = MHD_create_response_from_buffer(
    strlen(text), text, MHD_RESPMEM_MUST_FREE);
  if (!resp) {
    free(text);
    return MHD_NO;
  }
  if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                              "application/json") != MHD_YES ||
      (allow && allow[0] &&
       MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow) !=
         MHD_YES))
    LOG_W("http", "adding a response header failed");
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
  MHD_destroy_response(resp);
  return ret;
}

/* The one place errors become HTTP answers. */
static enum MHD_Result http_send_error(struct MHD_Connection *c,
                                       const srv_error *e, const char *allow)
{
  json_t *inner = json_pack("{s:s, s:s}", "type", e->type, "message",
                            e->message);
  if (inner && e->field[0])
    json_object_set_new(inner, "field", json_string(e->field));
  json_t *body = inner ? json_pack("{s:o}", "error", inner) : NULL;
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if (!text)
    text = strdup("{\"error\":{\"type\":\"internal\",\"message\":"
                  "\"out of memory\"}}");
  if (!text)
    return MHD_NO;
  if (e->status >= 500)
    LOG_W("http", "%d %s", e->status, e->message);
  return http_send(c, e->status, text, allow);
}

static enum MHD_Result http_send_reply(struct MHD_Connection *c,
                                       http_reply *r)
{
  char *text = r->text;
  if (!text)
    text = json_dumps(r->json, JSON_COMPACT);
  json_decref(r->json);
  if (!text) {
    srv_error e;
    srv_fail(&e, 500, "out of memory writing the response");
    return http_send_error(c, &e, NULL);
  }
  return http_send(c, r->status, text, NULL);
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
  if (http_dispatch(&x, url, method, &r, allow, &e) != 0) {
    json_decref(r.json);
    free(r.text);
    return http_send_error(c, &e, allow);
  }
  return http_send_reply(c, &r);
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
  h->d = MHD_start_daemon(
    MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)cfg->port, NULL, NULL,
    http_handler, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)HTTP_THREADS,
    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONNECTION_TIMEOUT_S,
    MHD_OPTION_NOTIFY_COMPLETED, http_completed, h, MHD_OPTION_END);
  if (!h->d) {
    snprintf(err, errlen, "cannot listen on %s:%u (address in use?)",
             cfg->addr, cfg->port);
    free(h);
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
  MHD_stop_daemon(h->d);
  free(h);
}
