/* The jobs of `nerox serve` (see srv_jobs.h). Each submitted job gets an
 * entry, found by id through a hash table, and a watcher thread that
 * records in the store when the job starts and, once it ends, its decoded
 * result (srv_finalize; also run by a reader that gets there first). */
#include "server/srv_jobs.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define SRV_JOBS_BUCKETS 4096
/* Events read at a time when bringing a job's best energy up to date. */
#define SRV_EVENTS_BATCH 64
/* Integers up to this size are written as JSON integers. */
#define SRV_EXACT_INT 9007199254740992.0 /* 2^53 */

typedef struct srv_entry {
  struct srv_entry *next; /* in its bucket */
  struct srv_entry *all;  /* in the list of every entry */
  srv_jobs *owner;
  char id[STORE_ID_MAX];
  char account[STORE_NAME_MAX];
  char problem_type[STORE_TYPE_MAX];
  job *j;
  double scale;
  pthread_t watcher;
  int has_watcher;
  pthread_mutex_t mu; /* guards the fields below */
  char state[STORE_STATE_MAX];
  int64_t submitted_ms, started_ms, finished_ms;
  int64_t last_seq;
  int has_best;
  double best; /* caller units */
  int final;
  char *result_json;
  char *error;
} srv_entry;

struct srv_jobs {
  store *st;
  srv_lua *lua;
  pthread_mutex_t mu; /* guards the table and the list */
  srv_entry *buckets[SRV_JOBS_BUCKETS];
  srv_entry *all;
};

static const char *const srv_states[] = {
  "queued", "running", "succeeded", "failed", "cancelled", "timed_out",
};

srv_jobs *srv_jobs_new(store *st, srv_lua *lua, char *err, size_t errlen)
{
  srv_jobs *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  int rc = pthread_mutex_init(&s->mu, NULL);
  if (rc != 0) {
    snprintf(err, errlen, "mutex: %s", strerror(rc));
    free(s);
    return NULL;
  }
  s->st = st;
  s->lua = lua;
  return s;
}

static void srv_entry_free(srv_entry *e)
{
  if (e->has_watcher) {
    int rc = pthread_join(e->watcher, NULL);
    if (rc != 0)
      LOG_W("serve", "joining the watcher of %s: %s", e->id, strerror(rc));
  }
  job_release(e->j);
  free(e->result_json);
  free(e->error);
  pthread_mutex_destroy(&e->mu);
  free(e);
}

void srv_jobs_free(srv_jobs *s)
{
  if (!s)
    return;
  srv_entry *e = s->all;
  while (e) {
    srv_entry *next = e->all;
    srv_entry_free(e);
    e = next;
  }
  pthread_mutex_destroy(&s->mu);
  free(s);
}

/* ---- the table ------------------------------------------------------ */

static size_t srv_hash(const char *id)
{
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *id; id++)
    h = (h ^ (unsigned char)*id) * 1099511628211ull;
  return (size_t)(h % SRV_JOBS_BUCKETS);
}

static void srv_add(srv_jobs *s, srv_entry *e)
{
  pthread_mutex_lock(&s->mu);
  size_t b = srv_hash(e->id);
  e->next = s->buckets[b];
  s->buckets[b] = e;
  e->all = s->all;
  s->all = e;
  pthread_mutex_unlock(&s->mu);
}

/* The live entry of job id, or NULL. Entries live until srv_jobs_free. */
static srv_entry *srv_find(srv_jobs *s, const char *id)
{
  pthread_mutex_lock(&s->mu);
  srv_entry *e = s->buckets[srv_hash(id)];
  while (e && strcmp(e->id, id) != 0)
    e = e->next;
  pthread_mutex_unlock(&s->mu);
  return e;
}

/* ---- bookkeeping ---------------------------------------------------- */

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
  char err[256];
  if (store_job_update(s->st, &j, err, sizeof err) != STORE_OK)
    LOG_W("serve", "recording job %s: %s", e->id, err);
}

/* Brings the best energy up to date from the job's events; e->mu held. */
static void srv_refresh_best(srv_entry *e)
{
  job_event buf[SRV_EVENTS_BATCH];
  size_t n;
  do {
    n = job_events_since(e->j, e->last_seq, buf, SRV_EVENTS_BATCH);
    for (size_t i = 0; i < n; i++) {
      e->last_seq = buf[i].seq;
      if (buf[i].best_energy != INT64_MAX) {
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
  if (json_is_number(energy)) {
    e->has_best = 1;
    e->best = json_number_value(energy);
  }
  const char *error = json_string_value(json_object_get(res, "error"));
  if (error && !e->error)
    e->error = strdup(error);
  json_decref(res);
}

/* Records a finished job's result once; does nothing while it runs. */
static void srv_finalize(srv_jobs *s, srv_entry *e)
{
  job_result r;
  pthread_mutex_lock(&e->mu);
  if (e->final || job_get_result(e->j, &r) != 0) {
    pthread_mutex_unlock(&e->mu);
    return;
  }
  snprintf(e->state, sizeof e->state, "%s", job_state_name(r.state));
  e->started_ms = e->submitted_ms + (int64_t)(r.queued_s * 1000.0);
  e->finished_ms = e->started_ms + (int64_t)(r.run_s * 1000.0);
  srv_refresh_best(e);
  srv_error err;
  if (srv_lua_result(s->lua, e->id, &e->result_json, &err) != 0) {
    snprintf(e->state, sizeof e->state, "failed");
    e->error = strdup(err.message);
  } else {
    srv_take_result(e);
  }
  e->final = 1;
  srv_store_update(s, e);
  pthread_mutex_unlock(&e->mu);
}

static void srv_mark_running(srv_jobs *s, srv_entry *e, double elapsed_s)
{
  pthread_mutex_lock(&e->mu);
  if (!e->final && e->started_ms == 0) {
    e->started_ms = store_now_ms() - (int64_t)(elapsed_s * 1000.0);
    snprintf(e->state, sizeof e->state, "running");
    srv_store_update(s, e);
  }
  pthread_mutex_unlock(&e->mu);
}

/* The watcher: records the start (first event) and the end of a job. */
static void *srv_watch(void *arg)
{
  srv_entry *e = arg;
  job_event ev;
  if (job_next_event(e->j, 0, -1.0, &ev) == 1 && !ev.final)
    srv_mark_running(e->owner, e, ev.elapsed_s);
  job_wait(e->j, -1.0);
  srv_finalize(e->owner, e);
  return NULL;
}

/* ---- views ---------------------------------------------------------- */

static json_t *srv_ms(int64_t ms)
{
  return ms > 0 ? json_integer((json_int_t)ms) : json_null();
}

static json_t *srv_energy(int has, double v)
{
  if (!has)
    return json_null();
  if (v == floor(v) && fabs(v) <= SRV_EXACT_INT)
    return json_integer((json_int_t)v);
  return json_real(v);
}

static json_t *srv_view(const char *id, const char *problem_type,
                        const char *state, int64_t submitted,
                        int64_t started, int64_t finished, json_t *best)
{
  return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "id", id,
                   "problem_type", problem_type, "status", state,
                   "submitted_ms", srv_ms(submitted), "started_ms",
                   srv_ms(started), "finished_ms", srv_ms(finished),
                   "best_energy", best);
}

static json_t *srv_entry_view(srv_jobs *s, srv_entry *e)
{
  job_state st = job_get_state(e->j);
  if (st != JOB_QUEUED && st != JOB_RUNNING)
    srv_finalize(s, e);
  pthread_mutex_lock(&e->mu);
  if (!e->final) {
    srv_refresh_best(e);
    snprintf(e->state, sizeof e->state, "%s", job_state_name(st));
  }
  json_t *v = srv_view(e->id, e->problem_type, e->state, e->submitted_ms,
                       e->started_ms, e->finished_ms,
                       srv_energy(e->has_best, e->best));
  pthread_mutex_unlock(&e->mu);
  return v;
}

static json_t *srv_row_view(const store_job *j)
{
  return srv_view(j->id, j->problem_type, j->state, j->submitted_ms,
                  j->started_ms, j->finished_ms,
                  srv_energy(j->has_best, j->best_energy));
}

static int srv_out(json_t *v, json_t **out, srv_error *e)
{
  *out = v;
  return v ? 0 : srv_fail(e, 500, "out of memory writing JSON");
}

/* ---- lookups -------------------------------------------------------- */

/* The account's live entry for id, or NULL. */
static srv_entry *srv_owned(srv_jobs *s, const char *account, const char *id)
{
  srv_entry *e = srv_find(s, id);
  return e && strcmp(e->account, account) == 0 ? e : NULL;
}

/* The account's stored job id: 0, or -1 with 404 (or 500). */
static int srv_stored(srv_jobs *s, const char *account, const char *id,
                      store_job *j, srv_error *e)
{
  char err[256];
  int rc = store_job_get(s->st, id, j, err, sizeof err);
  if (rc == STORE_ERROR)
    return srv_fail(e, 500, "reading job %s: %s", id, err);
  if (rc == STORE_OK && strcmp(j->account, account) == 0)
    return 0;
  if (rc == STORE_OK)
    store_job_clear(j);
  return srv_fail(e, 404, "no job %s", id);
}

/* ---- operations ----------------------------------------------------- */

static srv_entry *srv_entry_new(const char *account, srv_submitted *sub)
{
  srv_entry *e = calloc(1, sizeof *e);
  if (!e)
    return NULL;
  if (pthread_mutex_init(&e->mu, NULL) != 0) {
    free(e);
    return NULL;
  }
  snprintf(e->id, sizeof e->id, "%s", job_id(sub->j));
  snprintf(e->account, sizeof e->account, "%s", account);
  snprintf(e->problem_type, sizeof e->problem_type, "%s",
           sub->problem_type);
  snprintf(e->state, sizeof e->state, "queued");
  e->j = sub->j;
  e->scale = sub->scale > 0 ? sub->scale : 1.0;
  e->submitted_ms = store_now_ms();
  return e;
}

static int srv_insert(srv_jobs *s, srv_entry *e, const char *params_json,
                      srv_error *err)
{
  store_job j;
  memset(&j, 0, sizeof j);
  snprintf(j.id, sizeof j.id, "%s", e->id);
  snprintf(j.account, sizeof j.account, "%s", e->account);
  snprintf(j.problem_type, sizeof j.problem_type, "%s", e->problem_type);
  snprintf(j.state, sizeof j.state, "queued");
  j.params_json = (char *)params_json;
  j.submitted_ms = e->submitted_ms;
  char msg[256];
  if (store_job_insert(s->st, &j, msg, sizeof msg) != STORE_OK)
    return srv_fail(err, 500, "recording job %s: %s", e->id, msg);
  return 0;
}

int srv_jobs_submit(srv_jobs *s, const char *account, json_t *submission,
                    json_t **out, srv_error *e)
{
  srv_submitted sub;
  if (srv_lua_submit(s->lua, submission, &sub, e) != 0)
    return -1;
  srv_entry *en = srv_entry_new(account, &sub);
  if (!en || srv_insert(s, en, sub.params_json, e) != 0) {
    if (!en)
      srv_fail(e, 500, "out of memory");
    job_cancel(sub.j);
    job_wait(sub.j, SRV_CANCEL_WAIT_S);
    if (en)
      pthread_mutex_destroy(&en->mu);
    free(en);
    job_release(sub.j);
    free(sub.params_json);
    return -1;
  }
  free(sub.params_json);
  en->owner = s;
  int rc = pthread_create(&en->watcher, NULL, srv_watch, en);
  en->has_watcher = rc == 0;
  if (rc != 0)
    LOG_W("serve", "no watcher for job %s: %s", en->id, strerror(rc));
  srv_add(s, en);
  return srv_out(srv_entry_view(s, en), out, e);
}

int srv_jobs_get(srv_jobs *s, const char *account, const char *id,
                 json_t **out, srv_error *e)
{
  srv_entry *en = srv_owned(s, account, id);
  if (en)
    return srv_out(srv_entry_view(s, en), out, e);
  store_job j;
  if (srv_stored(s, account, id, &j, e) != 0)
    return -1;
  json_t *v = srv_row_view(&j);
  store_job_clear(&j);
  return srv_out(v, out, e);
}

static int srv_is_final(const char *state)
{
  return strcmp(state, "queued") != 0 && strcmp(state, "running") != 0;
}

int srv_jobs_cancel(srv_jobs *s, const char *account, const char *id,
                    json_t **out, srv_error *e)
{
  srv_entry *en = srv_owned(s, account, id);
  if (!en) {
    store_job j;
    if (srv_stored(s, account, id, &j, e) != 0)
      return -1;
    srv_fail(e, 409, "job %s is %s and not running on this server", id,
             j.state);
    store_job_clear(&j);
    return -1;
  }
  if (!job_cancel(en->j))
    return srv_fail(e, 409, "job %s has already finished", id);
  job_wait(en->j, SRV_CANCEL_WAIT_S);
  srv_finalize(s, en);
  return srv_out(srv_entry_view(s, en), out, e);
}

static int srv_copy_result(srv_entry *en, char **json_text, srv_error *e)
{
  pthread_mutex_lock(&en->mu);
  int rc = 0;
  if (en->result_json)
    *json_text = strdup(en->result_json);
  else
    rc = srv_fail(e, 500, "job %s has no result: %s", en->id,
                  en->error ? en->error : "unknown error");
  pthread_mutex_unlock(&en->mu);
  if (rc == 0 && !*json_text)
    return srv_fail(e, 500, "out of memory");
  return rc;
}

int srv_jobs_result(srv_jobs *s, const char *account, const char *id,
                    char **json_text, srv_error *e)
{
  *json_text = NULL;
  srv_entry *en = srv_owned(s, account, id);
  if (en) {
    job_state st = job_get_state(en->j);
    if (st == JOB_QUEUED || st == JOB_RUNNING)
      return srv_fail(e, 409, "job %s is %s; its result is available "
                      "when it finishes", id, job_state_name(st));
    srv_finalize(s, en);
    return srv_copy_result(en, json_text, e);
  }
  store_job j;
  if (srv_stored(s, account, id, &j, e) != 0)
    return -1;
  int rc = 0;
  if (j.result_json)
    *json_text = strdup(j.result_json);
  else if (srv_is_final(j.state))
    rc = srv_fail(e, 500, "job %s has no result: %s", id,
                  j.error ? j.error : "unknown error");
  else
    rc = srv_fail(e, 409, "job %s is %s", id, j.state);
  store_job_clear(&j);
  if (rc == 0 && !*json_text)
    return srv_fail(e, 500, "out of memory");
  return rc;
}

static int srv_check_list(const char *state, int64_t limit, int64_t offset,
                          srv_error *e)
{
  int known = state == NULL;
  for (size_t i = 0; !known && i < sizeof srv_states / sizeof *srv_states;
       i++)
    known = strcmp(state, srv_states[i]) == 0;
  if (!known) {
    srv_fail(e, 400, "status: unknown job state '%s'", state);
    snprintf(e->field, sizeof e->field, "status");
    return -1;
  }
  if (limit < 1 || limit > STORE_PAGE_MAX) {
    srv_fail(e, 400, "limit: expected 1 to %d", STORE_PAGE_MAX);
    snprintf(e->field, sizeof e->field, "limit");
    return -1;
  }
  if (offset < 0) {
    srv_fail(e, 400, "offset: expected 0 or more");
    snprintf(e->field, sizeof e->field, "offset");
    return -1;
  }
  return 0;
}

int srv_jobs_list(srv_jobs *s, const char *account, const char *state,
                  int64_t limit, int64_t offset, json_t **out,
                  srv_error *e)
{
  if (srv_check_list(state, limit, offset, e) != 0)
    return -1;
  store_job_query q = { account, state, limit, offset };
  store_job *rows = NULL;
  size_t n = 0;
  char err[256];
  if (store_job_list(s->st, &q, &rows, &n, err, sizeof err) != STORE_OK)
    return srv_fail(e, 500, "listing jobs: %s", err);
  json_t *jobs = json_array();
  for (size_t i = 0; jobs && i < n; i++) {
    srv_entry *en = srv_owned(s, account, rows[i].id);
    json_t *v = en ? srv_entry_view(s, en) : srv_row_view(&rows[i]);
    if (!v || json_array_append_new(jobs, v) != 0) {
      json_decref(jobs);
      jobs = NULL;
    }
  }
  store_jobs_free(rows, n);
  if (!jobs)
    return srv_fail(e, 500, "out of memory writing JSON");
  return srv_out(json_pack("{s:o, s:I, s:I}", "jobs", jobs, "limit",
                           (json_int_t)limit, "offset", (json_int_t)offset),
                 out, e);
}

size_t srv_jobs_live(srv_jobs *s)
{
  size_t n = 0;
  pthread_mutex_lock(&s->mu);
  for (srv_entry *e = s->all; e; e = e->all) {
    job_state st = job_get_state(e->j);
    n += st == JOB_QUEUED || st == JOB_RUNNING;
  }
  pthread_mutex_unlock(&s->mu);
  return n;
}

json_t *srv_jobs_cancel_all(srv_jobs *s, const char *account,
                            srv_error *e)
{
  json_t *ids = json_array();
  if (!ids) {
    srv_fail(e, 500, "out of memory");
    return NULL;
  }
  /* Entries are only ever added at the head of the list, so a snapshot
   * of the head covers every job submitted before this call. */
  pthread_mutex_lock(&s->mu);
  srv_entry *head = s->all;
  pthread_mutex_unlock(&s->mu);
  for (srv_entry *en = head; en; en = en->all) {
    if (account && strcmp(en->account, account) != 0)
      continue;
    if (job_cancel(en->j) &&
        json_array_append_new(ids, json_string(en->id)) != 0) {
      json_decref(ids);
      srv_fail(e, 500, "out of memory");
      return NULL;
    }
  }
  for (srv_entry *en = head; en; en = en->all) {
    if (account && strcmp(en->account, account) != 0)
      continue;
    job_wait(en->j, SRV_CANCEL_WAIT_S);
    srv_finalize(s, en);
  }
  return ids;
}
