/* The HTTP front of `nerox serve`: libmicrohttpd with its internal thread
 * pool, request bodies read up to a limit (413 beyond it), JSON parsed
 * with jansson, bearer keys checked against the store, and a router over
 * the job routes of srv_jobs.h. Errors from every layer become
 * {"error": {"type", "message"}} in one place (http_send_error). */
#ifndef NEROX_HTTP_H
#define NEROX_HTTP_H

#include <stddef.h>

#include "server/srv_jobs.h"
#include "server/store.h"

/* Largest request body accepted, unless configured otherwise. */
#define HTTP_DEFAULT_MAX_BODY ((size_t)64 << 20)
/* Connections served at once (a thread each, so that an event stream
 * may wait for its job without holding up anyone else). */
#define HTTP_MAX_CONNECTIONS 1024
/* Connections one client address may hold at once, so that no single
 * client (a slow one, say) takes them all. */
#define HTTP_MAX_PER_CLIENT 128
/* Event streams an account may hold open at once. */
#define HTTP_MAX_STREAMS_PER_ACCOUNT 64
/* Seconds between heartbeats on an idle event stream, by default. */
#define HTTP_SSE_HEARTBEAT_S 15.0
/* Seconds an idle connection is kept. */
#define HTTP_CONNECTION_TIMEOUT_S 30

typedef struct http_config {
  const char *addr; /* IPv4 address to bind, "127.0.0.1" */
  unsigned port;    /* 0: any free port */
  size_t max_body;
  double sse_heartbeat_s; /* between SSE heartbeats; 0: the default */
} http_config;

typedef struct http_server http_server;

/* Starts serving; NULL with a message on failure. */
http_server *http_start(const http_config *cfg, store *st, srv_jobs *jobs,
                        char *err, size_t errlen);
/* The port actually bound. */
unsigned http_port(const http_server *h);
/* From now on, submissions are refused with 503 and /healthz answers
 * 503 {"status": "draining"}; every other route keeps answering. */
void http_set_draining(http_server *h);
/* Stops accepting and waits for requests in progress. */
void http_stop(http_server *h);

#endif
