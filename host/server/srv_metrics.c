/* The server's metric families (see srv_metrics.h). A NULL srv_metrics
 * records nothing, so callers need not check. */
#include "server/srv_metrics.h"

#include <stdio.h>
#include <stdlib.h>

#include "util/log.h"
#include "util/metrics.h"

enum {
  SM_REQUESTS, SM_REQUEST_TIME, SM_JOBS_DONE, SM_QUEUED, SM_RUNNING,
  SM_JOB_TIME, SM_GPU_SECONDS, SM_CPU_SECONDS, SM_REJECTED, SM_COUNT
};

struct srv_metrics {
  metrics *reg;
  int fam[SM_COUNT];
};

typedef struct sm_family {
  int kind; /* 0 counter, 1 gauge, 2 histogram */
  const char *name, *help, *labels;
} sm_family;

static const sm_family sm_families[SM_COUNT] = {
  [SM_REQUESTS] = { 0, "nerox_http_requests_total",
                    "HTTP requests answered, by route, method and status.",
                    "route,method,status" },
  [SM_REQUEST_TIME] = { 2, "nerox_http_request_duration_seconds",
                        "Time to answer an HTTP request (an event stream: "
                        "to its first byte), by route.", "route" },
  [SM_JOBS_DONE] = { 0, "nerox_jobs_finished_total",
                     "Jobs that reached a final state, by state.",
                     "status" },
  [SM_QUEUED] = { 1, "nerox_jobs_queued",
                  "Jobs of this process waiting for a worker.", NULL },
  [SM_RUNNING] = { 1, "nerox_jobs_running",
                   "Jobs of this process running.", NULL },
  [SM_JOB_TIME] = { 2, "nerox_job_duration_seconds",
                    "Run time of finished jobs, start to end (never queue "
                    "time).", NULL },
  [SM_GPU_SECONDS] = { 0, "nerox_gpu_seconds_total",
                       "GPU-seconds used by finished jobs.", NULL },
  [SM_CPU_SECONDS] = { 0, "nerox_cpu_seconds_total",
                       "CPU-seconds used by finished jobs.", NULL },
  [SM_REJECTED] = { 0, "nerox_rate_limit_rejections_total",
                    "Requests answered 429, by the limit they hit.",
                    "limit" },
};

srv_metrics *srv_metrics_new(char *err, size_t errlen)
{
  srv_metrics *m = calloc(1, sizeof *m);
  if (!m) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  m->reg = metrics_new(err, errlen);
  for (int i = 0; m->reg && i < SM_COUNT; i++) {
    const sm_family *f = &sm_families[i];
    if (f->kind == 0)
      m->fam[i] = metrics_counter(m->reg, f->name, f->help, f->labels, err,
                                  errlen);
    else if (f->kind == 1)
      m->fam[i] = metrics_gauge(m->reg, f->name, f->help, f->labels, err,
                                errlen);
    else
      m->fam[i] = metrics_histogram(m->reg, f->name, f->help, f->labels,
                                    NULL, 0, err, errlen);
    if (m->fam[i] < 0) {
      srv_metrics_free(m);
      return NULL;
    }
  }
  if (!m->reg) {
    free(m);
    return NULL;
  }
  /* Each limit's series exists from the start, at 0. */
  static const char *const limits[] = { "requests_per_minute",
                                        "concurrent_jobs", "jobs_per_month" };
  for (size_t i = 0; i < sizeof limits / sizeof *limits; i++)
    if (metrics_add(m->reg, m->fam[SM_REJECTED], &limits[i], 0) != 0)
      LOG_D("metrics", "a rejection series was not created");
  return m;
}

void srv_metrics_free(srv_metrics *m)
{
  if (!m)
    return;
  metrics_free(m->reg);
  free(m);
}

void srv_metrics_request(srv_metrics *m, const char *route,
                         const char *method, int status, double seconds)
{
  if (!m)
    return;
  char code[8];
  snprintf(code, sizeof code, "%d", status);
  const char *v[] = { route, method, code };
  if (metrics_add(m->reg, m->fam[SM_REQUESTS], v, 1) != 0 ||
      metrics_observe(m->reg, m->fam[SM_REQUEST_TIME], v, seconds) != 0)
    LOG_D("metrics", "a request sample was not recorded");
}

void srv_metrics_job_done(srv_metrics *m, const char *state, double run_s,
                          const char *kind)
{
  if (!m)
    return;
  const char *v[] = { state };
  int gpu = kind && kind[0] == 'g';
  if (metrics_add(m->reg, m->fam[SM_JOBS_DONE], v, 1) != 0 ||
      metrics_observe(m->reg, m->fam[SM_JOB_TIME], NULL, run_s) != 0 ||
      metrics_add(m->reg, m->fam[gpu ? SM_GPU_SECONDS : SM_CPU_SECONDS],
                  NULL, run_s) != 0)
    LOG_D("metrics", "a job sample was not recorded");
}

void srv_metrics_rejected(srv_metrics *m, const char *limit)
{
  if (!m)
    return;
  const char *v[] = { limit };
  if (metrics_add(m->reg, m->fam[SM_REJECTED], v, 1) != 0)
    LOG_D("metrics", "a rejection sample was not recorded");
}

char *srv_metrics_render(srv_metrics *m, size_t queued, size_t running)
{
  if (metrics_set(m->reg, m->fam[SM_QUEUED], NULL, (double)queued) != 0 ||
      metrics_set(m->reg, m->fam[SM_RUNNING], NULL, (double)running) != 0)
    LOG_D("metrics", "a gauge was not set");
  return metrics_render(m->reg);
}
