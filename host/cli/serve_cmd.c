/* `nerox serve [--listen ADDR:PORT] [--db PATH] [--max-body BYTES]`:
 * opens the store, starts the HTTP API, logs "listening on ADDR:PORT" on
 * stderr, and on SIGINT or SIGTERM stops accepting, cancels running jobs
 * (engine_shutdown), records them and exits 0. */
#include "cli/serve_cmd.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "server/http.h"
#include "server/srv_jobs.h"
#include "server/srv_lua.h"
#include "server/store.h"

#define SERVE_DEFAULT_LISTEN "127.0.0.1:8080"
#define SERVE_DEFAULT_DB "nerox.db"
#define SERVE_ADDR_MAX 64

typedef struct serve_opts {
  char addr[SERVE_ADDR_MAX];
  unsigned port;
  const char *db;
  size_t max_body;
} serve_opts;

static int serve_usage(const char *why)
{
  fprintf(stderr, "nerox: serve: %s\nusage: nerox serve [--listen "
          "ADDR:PORT] [--db PATH] [--max-body BYTES]\n", why);
  return 2;
}

static int serve_parse_listen(const char *s, serve_opts *o)
{
  const char *colon = strrchr(s, ':');
  if (!colon || colon == s || (size_t)(colon - s) >= sizeof o->addr)
    return -1;
  char *end;
  errno = 0;
  unsigned long port = strtoul(colon + 1, &end, 10);
  if (errno || end == colon + 1 || *end || port > 65535)
    return -1;
  memcpy(o->addr, s, (size_t)(colon - s));
  o->addr[colon - s] = '\0';
  o->port = (unsigned)port;
  return 0;
}

static int serve_parse(int argc, char **argv, serve_opts *o)
{
  o->db = SERVE_DEFAULT_DB;
  o->max_body = HTTP_DEFAULT_MAX_BODY;
  if (serve_parse_listen(SERVE_DEFAULT_LISTEN, o) != 0)
    return serve_usage("bad default address");
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (i + 1 >= argc)
      return serve_usage(strcmp(a, "--help") ? "a flag lacks its value"
                                             : "help");
    const char *v = argv[++i];
    if (strcmp(a, "--listen") == 0) {
      if (serve_parse_listen(v, o) != 0)
        return serve_usage("--listen: expected ADDR:PORT");
    } else if (strcmp(a, "--db") == 0) {
      o->db = v;
    } else if (strcmp(a, "--max-body") == 0) {
      char *end;
      errno = 0;
      unsigned long long n = strtoull(v, &end, 10);
      if (errno || end == v || *end || n == 0)
        return serve_usage("--max-body: expected a positive byte count");
      o->max_body = (size_t)n;
    } else {
      return serve_usage("unknown flag");
    }
  }
  return 0;
}

/* Blocks SIGINT and SIGTERM (in every thread started later) so that
 * serve_wait receives them. */
static int serve_block(sigset_t *set)
{
  sigemptyset(set);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGTERM);
  int rc = pthread_sigmask(SIG_BLOCK, set, NULL);
  if (rc != 0)
    fprintf(stderr, "nerox: serve: blocking signals: %s\n", strerror(rc));
  return rc;
}

static void serve_wait(const sigset_t *set)
{
  int sig = 0;
  while (sigwait(set, &sig) != 0)
    ;
  fprintf(stderr, "nerox: serve: %s, stopping\n",
          sig == SIGINT ? "SIGINT" : "SIGTERM");
}

static int serve_run(const serve_opts *o, const sigset_t *set)
{
  char err[512];
  int status = 1;
  srv_lua *lua = NULL;
  srv_jobs *jobs = NULL;
  store *st = store_open_sqlite(o->db, err, sizeof err);
  if (st)
    lua = srv_lua_new(err, sizeof err);
  if (lua)
    jobs = srv_jobs_new(st, lua, err, sizeof err);
  if (jobs) {
    http_config cfg = { o->addr, o->port, o->max_body, 0 };
    http_server *h = http_start(&cfg, st, jobs, err, sizeof err);
    if (h) {
      fprintf(stderr, "nerox: serve: listening on %s:%u\n", o->addr,
              http_port(h));
      serve_wait(set);
      http_stop(h);
      status = 0;
    }
  }
  if (status != 0)
    fprintf(stderr, "nerox: serve: %s\n", err);
  engine_shutdown();
  srv_jobs_free(jobs);
  srv_lua_free(lua);
  store_close(st);
  return status;
}

int serve_cmd_main(int argc, char **argv)
{
  serve_opts o;
  int rc = serve_parse(argc, argv, &o);
  if (rc != 0)
    return rc;
  sigset_t set;
  if (serve_block(&set) != 0)
    return 1;
  return serve_run(&o, &set);
}
