/* The jobs of `nerox serve`: submitted through the Lua bridge, run on the
 * engine, recorded in the store, kept in memory by id while the process
 * lives (for status, cancel and result), and answered as JSON. An account
 * sees only its own jobs: another account's job is "not found". */
#ifndef NEROX_SRV_JOBS_H
#define NEROX_SRV_JOBS_H

#include <stdint.h>

#include <jansson.h>

#include "server/plans.h"
#include "server/srv_error.h"
#include "server/srv_lua.h"
#include "server/srv_metrics.h"
#include "server/store.h"

/* How long cancel waits for the job to stop before answering. */
#define SRV_CANCEL_WAIT_S 5.0
/* Jobs a listing returns when the request gives no limit. */
#define SRV_LIST_DEFAULT_LIMIT 50
/* Seconds a finished job stays in memory by default. */
#define SRV_KEEP_FINISHED_S 60.0
/* Retry-After of a 429 for too many concurrent jobs, in seconds. */
#define SRV_CONCURRENT_RETRY_S 1
/* Events returned by one srv_jobs_events call at most. */
#define SRV_EVENTS_MAX 256

typedef struct srv_jobs srv_jobs;

srv_jobs *srv_jobs_new(store *st, srv_lua *lua, char *err, size_t errlen);
/* Waits for each job's bookkeeping to finish (call engine_shutdown
 * first, so jobs end), then frees everything. */
void srv_jobs_free(srv_jobs *s);

/* A submission's caller and what admits it. */
typedef struct srv_submit_req {
  const char *account;
  const plans_limits *limits; /* concurrent and monthly jobs */
  const char *idem_key;       /* NULL or "": none */
  const char *body_hash;      /* SHA-256 hex of the body (with idem_key) */
} srv_submit_req;

/* Each returns 0 with *out (a new JSON value) or -1 with e filled.
 * submit: a 429 (srv_fail_rate) when the account has as many jobs queued
 * or running as its limit allows, or has used its jobs of the month; with
 * an idempotency key seen before, the first job (*replayed = 1) when the
 * body is the same, else a 409. */
int srv_jobs_submit(srv_jobs *s, const srv_submit_req *rq,
                    json_t *submission, json_t **out, int *replayed,
                    srv_error *e);
int srv_jobs_get(srv_jobs *s, const char *account, const char *id,
                 json_t **out, srv_error *e);
int srv_jobs_cancel(srv_jobs *s, const char *account, const char *id,
                    json_t **out, srv_error *e);
int srv_jobs_list(srv_jobs *s, const char *account, const char *state,
                  int64_t limit, int64_t offset, json_t **out,
                  srv_error *e);
/* The events of the account's job id with seq > after, as a JSON array
 * of {seq, type, best_energy, energy, sweep, elapsed_s, replicas} in the
 * caller's units, waiting up to wait_s for the first; *done is 1 when no
 * event will follow the ones returned. */
int srv_jobs_events(srv_jobs *s, const char *account, const char *id,
                    int64_t after, double wait_s, json_t **events,
                    int *done, srv_error *e);
/* Jobs of this process still queued or running. */
size_t srv_jobs_live(srv_jobs *s);
/* The same, apart: queued and running. */
void srv_jobs_counts(srv_jobs *s, size_t *queued, size_t *running);
/* How long a finished job stays in memory after it was recorded (reads
 * of it then go to the store); SRV_KEEP_FINISHED_S unless set. */
void srv_jobs_set_keep(srv_jobs *s, double seconds);

/* Where finished jobs are counted (NULL: nowhere); set before serving.
 * s takes m over (freeing the one it had) and frees it last. */
void srv_jobs_set_metrics(srv_jobs *s, srv_metrics *m);
/* Cancels every queued or running job of account (NULL: of every
 * account), waits for each to stop (SRV_CANCEL_WAIT_S at most) and
 * records it; returns the cancelled jobs' ids as a JSON array, or NULL
 * with e filled. */
json_t *srv_jobs_cancel_all(srv_jobs *s, const char *account,
                            srv_error *e);
/* The result as JSON text (owned by the caller); 409 while the job is
 * queued or running. */
int srv_jobs_result(srv_jobs *s, const char *account, const char *id,
                    char **json_text, srv_error *e);

#endif
