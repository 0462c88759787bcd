/* The store's public functions: each forwards to the implementation's
 * table, so callers never depend on which database is behind a handle. */
#include "server/store.h"

#include <stdlib.h>
#include <time.h>

void store_close(store *s)
{
  if (s)
    s->ops->close(s);
}

int store_migrate(store *s, char *err, size_t errlen)
{
  return s->ops->migrate(s, err, errlen);
}

int store_schema_version(store *s, int *version, char *err, size_t errlen)
{
  return s->ops->schema_version(s, version, err, errlen);
}

int store_account_create(store *s, const store_account *a, char *err,
                         size_t errlen)
{
  return s->ops->account_create(s, a, err, errlen);
}

int store_account_get(store *s, const char *name, store_account *out,
                      char *err, size_t errlen)
{
  return s->ops->account_get(s, name, out, err, errlen);
}

int store_account_set_plan(store *s, const char *name, const char *plan,
                           char *err, size_t errlen)
{
  return s->ops->account_set_plan(s, name, plan, err, errlen);
}

int store_account_set_limits(store *s, const char *name,
                             const plans_limits *limits, char *err,
                             size_t errlen)
{
  return s->ops->account_set_limits(s, name, limits, err, errlen);
}

int store_key_create(store *s, const store_key *k, char *err, size_t errlen)
{
  return s->ops->key_create(s, k, err, errlen);
}

int store_key_find_hash(store *s, const char *hash, store_key *out,
                        char *err, size_t errlen)
{
  return s->ops->key_find_hash(s, hash, out, err, errlen);
}

int store_key_list(store *s, store_key **out, size_t *n, char *err,
                   size_t errlen)
{
  return s->ops->key_list(s, out, n, err, errlen);
}

int store_key_revoke(store *s, const char *id, int64_t now_ms, char *err,
                     size_t errlen)
{
  return s->ops->key_revoke(s, id, now_ms, err, errlen);
}

int store_key_touch(store *s, const char *id, int64_t now_ms, char *err,
                    size_t errlen)
{
  return s->ops->key_touch(s, id, now_ms, err, errlen);
}

int store_job_insert(store *s, const store_job *j, char *err, size_t errlen)
{
  return s->ops->job_insert(s, j, err, errlen);
}

int store_job_update(store *s, const store_job *j, char *err, size_t errlen)
{
  return s->ops->job_update(s, j, err, errlen);
}

int store_job_get(store *s, const char *id, store_job *out, char *err,
                  size_t errlen)
{
  return s->ops->job_get(s, id, out, err, errlen);
}

int store_job_find_idem(store *s, const char *account, const char *idem_key,
                        store_job *out, char *err, size_t errlen)
{
  return s->ops->job_find_idem(s, account, idem_key, out, err, errlen);
}

int store_job_list(store *s, const store_job_query *q, store_job **out,
                   size_t *n, char *err, size_t errlen)
{
  return s->ops->job_list(s, q, out, n, err, errlen);
}

int store_job_count(store *s, const char *account, const char *state,
                    int64_t from_ms, int64_t to_ms, int64_t *count,
                    char *err, size_t errlen)
{
  return s->ops->job_count(s, account, state, from_ms, to_ms, count, err,
                           errlen);
}

int store_job_list_unfinished(store *s, int64_t limit, store_job **out,
                              size_t *n, char *err, size_t errlen)
{
  return s->ops->job_list_unfinished(s, limit, out, n, err, errlen);
}

int store_event_append(store *s, const char *job_id, const char *type,
                       const char *data_json, int64_t at_ms, int64_t *seq,
                       char *err, size_t errlen)
{
  return s->ops->event_append(s, job_id, type, data_json, at_ms, seq, err,
                              errlen);
}

int store_event_list(store *s, const char *job_id, int64_t after_seq,
                     int64_t limit, store_event **out, size_t *n, char *err,
                     size_t errlen)
{
  return s->ops->event_list(s, job_id, after_seq, limit, out, n, err,
                            errlen);
}

int store_usage_append(store *s, const char *account, const char *job_id,
                       store_usage_kind kind, double seconds, int64_t at_ms,
                       char *err, size_t errlen)
{
  return s->ops->usage_append(s, account, job_id, kind, seconds, at_ms, err,
                              errlen);
}

int store_usage_sum(store *s, const char *account, store_usage_kind kind,
                    int64_t from_ms, int64_t to_ms, double *seconds,
                    char *err, size_t errlen)
{
  return s->ops->usage_sum(s, account, kind, from_ms, to_ms, seconds, err,
                           errlen);
}

void store_job_clear(store_job *j)
{
  free(j->params_json);
  free(j->result_json);
  free(j->error);
  j->params_json = j->result_json = j->error = NULL;
}

void store_jobs_free(store_job *jobs, size_t n)
{
  for (size_t i = 0; jobs && i < n; i++)
    store_job_clear(&jobs[i]);
  free(jobs);
}

void store_events_free(store_event *events, size_t n)
{
  for (size_t i = 0; events && i < n; i++)
    free(events[i].data_json);
  free(events);
}

int64_t store_now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
