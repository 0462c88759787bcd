/* Restart recovery (see srv_recover.h): pages through the jobs still
 * queued or running and rewrites each as failed. Each page is re-read
 * from the start, since the jobs of the previous one are no longer
 * unfinished. */
#include "server/srv_recover.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/log.h"

/* Jobs read per page. */
#define SRV_RECOVER_PAGE 200

/* The final event of a recovered job: streams end with it. Its seq comes
 * after every event stored while the job ran. */
static int srv_recover_event(store *st, const char *id, int64_t now_ms,
                             char *err, size_t errlen)
{
  json_t *ev = json_pack("{s:s, s:n, s:n, s:s}", "type", "failed",
                         "best_energy", "energy", "error",
                         SRV_RECOVER_ERROR);
  char *text = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
  json_decref(ev);
  int64_t seq;
  int rc = text ? store_event_append(st, id, "failed", text, now_ms, &seq,
                                     err, errlen)
                : STORE_ERROR;
  if (!text)
    snprintf(err, errlen, "recovering job %s: out of memory", id);
  free(text);
  return rc == STORE_OK ? 0 : -1;
}

/* Fails one job; j comes from the listing, without params and result. */
static int srv_recover_job(store *st, store_job *j, int64_t now_ms,
                           char *err, size_t errlen)
{
  json_t *res = json_pack("{s:s, s:s, s:s, s:s}", "status", "failed",
                          "error", SRV_RECOVER_ERROR, "job_id", j->id,
                          "problem_type", j->problem_type);

  LOG_D("serve", "job %s %s -> failed (recovered)", j->id, j->state);
  free(j->result_json);
  free(j->error);
  j->result_json = res ? json_dumps(res, JSON_COMPACT) : NULL;
  j->error = strdup(SRV_RECOVER_ERROR);
  json_decref(res);
  if (!j->result_json || !j->error) {
    snprintf(err, errlen, "recovering job %s: out of memory", j->id);
    return -1;
  }
  snprintf(j->state, sizeof j->state, "failed");
  j->finished_ms = now_ms;
  j->usage_kind[0] = '\0'; /* never billed */
  j->usage_s = 0;
  if (store_job_update(st, j, err, errlen) != STORE_OK)
    return -1;
  return srv_recover_event(st, j->id, now_ms, err, errlen);
}

int srv_recover(store *st, size_t *recovered, char *err, size_t errlen)
{
  int64_t now_ms = store_now_ms();

  *recovered = 0;
  for (;;) {
    store_job *jobs = NULL;
    size_t n = 0;
    int rc = 0;

    if (store_job_list_unfinished(st, SRV_RECOVER_PAGE, &jobs, &n, err,
                                  errlen) != STORE_OK)
      return -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
      rc = srv_recover_job(st, &jobs[i], now_ms, err, errlen);
      *recovered += rc == 0;
    }
    store_jobs_free(jobs, n);
    if (rc != 0)
      return -1;
    if (n < SRV_RECOVER_PAGE)
      return 0;
  }
}
