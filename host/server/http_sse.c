/* Event streams of the HTTP front (see http_internal.h): GET
 * /v1/jobs/{id}/events as Server-Sent Events, read from the job's log
 * (srv_jobs_events) a slice at a time so that a stopping server is seen,
 * with heartbeats when the job is quiet. */
#include "server/http_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"

/* How long an event stream waits for events at a time, in seconds, so
 * that it notices a server stopping. */
#define HTTP_SSE_SLICE_S 0.25
/* Reconnection delay suggested to event-stream clients, in ms. */
#define HTTP_SSE_RETRY_MS 1000

struct http_sse {
  http_server *h;
  char account[STORE_NAME_MAX];
  char id[STORE_ID_MAX];
  int64_t last_seq;
  double last_write_s;
  int done;
  int follow; /* 0: the events there are now, then the end */
  char *buf;
  size_t len, off, cap;
};

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

void http_sse_free(void *cls)
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

int http_events(http_ctx *x, http_reply *r, srv_error *e)
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

struct MHD_Response *http_sse_response(http_sse *ss)
{
  struct MHD_Response *resp = MHD_create_response_from_callback(
    MHD_SIZE_UNKNOWN, 4096, http_sse_read, ss, http_sse_free);
  if (!resp) {
    http_sse_free(ss);
    return NULL;
  }
  if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                              "no-cache") != MHD_YES)
    LOG_W("http", "adding a response header failed");
  return resp;
}
