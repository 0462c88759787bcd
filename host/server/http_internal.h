/* Internals of the HTTP front, shared by http.c (routing, responses, the
 * daemon), http_submit.c (POST /v1/jobs) and http_sse.c (event
 * streams). */
#ifndef NEROX_HTTP_INTERNAL_H
#define NEROX_HTTP_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>

#include <jansson.h>
#include <microhttpd.h>

#include "server/http.h"
#include "server/keys.h"
#include "server/ratelimit.h"
#include "server/srv_auth.h"
#include "server/srv_counts.h"

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

/* An event stream being written (http_sse.c). */
typedef struct http_sse http_sse;

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

/* http.c */
const char *http_header(http_ctx *x, const char *name);

/* http_submit.c: POST /v1/jobs. */
int http_submit(http_ctx *x, http_reply *r, srv_error *e);

/* http_sse.c: GET /v1/jobs/{id}/events, and the response that writes the
 * stream (NULL when out of memory; the stream is freed either way). */
int http_events(http_ctx *x, http_reply *r, srv_error *e);
struct MHD_Response *http_sse_response(http_sse *ss);
void http_sse_free(void *cls);

#endif
