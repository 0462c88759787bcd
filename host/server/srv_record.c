/* Recording the server's jobs (see srv_jobs_internal.h). One recorder
 * thread, woken by the engine whenever a job has news, writes to the
 * store when a job starts and, once it ends, its decoded result, its
 * events and its usage; every few seconds it evicts finished entries
 * from memory. A reader that needs a result first finalizes the job
 * itself (srv_finalize runs once, whoever gets there first). */
#include "server/srv_jobs_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* Writes the entry's state to the store; e->mu held. */
static void srv_store_update(srv_jobs *s, srv_entry *e)
{
  store_job j;
  memset(&j, 0, sizeof j);
  snprintf(j.id, sizeof j.id, "%s", e->id);
  snprintf(j.account, sizeof j.account, "%s", e->account);
  snprintf(j.problem_type, sizeof j.problem_type, "%s", e->problem_type);
  snprintf(j.state, sizeof j.state, "%s", e->state);
  j.submitted_ms = e->submitted_ms;
  j.started_ms = e->started_ms;
  j.finished_ms = e->finished_ms;
  j.has_best = e->has_best;
  j.best_energy = e->best;
  j.result_json = e->result_json;
  j.error = e->error;
  snprintf(j.usage_kind, sizeof j.usage_kind, "%s", e->usage_kind);
  j.usage_s = e->usage_s;
  char err[256];
  if (store_job_update(s->st, &j, err, sizeof err) != STORE_OK)
    LOG_W("serve", "recording job %s: %s", e->id, err);
}

/* Bills a finished job once: one ledger entry, start to end. */
static void srv_bill(srv_jobs *s, srv_entry *e)
{
  char err[256];
  store_usage_kind kind = strcmp(e->usage_kind, "gpu") == 0
                            ? STORE_USAGE_GPU : STORE_USAGE_CPU;
  int rc = store_usage_append(s->st, e->account, e->id, kind, e->usage_s,
                              e->finished_ms, err, sizeof err);
  if (rc == STORE_CONFLICT)
    LOG_W("serve", "job %s was already billed", e->id);
  else if (rc != STORE_OK)
    LOG_W("serve", "billing job %s: %s", e->id, err);
}

/* Copies the job's events to the store, so they outlive the process. */
/* Writes the job's events not yet in the store, as they come, so that a
 * stream resumed after a crash or an eviction goes on from the store;
 * e->mu held. */
static void srv_save_events(srv_jobs *s, srv_entry *e)
{
  job_event buf[SRV_EVENTS_BATCH];
  size_t n;
  int64_t now = store_now_ms();
  do {
    n = job_events_since(e->j, e->saved_seq, buf, SRV_EVENTS_BATCH);
    for (size_t i = 0; i < n; i++) {
      json_t *o = srv_event_json(&buf[i], e->scale);
      char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
      json_decref(o);
      char err[256] = "out of memory";
      int64_t seq = 0;
      if (!text || store_event_append(s->st, e->id, srv_event_type(&buf[i]),
                                      text, now, &seq, err,
                                      sizeof err) != STORE_OK) {
        LOG_W("serve", "recording the events of job %s: %s", e->id, err);
        free(text);
        return; /* the next call tries again from here */
      }
      free(text);
      e->saved_seq = buf[i].seq;
    }
  } while (n == SRV_EVENTS_BATCH);
}

void srv_refresh_best(srv_entry *e)
{
  job_event buf[SRV_EVENTS_BATCH];
  size_t n;
  do {
    n = job_events_since(e->j, e->last_seq, buf, SRV_EVENTS_BATCH);
    for (size_t i = 0; i < n; i++) {
      e->last_seq = buf[i].seq;
      if (buf[i].best_energy != INT64_MAX &&
          isfinite((double)buf[i].best_energy / e->scale)) {
        e->has_best = 1;
        e->best = (double)buf[i].best_energy / e->scale;
      }
    }
  } while (n == SRV_EVENTS_BATCH);
}

/* Takes state, error and energy from the decoded result; e->mu held. */
static void srv_take_result(srv_entry *e)
{
  json_t *res = json_loads(e->result_json, 0, NULL);
  if (!res)
    return;
  const char *status = json_string_value(json_object_get(res, "status"));
  if (status)
    snprintf(e->state, sizeof e->state, "%s", status);
  json_t *energy = json_object_get(res, "energy");
  if (json_is_number(energy) && isfinite(json_number_value(energy))) {
    e->has_best = 1;
    e->best = json_number_value(energy);
  }
  const char *error = json_string_value(json_object_get(res, "error"));
  if (error && !e->error)
    e->error = strdup(error);
  json_decref(res);
}

/* Adds the job's billed seconds to its result JSON; e->mu held. */
static void srv_result_add_usage(srv_entry *e)
{
  json_t *res = e->result_json ? json_loads(e->result_json, 0, NULL)
                               : NULL;
  if (!json_is_object(res)) {
    json_decref(res);
    return;
  }
  int gpu = strcmp(e->usage_kind, "gpu") == 0;
  json_object_set_new(res, "gpu_seconds", json_real(gpu ? e->usage_s : 0));
  json_object_set_new(res, "cpu_seconds", json_real(gpu ? 0 : e->usage_s));
  char *text = json_dumps(res, JSON_COMPACT);
  json_decref(res);
  if (text) {
    free(e->result_json);
    e->result_json = text;
  }
}

void srv_finalize(srv_jobs *s, srv_entry *e)
{
  job_result r;
  pthread_mutex_lock(&e->mu);
  if (e->final || job_get_result(e->j, &r) != 0) {
    pthread_mutex_unlock(&e->mu);
    return;
  }
  snprintf(e->state, sizeof e->state, "%s", job_state_name(r.state));
  int ran = r.tour != NULL || r.run_s > 0;
  e->finished_ms = e->submitted_ms +
                   (int64_t)((r.queued_s + r.run_s) * 1000.0);
  e->started_ms = ran ? e->submitted_ms + (int64_t)(r.queued_s * 1000.0)
                      : 0;
  snprintf(e->usage_kind, sizeof e->usage_kind, "%s",
           r.solver && strcmp(r.solver, "gpu") == 0 ? "gpu" : "cpu");
  e->usage_s = r.run_s > 0 ? r.run_s : 0.0;
  srv_refresh_best(e);
  srv_error err;
  if (srv_lua_result(s->lua, e->id, &e->result_json, &err) != 0) {
    snprintf(e->state, sizeof e->state, "failed");
    e->error = strdup(err.message);
  } else {
    srv_take_result(e);
    srv_result_add_usage(e);
  }
  e->final = 1;
  srv_save_events(s, e);
  srv_store_update(s, e);
  srv_bill(s, e);
  srv_metrics_job_done(s->metrics, e->state, e->usage_s, e->usage_kind);
  e->recorded_ms = store_now_ms();
  pthread_mutex_unlock(&e->mu);
  srv_live_add(s, e->account, -1);
  srv_done(s, e);
}

/* Records that the job started (the time is refined when it ends) and
 * the events it has published. */
static void srv_mark_running(srv_jobs *s, srv_entry *e)
{
  pthread_mutex_lock(&e->mu);
  if (!e->final && e->started_ms == 0) {
    e->started_ms = store_now_ms();
    snprintf(e->state, sizeof e->state, "running");
    srv_store_update(s, e);
  }
  if (!e->final)
    srv_save_events(s, e);
  pthread_mutex_unlock(&e->mu);
}

static void srv_observe(srv_jobs *s, srv_entry *e)
{
  job_state st = job_get_state(e->j);
  if (st == JOB_RUNNING)
    srv_mark_running(s, e);
  else if (st != JOB_QUEUED)
    srv_finalize(s, e);
}

/* ---- the engine's news ---------------------------------------------- */

void srv_note(srv_jobs *s, const char *id)
{
  srv_notes *q = &s->notes;
  pthread_mutex_lock(&q->mu);
  if (q->n == q->cap && !q->overflow) {
    size_t cap = q->cap ? q->cap * 2 : 256;
    void *ids = cap <= SRV_NOTES_MAX ? realloc(q->ids, cap * sizeof *q->ids)
                                     : NULL;
    if (ids) {
      q->ids = ids;
      q->cap = cap;
    } else {
      q->overflow = 1;
    }
  }
  if (q->n < q->cap && !q->overflow)
    snprintf(q->ids[q->n++], STORE_ID_MAX, "%s", id);
  pthread_cond_signal(&q->wake);
  pthread_mutex_unlock(&q->mu);
}

/* The engine's listener: runs on a worker with the job's lock held, so
 * it only notes the id. */
static void srv_on_engine(void *arg, job *j)
{
  srv_note(arg, job_id(j));
}

/* Looks at every entry once (after notes were dropped). */
static void srv_observe_all(srv_jobs *s)
{
  size_t n = 0, cap = 0;
  char (*ids)[STORE_ID_MAX] = NULL;
  pthread_mutex_lock(&s->mu);
  for (srv_entry *e = s->all; e; e = e->next_all) {
    if (n == cap) {
      size_t c = cap ? cap * 2 : 256;
      void *p = realloc(ids, c * sizeof *ids);
      if (!p)
        break;
      ids = p;
      cap = c;
    }
    memcpy(ids[n++], e->id, STORE_ID_MAX);
  }
  pthread_mutex_unlock(&s->mu);
  for (size_t i = 0; i < n; i++) {
    srv_entry *e = srv_get(s, ids[i]);
    if (e) {
      srv_observe(s, e);
      srv_put(s, e);
    }
  }
  free(ids);
}

/* Takes the waiting notes (and the overflow flag); waits up to wait_ms
 * for one. Returns 0 once asked to stop. */
static int srv_take_notes(srv_notes *q, char (**ids)[STORE_ID_MAX],
                          size_t *n, int *overflow, int64_t wait_ms)
{
  pthread_mutex_lock(&q->mu);
  if (q->n == 0 && !q->overflow && !q->stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += wait_ms / 1000;
    ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&q->wake, &q->mu, &ts);
  }
  int go = !q->stop;
  *ids = q->ids;
  *n = q->n;
  *overflow = q->overflow;
  q->ids = NULL;
  q->n = q->cap = 0;
  q->overflow = 0;
  pthread_mutex_unlock(&q->mu);
  return go;
}

static void *srv_record_loop(void *arg)
{
  srv_jobs *s = arg;
  int64_t next_evict = store_now_ms();
  for (;;) {
    char (*ids)[STORE_ID_MAX];
    size_t n;
    int overflow;
    int64_t keep = atomic_load(&s->keep_ms);
    int64_t every = keep < SRV_EVICT_EVERY_MS ? keep : SRV_EVICT_EVERY_MS;
    if (every < SRV_EVICT_MIN_MS)
      every = SRV_EVICT_MIN_MS;
    int go = srv_take_notes(&s->notes, &ids, &n, &overflow, every);
    for (size_t i = 0; i < n; i++) {
      /* The same job is often noted many times in a row. */
      if (i > 0 && strcmp(ids[i], ids[i - 1]) == 0)
        continue;
      srv_entry *e = srv_get(s, ids[i]);
      if (e) {
        srv_observe(s, e);
        srv_put(s, e);
      }
    }
    free(ids);
    if (overflow)
      srv_observe_all(s);
    if (!go)
      return NULL;
    int64_t now = store_now_ms();
    if (now >= next_evict) {
      srv_evict(s, now - keep);
      next_evict = now + every;
    }
  }
}

int srv_recorder_start(srv_jobs *s, char *err, size_t errlen)
{
  srv_notes *q = &s->notes;
  int rc = pthread_mutex_init(&q->mu, NULL);
  if (rc == 0 && (rc = pthread_cond_init(&q->wake, NULL)) != 0)
    pthread_mutex_destroy(&q->mu);
  if (rc != 0) {
    snprintf(err, errlen, "recorder: %s", strerror(rc));
    return -1;
  }
  rc = pthread_create(&s->recorder, NULL, srv_record_loop, s);
  if (rc != 0) {
    snprintf(err, errlen, "recorder thread: %s", strerror(rc));
    pthread_cond_destroy(&q->wake);
    pthread_mutex_destroy(&q->mu);
    return -1;
  }
  s->has_recorder = 1;
  if (engine_listen(srv_on_engine, s) != 0) {
    snprintf(err, errlen, "recorder: too many engine listeners");
    srv_recorder_stop(s);
    return -1;
  }
  return 0;
}

void srv_recorder_stop(srv_jobs *s)
{
  if (!s->has_recorder)
    return;
  engine_unlisten(srv_on_engine, s);
  pthread_mutex_lock(&s->notes.mu);
  s->notes.stop = 1;
  pthread_cond_signal(&s->notes.wake);
  pthread_mutex_unlock(&s->notes.mu);
  int rc = pthread_join(s->recorder, NULL);
  if (rc != 0)
    LOG_W("serve", "joining the recorder: %s", strerror(rc));
  s->has_recorder = 0;
  free(s->notes.ids);
  pthread_cond_destroy(&s->notes.wake);
  pthread_mutex_destroy(&s->notes.mu);
}
