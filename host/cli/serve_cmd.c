/* `nerox serve [--config FILE] [--listen ADDR:PORT] [--db PATH]
 * [--max-body BYTES] [--grace SECONDS]`: reads the configuration file
 * (flags win over it), applies its plan overrides, opens the store, fails
 * the jobs a dead process left unfinished (srv_recover), starts the HTTP
 * API and logs "listening on ADDR:PORT" on stderr.
 *
 * On SIGINT or SIGTERM it drains: submissions and /healthz answer 503,
 * running jobs get up to the grace period to finish (a second signal ends
 * the wait), those still running are cancelled (keeping their best
 * solutions, which are recorded), and it exits 0. */
#include "cli/serve_cmd.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "engine/engine.h"
#include "server/config.h"
#include "server/http.h"
#include "server/srv_jobs.h"
#include "server/srv_lua.h"
#include "server/srv_recover.h"
#include "server/store.h"
#include "util/clock.h"

#define SERVE_DEFAULT_LISTEN "127.0.0.1:8080"
#define SERVE_DEFAULT_DB "nerox.db"
/* How often the drain looks at the number of live jobs. */
#define SERVE_DRAIN_POLL_S 0.05

/* The settings the server runs with: defaults, then the file, then the
 * flags. */
typedef struct serve_settings {
  char addr[CONFIG_ADDR_MAX];
  unsigned port;
  const char *db;
  size_t max_body;
  double grace_s;
  double sse_heartbeat_s;
  double keep_finished_s;
} serve_settings;

/* What the command line gave: its settings as a config (set says which)
 * and the configuration file's path. */
typedef struct serve_opts {
  const char *config_path;
  config flags;
} serve_opts;

static int serve_usage(const char *why)
{
  fprintf(stderr, "nerox: serve: %s\nusage: nerox serve [--config FILE] "
          "[--listen ADDR:PORT] [--db PATH] [--max-body BYTES] "
          "[--grace SECONDS]\n", why);
  return 2;
}

/* Reads one flag's value into o->flags; 0 or exit 2. */
static int serve_flag(const char *a, const char *v, serve_opts *o)
{
  config *f = &o->flags;
  char *end;

  errno = 0;
  if (strcmp(a, "--config") == 0) {
    o->config_path = v;
    return 0;
  }
  if (strcmp(a, "--listen") == 0) {
    if (config_parse_listen(v, f->addr, sizeof f->addr, &f->port) != 0)
      return serve_usage("--listen: expected IPV4-ADDRESS:PORT, the "
                         "port 0 to 65535");
    f->set |= CONFIG_SET_LISTEN;
  } else if (strcmp(a, "--db") == 0) {
    free(f->db);
    if (!*v || !(f->db = strdup(v)))
      return serve_usage("--db: expected a file path");
    f->set |= CONFIG_SET_DB;
  } else if (strcmp(a, "--max-body") == 0) {
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || *end || n == 0 || *v == '-')
      return serve_usage("--max-body: expected a positive byte count");
    f->max_body = (size_t)n;
    f->set |= CONFIG_SET_MAX_BODY;
  } else if (strcmp(a, "--grace") == 0) {
    double g = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(g) || g < 0 ||
        g > CONFIG_MAX_GRACE_S)
      return serve_usage("--grace: expected seconds, 0 to 86400");
    f->grace_s = g;
    f->set |= CONFIG_SET_GRACE;
  } else {
    return serve_usage("unknown flag");
  }
  return 0;
}

static int serve_parse(int argc, char **argv, serve_opts *o)
{
  memset(o, 0, sizeof *o);
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (i + 1 >= argc)
      return serve_usage(strcmp(a, "--help") ? "a flag lacks its value"
                                             : "help");
    int rc = serve_flag(a, argv[++i], o);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Layers c's settings that it sets over s. */
static void serve_layer(serve_settings *s, const config *c)
{
  if (c->set & CONFIG_SET_LISTEN) {
    snprintf(s->addr, sizeof s->addr, "%s", c->addr);
    s->port = c->port;
  }
  if (c->set & CONFIG_SET_DB)
    s->db = c->db;
  if (c->set & CONFIG_SET_MAX_BODY)
    s->max_body = c->max_body;
  if (c->set & CONFIG_SET_GRACE)
    s->grace_s = c->grace_s;
  if (c->set & CONFIG_SET_SSE_HEARTBEAT)
    s->sse_heartbeat_s = c->sse_heartbeat_s;
  if (c->set & CONFIG_SET_KEEP_FINISHED)
    s->keep_finished_s = c->keep_finished_s;
}

/* Settings from the defaults, the file (read into *file, applying its
 * plan overrides) and the flags; 0 or exit 2. */
static int serve_settle(const serve_opts *o, config *file,
                        serve_settings *s)
{
  char err[1024];

  memset(s, 0, sizeof *s);
  config_parse_listen(SERVE_DEFAULT_LISTEN, s->addr, sizeof s->addr,
                      &s->port);
  s->db = SERVE_DEFAULT_DB;
  s->max_body = HTTP_DEFAULT_MAX_BODY;
  s->grace_s = CONFIG_DEFAULT_GRACE_S;
  s->sse_heartbeat_s = HTTP_SSE_HEARTBEAT_S;
  s->keep_finished_s = SRV_KEEP_FINISHED_S;
  memset(file, 0, sizeof *file);
  if (o->config_path) {
    if (config_load_file(o->config_path, file, err, sizeof err) != 0 ||
        config_apply_plans(file, err, sizeof err) != 0) {
      fprintf(stderr, "nerox: serve: %s\n", err);
      return 2;
    }
    serve_layer(s, file);
  }
  serve_layer(s, &o->flags);
  return 0;
}

/* Blocks SIGINT and SIGTERM (in every thread started later) so that the
 * main thread receives them with sigwait. */
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

static const char *serve_signame(int sig)
{
  return sig == SIGINT ? "SIGINT" : "SIGTERM";
}

static int serve_wait(const sigset_t *set)
{
  int sig = 0;
  while (sigwait(set, &sig) != 0)
    ;
  return sig;
}

/* Waits until no job is live, grace_s has passed or a second signal came;
 * returns that signal, or 0. */
static int serve_grace(srv_jobs *jobs, double grace_s, const sigset_t *set)
{
  double deadline = clock_mono_s() + grace_s;

  while (srv_jobs_live(jobs) > 0) {
    double left = deadline - clock_mono_s();
    if (left <= 0)
      return 0;
    if (left > SERVE_DRAIN_POLL_S)
      left = SERVE_DRAIN_POLL_S;
    struct timespec ts = { 0, (long)(left * 1e9) };
    int sig = sigtimedwait(set, NULL, &ts);
    if (sig > 0)
      return sig;
  }
  return 0;
}

/* The drain after the first signal: refuse new work, give live jobs the
 * grace period, cancel the rest (their best solutions are recorded). */
static void serve_drain(http_server *h, srv_jobs *jobs, double grace_s,
                        const sigset_t *set, int sig)
{
  http_set_draining(h);
  size_t live = srv_jobs_live(jobs);
  fprintf(stderr, "nerox: serve: %s: draining, %zu job(s) live; waiting up "
          "to %g s for them (a second signal cancels them now)\n",
          serve_signame(sig), live, grace_s);
  int again = serve_grace(jobs, grace_s, set);
  if (again)
    fprintf(stderr, "nerox: serve: %s again: not waiting any longer\n",
            serve_signame(again));
  size_t left = srv_jobs_live(jobs);
  srv_error e;
  json_t *ids = srv_jobs_cancel_all(jobs, NULL, &e);
  if (!ids)
    fprintf(stderr, "nerox: serve: cancelling jobs: %s\n", e.message);
  fprintf(stderr, "nerox: serve: drained: %zu job(s) finished during the "
          "grace, %zu cancelled (their best solutions kept)\n",
          live > left ? live - left : 0, ids ? json_array_size(ids) : 0);
  json_decref(ids);
}

/* Fails the jobs a dead process left queued or running. */
static int serve_recover(store *st, char *err, size_t errlen)
{
  size_t n = 0;
  if (srv_recover(st, &n, err, errlen) != 0)
    return -1;
  if (n > 0)
    fprintf(stderr, "nerox: serve: recovered %zu job(s) left unfinished by "
            "a previous run: marked failed (%s)\n", n, SRV_RECOVER_ERROR);
  return 0;
}

static int serve_run(const serve_settings *o, const sigset_t *set)
{
  char err[512];
  int status = 1;
  srv_lua *lua = NULL;
  srv_jobs *jobs = NULL;
  store *st = store_open_sqlite(o->db, err, sizeof err);
  if (st && serve_recover(st, err, sizeof err) == 0)
    lua = srv_lua_new(err, sizeof err);
  if (lua)
    jobs = srv_jobs_new(st, lua, err, sizeof err);
  if (jobs)
    srv_jobs_set_keep(jobs, o->keep_finished_s);
  if (jobs) {
    http_config cfg = { .addr = o->addr, .port = o->port,
                        .max_body = o->max_body,
                        .sse_heartbeat_s = o->sse_heartbeat_s };
    http_server *h = http_start(&cfg, st, jobs, err, sizeof err);
    if (h) {
      fprintf(stderr, "nerox: serve: listening on %s:%u\n", o->addr,
              http_port(h));
      serve_drain(h, jobs, o->grace_s, set, serve_wait(set));
      http_stop(h);
      fprintf(stderr, "nerox: serve: stopped\n");
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
  serve_settings s;
  config file;
  sigset_t set;
  int rc;

  memset(&file, 0, sizeof file);
  if ((rc = serve_parse(argc, argv, &o)) == 0)
    rc = serve_settle(&o, &file, &s);
  if (rc == 0)
    rc = serve_block(&set) != 0 ? 1 : serve_run(&s, &set);
  config_clear(&file);
  config_clear(&o.flags);
  return rc;
}
