/* The JSON views of the server's jobs and their events (see
 * srv_jobs_internal.h and srv_jobs.h). */
#include "server/srv_jobs_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Integers up to this size are written as JSON integers. */
#define SRV_EXACT_INT 9007199254740992.0 /* 2^53 */

static json_t *srv_ms(int64_t ms)
{
  return ms > 0 ? json_integer((json_int_t)ms) : json_null();
}

json_t *srv_energy(int has, double v)
{
  if (!has || !isfinite(v))
    return json_null();
  if (v == floor(v) && fabs(v) <= SRV_EXACT_INT)
    return json_integer((json_int_t)v);
  return json_real(v);
}

const char *srv_event_type(const job_event *ev)
{
  return ev->final ? job_state_name(ev->state) : "progress";
}

json_t *srv_event_json(const job_event *ev, double scale)
{
  json_t *o = json_pack("{s:I, s:s, s:I, s:f, s:i}", "seq",
                        (json_int_t)ev->seq, "type",
                        srv_event_type(ev),
                        "sweep", (json_int_t)ev->sweep, "elapsed_s",
                        ev->elapsed_s, "replicas", ev->replicas);
  if (!o)
    return NULL;
  json_object_set_new(o, "best_energy",
                      srv_energy(ev->best_energy != INT64_MAX,
                                 (double)ev->best_energy / scale));
  json_object_set_new(o, "energy",
                      srv_energy(ev->energy != INT64_MAX,
                                 (double)ev->energy / scale));
  return o;
}

/* A job's view; kind and seconds are what it used (so far). */
static json_t *srv_view(const char *id, const char *problem_type,
                        const char *state, int64_t submitted,
                        int64_t started, int64_t finished, json_t *best,
                        const char *kind, double seconds)
{
  int gpu = strcmp(kind, "gpu") == 0;
  return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:f, s:f}", "id",
                   id, "problem_type", problem_type, "status", state,
                   "submitted_ms", srv_ms(submitted), "started_ms",
                   srv_ms(started), "finished_ms", srv_ms(finished),
                   "best_energy", best, "gpu_seconds", gpu ? seconds : 0.0,
                   "cpu_seconds", gpu ? 0.0 : seconds);
}

/* The kind a running job is using: the solver it asked for ("auto":
 * what auto picks in this process). */
static const char *srv_running_kind(const srv_entry *e)
{
  if (strcmp(e->solver, "auto") == 0)
    return engine_auto_solver() == JOB_SOLVER_GPU ? "gpu" : "cpu";
  return strcmp(e->solver, "gpu") == 0 ? "gpu" : "cpu";
}

json_t *srv_entry_view(srv_jobs *s, srv_entry *e)
{
  job_state st = job_get_state(e->j);
  if (st != JOB_QUEUED && st != JOB_RUNNING)
    srv_finalize(s, e);
  pthread_mutex_lock(&e->mu);
  if (!e->final) {
    srv_refresh_best(e);
    snprintf(e->state, sizeof e->state, "%s", job_state_name(st));
    /* Running before the recorder saw it start: now is near enough (the
     * time is refined when the job ends). */
    if (st == JOB_RUNNING && e->started_ms == 0)
      e->started_ms = store_now_ms();
  }
  const char *kind = e->final ? e->usage_kind : srv_running_kind(e);
  double secs = e->usage_s;
  if (!e->final)
    secs = e->started_ms ? (double)(store_now_ms() - e->started_ms) / 1e3
                         : 0.0;
  json_t *v = srv_view(e->id, e->problem_type, e->state, e->submitted_ms,
                       e->started_ms, e->finished_ms,
                       srv_energy(e->has_best, e->best), kind, secs);
  pthread_mutex_unlock(&e->mu);
  return v;
}

json_t *srv_row_view(const store_job *j)
{
  return srv_view(j->id, j->problem_type, j->state, j->submitted_ms,
                  j->started_ms, j->finished_ms,
                  srv_energy(j->has_best, j->best_energy), j->usage_kind,
                  j->usage_s);
}

int srv_out(json_t *v, json_t **out, srv_error *e)
{
  *out = v;
  return v ? 0 : srv_fail(e, 500, "out of memory writing JSON");
}

/* Appends the live job's events after `after` to arr. */
static int srv_live_events(srv_entry *en, int64_t after, double wait_s,
                           json_t *arr, int *done)
{
  job_event ev;
  int rc = job_next_event(en->j, after, wait_s, &ev);
  if (rc < 0) {
    *done = 1;
    return 0;
  }
  if (rc == 0)
    return 0;
  job_event buf[SRV_EVENTS_BATCH];
  size_t n = job_events_since(en->j, after, buf, SRV_EVENTS_BATCH);
  for (size_t i = 0; i < n; i++) {
    json_t *o = srv_event_json(&buf[i], en->scale);
    if (!o || json_array_append_new(arr, o) != 0)
      return -1;
    if (buf[i].final)
      *done = 1;
  }
  return 0;
}

/* Appends the stored job's events after `after` to arr. */
static int srv_stored_events(srv_jobs *s, const char *id, int64_t after,
                             json_t *arr, int *done, srv_error *e)
{
  store_event *evs = NULL;
  size_t n = 0;
  char err[256];
  if (store_event_list(s->st, id, after, SRV_EVENTS_MAX, &evs, &n, err,
                       sizeof err) != STORE_OK)
    return srv_fail(e, 500, "reading the events of job %s: %s", id, err);
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    json_t *o = json_loads(evs[i].data_json, 0, NULL);
    /* The store's seq is the event's id (recovery writes events without
     * one). */
    if (json_is_object(o))
      json_object_set_new(o, "seq", json_integer((json_int_t)evs[i].seq));
    if (!o || json_array_append_new(arr, o) != 0)
      rc = srv_fail(e, 500, "event %lld of job %s is not JSON",
                    (long long)evs[i].seq, id);
  }
  *done = n < SRV_EVENTS_MAX;
  store_events_free(evs, n);
  return rc;
}

/* Whether the account has a stored job id: 0, or -1 with 404 or 500. */
static int srv_stored_owned(srv_jobs *s, const char *account,
                            const char *id, srv_error *e)
{
  store_job j;
  char err[256];
  int rc = store_job_get(s->st, id, &j, err, sizeof err);
  if (rc == STORE_ERROR)
    return srv_fail(e, 500, "reading job %s: %s", id, err);
  int mine = rc == STORE_OK && strcmp(j.account, account) == 0;
  if (rc == STORE_OK)
    store_job_clear(&j);
  return mine ? 0 : srv_fail(e, 404, "no job %s", id);
}

int srv_jobs_events(srv_jobs *s, const char *account, const char *id,
                    int64_t after, double wait_s, json_t **events,
                    int *done, srv_error *e)
{
  *done = 0;
  *events = json_array();
  if (!*events)
    return srv_fail(e, 500, "out of memory");
  srv_entry *en = srv_owned(s, account, id);
  int rc;
  if (en) {
    rc = srv_live_events(en, after, wait_s, *events, done);
    srv_put(s, en);
    if (rc != 0)
      srv_fail(e, 500, "out of memory");
  } else {
    /* A job not in memory has ended (before this process started, or
     * long enough ago to be evicted): its events are all stored. */
    rc = srv_stored_owned(s, account, id, e);
    if (rc == 0)
      rc = srv_stored_events(s, id, after, *events, done, e);
  }
  if (rc != 0) {
    json_decref(*events);
    *events = NULL;
  }
  return rc;
}
