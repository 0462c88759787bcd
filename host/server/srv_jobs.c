/* The jobs of `nerox serve` (see srv_jobs.h): a table of this process's
 * jobs by id (srv_jobs_internal.h), submissions with their limits and
 * idempotency keys, and the operations on jobs. The recorder
 * (srv_record.c) writes jobs to the store as they start and end; a job
 * no longer in memory is answered from the store. */
#include "server/srv_jobs_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/keys.h"
#include "server/srv_usage.h"
#include "util/log.h"

static const char *const srv_states[] = {
  "queued", "running", "succeeded", "failed", "cancelled", "timed_out",
};

/* Job ids outlive the process: "job-" and 12 random hex characters of
 * this process, then the engine's counter ("job-3f9a0c1e5b7d-000001"). */
static int srv_id_prefix(char *err, size_t errlen)
{
  char rnd[STORE_ID_MAX], prefix[ENGINE_ID_PREFIX_MAX];
  if (keys_new_id(rnd, sizeof rnd, err, errlen) != KEYS_OK)
    return -1;
  snprintf(prefix, sizeof prefix, "job-%.12s-", rnd + strlen("key_"));
  if (engine_set_id_prefix(prefix) != 0) {
    snprintf(err, errlen, "job id prefix too long");
    return -1;
  }
  return 0;
}

srv_jobs *srv_jobs_new(store *st, srv_lua *lua, char *err, size_t errlen)
{
  srv_jobs *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  int rc = pthread_mutex_init(&s->mu, NULL);
  if (rc == 0) {
    rc = pthread_mutex_init(&s->admit, NULL);
    if (rc != 0)
      pthread_mutex_destroy(&s->mu);
  }
  if (rc != 0) {
    snprintf(err, errlen, "mutex: %s", strerror(rc));
    free(s);
    return NULL;
  }
  s->st = st;
  s->lua = lua;
  atomic_init(&s->keep_ms, (long long)(SRV_KEEP_FINISHED_S * 1000.0));
  s->live = srv_counts_new();
  if (!s->live)
    snprintf(err, errlen, "out of memory");
  if (!s->live || srv_id_prefix(err, errlen) != 0 ||
      srv_recorder_start(s, err, errlen) != 0) {
    srv_counts_free(s->live);
    pthread_mutex_destroy(&s->admit);
    pthread_mutex_destroy(&s->mu);
    free(s);
    return NULL;
  }
  return s;
}

static void srv_entry_free(srv_entry *e)
{
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
  srv_recorder_stop(s);
  /* Jobs that ended after the recorder stopped are recorded here. */
  for (srv_entry *e = s->all; e; e = e->next_all)
    srv_finalize(s, e);
  srv_entry *e = s->all;
  while (e) {
    srv_entry *next = e->next_all;
    srv_entry_free(e);
    e = next;
  }
  srv_counts_free(s->live);
  srv_metrics_free(s->metrics);
  pthread_mutex_destroy(&s->admit);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

/* ---- the table ------------------------------------------------------ */

static size_t srv_hash(const char *id, size_t buckets)
{
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *id; id++)
    h = (h ^ (unsigned char)*id) * 1099511628211ull;
  return (size_t)(h % buckets);
}

static void srv_add(srv_jobs *s, srv_entry *e)
{
  pthread_mutex_lock(&s->mu);
  size_t b = srv_hash(e->id, SRV_JOBS_BUCKETS);
  e->refs = 1;
  e->next = s->buckets[b];
  s->buckets[b] = e;
  e->next_all = s->all;
  if (s->all)
    s->all->prev_all = e;
  s->all = e;
  pthread_mutex_unlock(&s->mu);
}

srv_entry *srv_get(srv_jobs *s, const char *id)
{
  pthread_mutex_lock(&s->mu);
  srv_entry *e = s->buckets[srv_hash(id, SRV_JOBS_BUCKETS)];
  while (e && strcmp(e->id, id) != 0)
    e = e->next;
  if (e)
    e->refs++;
  pthread_mutex_unlock(&s->mu);
  return e;
}

void srv_put(srv_jobs *s, srv_entry *e)
{
  pthread_mutex_lock(&s->mu);
  int last = --e->refs == 0;
  pthread_mutex_unlock(&s->mu);
  if (last)
    srv_entry_free(e);
}

srv_entry *srv_owned(srv_jobs *s, const char *account, const char *id)
{
  srv_entry *e = srv_get(s, id);
  if (e && strcmp(e->account, account) != 0) {
    srv_put(s, e);
    e = NULL;
  }
  return e;
}

/* Unlinks e from its bucket and the list; s->mu held. */
static void srv_unlink(srv_jobs *s, srv_entry *e)
{
  srv_entry **pp = &s->buckets[srv_hash(e->id, SRV_JOBS_BUCKETS)];
  while (*pp && *pp != e)
    pp = &(*pp)->next;
  if (*pp)
    *pp = e->next;
  if (e->prev_all)
    e->prev_all->next_all = e->next_all;
  else
    s->all = e->next_all;
  if (e->next_all)
    e->next_all->prev_all = e->prev_all;
}

void srv_jobs_set_keep(srv_jobs *s, double seconds)
{
  atomic_store(&s->keep_ms, (long long)(seconds * 1000.0));
}

void srv_done(srv_jobs *s, srv_entry *e)
{
  pthread_mutex_lock(&s->mu);
  e->refs++; /* the list's */
  if (s->done_tail)
    s->done_tail->next_done = e;
  else
    s->done_head = e;
  s->done_tail = e;
  pthread_mutex_unlock(&s->mu);
}

void srv_evict(srv_jobs *s, int64_t cutoff_ms)
{
  srv_entry *gone = NULL;
  size_t n = 0;
  pthread_mutex_lock(&s->mu);
  /* Entries join the list as they are recorded, so the old ones are at
   * its head: the scan stops at the first recent one. */
  while (s->done_head && s->done_head->recorded_ms < cutoff_ms) {
    srv_entry *e = s->done_head;
    s->done_head = e->next_done;
    if (!s->done_head)
      s->done_tail = NULL;
    srv_unlink(s, e);
    e->refs -= 2; /* the table's and the list's */
    if (e->refs == 0) {
      e->next = gone;
      gone = e;
    }
    n++;
  }
  pthread_mutex_unlock(&s->mu);
  while (gone) {
    srv_entry *next = gone->next;
    srv_entry_free(gone);
    gone = next;
  }
  if (n)
    LOG_D("serve", "%zu finished jobs left memory", n);
}

int64_t srv_live_add(srv_jobs *s, const char *account, int delta)
{
  return srv_counts_add(s->live, account, delta);
}

/* ---- operations ----------------------------------------------------- */

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
  json_t *params = json_loads(sub->params_json ? sub->params_json : "{}",
                              0, NULL);
  const char *solver = json_string_value(json_object_get(params, "solver"));
  snprintf(e->solver, sizeof e->solver, "%s", solver ? solver : "auto");
  json_decref(params);
  return e;
}

static int srv_insert(srv_jobs *s, srv_entry *e, const char *params_json,
                      const srv_submit_req *rq, srv_error *err)
{
  store_job j;
  memset(&j, 0, sizeof j);
  snprintf(j.id, sizeof j.id, "%s", e->id);
  snprintf(j.account, sizeof j.account, "%s", e->account);
  snprintf(j.problem_type, sizeof j.problem_type, "%s", e->problem_type);
  snprintf(j.state, sizeof j.state, "queued");
  j.params_json = (char *)params_json;
  j.submitted_ms = e->submitted_ms;
  if (rq->idem_key && rq->idem_key[0]) {
    snprintf(j.idem_key, sizeof j.idem_key, "%s", rq->idem_key);
    snprintf(j.body_hash, sizeof j.body_hash, "%s", rq->body_hash);
  }
  char msg[256];
  int rc = store_job_insert(s->st, &j, msg, sizeof msg);
  if (rc == STORE_CONFLICT && j.idem_key[0])
    return srv_fail(err, 409, "Idempotency-Key: already used by another "
                    "job");
  if (rc == STORE_CONFLICT)
    return srv_fail(err, 500, "job id %s is taken in the store", e->id);
  if (rc != STORE_OK)
    return srv_fail(err, 500, "recording job %s: %s", e->id, msg);
  return 0;
}

/* The first job of an idempotency key seen before: 1 with its view (same
 * body), -1 with a 409 (another body) or a 500, 0 when the key is new. */
static int srv_replay(srv_jobs *s, const srv_submit_req *rq, json_t **out,
                      srv_error *e)
{
  if (!rq->idem_key || !rq->idem_key[0])
    return 0;
  store_job j;
  char err[256];
  int rc = store_job_find_idem(s->st, rq->account, rq->idem_key, &j, err,
                               sizeof err);
  if (rc == STORE_NOTFOUND)
    return 0;
  if (rc != STORE_OK)
    return srv_fail(e, 500, "looking up the Idempotency-Key: %s", err);
  int same = strcmp(j.body_hash, rq->body_hash) == 0;
  char id[STORE_ID_MAX];
  snprintf(id, sizeof id, "%s", j.id);
  store_job_clear(&j);
  if (!same)
    return srv_fail(e, 409, "Idempotency-Key: already used for job %s "
                    "with a different body", id);
  if (srv_jobs_get(s, rq->account, id, out, e) != 0)
    return -1;
  return 1;
}

/* 0 when the account may start one more job, else a 429 or a 500. */
static int srv_admit(srv_jobs *s, const srv_submit_req *rq, srv_error *e)
{
  const plans_limits *lim = rq->limits;
  int64_t now = store_now_ms();
  if (lim->concurrent_jobs != PLANS_UNLIMITED) {
    int64_t live = srv_live_add(s, rq->account, 0);
    if (live >= lim->concurrent_jobs) {
      srv_rate r = { "concurrent_jobs", lim->concurrent_jobs, 0,
                     (now + 999) / 1000 + SRV_CONCURRENT_RETRY_S,
                     SRV_CONCURRENT_RETRY_S };
      return srv_fail_rate(e, &r, "concurrent_jobs: %lld job%s queued or "
                           "running, the plan's limit; submit again when "
                           "one finishes", (long long)live,
                           live == 1 ? " is" : "s are");
    }
  }
  if (lim->jobs_per_month == PLANS_UNLIMITED)
    return 0;
  int64_t from, to, used = 0;
  char err[256];
  srv_month_bounds(now, &from, &to);
  if (store_job_count(s->st, rq->account, NULL, from, to, &used, err,
                      sizeof err) != STORE_OK)
    return srv_fail(e, 500, "counting jobs: %s", err);
  if (used < lim->jobs_per_month)
    return 0;
  int64_t wait_s = (to - now + 999) / 1000;
  srv_rate r = { "jobs_per_month", lim->jobs_per_month, 0, to / 1000,
                 wait_s < 1 ? 1 : wait_s };
  char end[SRV_ISO_MAX];
  srv_iso8601(to, end);
  return srv_fail_rate(e, &r, "jobs_per_month: all %lld jobs of this "
                       "month are used; the count starts again at %s",
                       (long long)lim->jobs_per_month, end);
}

/* Queues the submission as a new job; s->admit held. */
static int srv_queue(srv_jobs *s, const srv_submit_req *rq,
                     json_t *submission, srv_entry **out, srv_error *e)
{
  srv_submitted sub;
  /* The engine serves accounts' queued jobs round-robin. */
  engine_set_owner(rq->account);
  int rc = srv_lua_submit(s->lua, submission, &sub, e);
  engine_set_owner(NULL);
  if (rc != 0)
    return -1;
  srv_entry *en = srv_entry_new(rq->account, &sub);
  if (!en || srv_insert(s, en, sub.params_json, rq, e) != 0) {
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
  srv_live_add(s, rq->account, 1);
  srv_add(s, en);
  /* What the engine said of the job before it was in the table. */
  srv_note(s, en->id);
  *out = en;
  return 0;
}

int srv_jobs_submit(srv_jobs *s, const srv_submit_req *rq,
                    json_t *submission, json_t **out, int *replayed,
                    srv_error *e)
{
  srv_entry *en = NULL;
  *replayed = 0;
  pthread_mutex_lock(&s->admit);
  int rc = srv_replay(s, rq, out, e);
  if (rc == 0)
    rc = srv_admit(s, rq, e);
  if (rc == 0)
    rc = srv_queue(s, rq, submission, &en, e);
  pthread_mutex_unlock(&s->admit);
  if (rc == 1) {
    *replayed = 1;
    return 0;
  }
  if (rc != 0)
    return -1;
  return srv_out(srv_entry_view(s, en), out, e);
}

int srv_jobs_get(srv_jobs *s, const char *account, const char *id,
                 json_t **out, srv_error *e)
{
  srv_entry *en = srv_owned(s, account, id);
  if (en) {
    json_t *v = srv_entry_view(s, en);
    srv_put(s, en);
    return srv_out(v, out, e);
  }
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
  int rc = 0;
  json_t *v = NULL;
  if (!job_cancel(en->j)) {
    rc = srv_fail(e, 409, "job %s has already finished", id);
  } else {
    job_wait(en->j, SRV_CANCEL_WAIT_S);
    srv_finalize(s, en);
    v = srv_entry_view(s, en);
  }
  srv_put(s, en);
  return rc != 0 ? rc : srv_out(v, out, e);
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
    int rc;
    if (st == JOB_QUEUED || st == JOB_RUNNING) {
      rc = srv_fail(e, 409, "job %s is %s; its result is available when "
                    "it finishes", id, job_state_name(st));
    } else {
      srv_finalize(s, en);
      rc = srv_copy_result(en, json_text, e);
    }
    srv_put(s, en);
    return rc;
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
    if (en)
      srv_put(s, en);
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

void srv_jobs_set_metrics(srv_jobs *s, srv_metrics *m)
{
  if (s->metrics != m)
    srv_metrics_free(s->metrics);
  s->metrics = m;
}

void srv_jobs_counts(srv_jobs *s, size_t *queued, size_t *running)
{
  *queued = *running = 0;
  pthread_mutex_lock(&s->mu);
  for (srv_entry *e = s->all; e; e = e->next_all) {
    job_state st = job_get_state(e->j);
    *queued += st == JOB_QUEUED;
    *running += st == JOB_RUNNING;
  }
  pthread_mutex_unlock(&s->mu);
}

size_t srv_jobs_live(srv_jobs *s)
{
  size_t queued, running;
  srv_jobs_counts(s, &queued, &running);
  return queued + running;
}

/* The account's entries (NULL: every account's) that are not final, as
 * references; free the array and srv_put each. */
static srv_entry **srv_live_entries(srv_jobs *s, const char *account,
                                    size_t *n)
{
  size_t cap = 0;
  srv_entry **arr = NULL;
  *n = 0;
  pthread_mutex_lock(&s->mu);
  for (srv_entry *e = s->all; e; e = e->next_all) {
    if (account && strcmp(e->account, account) != 0)
      continue;
    job_state st = job_get_state(e->j);
    if (st != JOB_QUEUED && st != JOB_RUNNING)
      continue;
    if (*n == cap) {
      size_t c = cap ? cap * 2 : 16;
      srv_entry **p = realloc(arr, c * sizeof *p);
      if (!p)
        break;
      arr = p;
      cap = c;
    }
    e->refs++;
    arr[(*n)++] = e;
  }
  pthread_mutex_unlock(&s->mu);
  return arr;
}

json_t *srv_jobs_cancel_all(srv_jobs *s, const char *account,
                            srv_error *e)
{
  size_t n;
  srv_entry **live = srv_live_entries(s, account, &n);
  json_t *ids = json_array();
  for (size_t i = 0; i < n; i++)
    if (job_cancel(live[i]->j) && ids &&
        json_array_append_new(ids, json_string(live[i]->id)) != 0) {
      json_decref(ids);
      ids = NULL;
    }
  for (size_t i = 0; i < n; i++) {
    job_wait(live[i]->j, SRV_CANCEL_WAIT_S);
    srv_finalize(s, live[i]);
    srv_put(s, live[i]);
  }
  free(live);
  if (!ids)
    srv_fail(e, 500, "out of memory");
  return ids;
}
