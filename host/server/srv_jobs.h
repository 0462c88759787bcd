/* The jobs of `nerox serve`: submitted through the Lua bridge, run on the
 * engine, recorded in the store, kept in memory by id while the process
 * lives (for status, cancel and result), and answered as JSON. An account
 * sees only its own jobs: another account's job is "not found". */
#ifndef NEROX_SRV_JOBS_H
#define NEROX_SRV_JOBS_H

#include <stdint.h>

#include <jansson.h>

#include "server/srv_error.h"
#include "server/srv_lua.h"
#include "server/store.h"

/* How long cancel waits for the job to stop before answering. */
#define SRV_CANCEL_WAIT_S 5.0
/* Jobs a listing returns when the request gives no limit. */
#define SRV_LIST_DEFAULT_LIMIT 50

typedef struct srv_jobs srv_jobs;

srv_jobs *srv_jobs_new(store *st, srv_lua *lua, char *err, size_t errlen);
/* Waits for each job's bookkeeping to finish (call engine_shutdown
 * first, so jobs end), then frees everything. */
void srv_jobs_free(srv_jobs *s);

/* Each returns 0 with *out (a new JSON value) or -1 with e filled. */
int srv_jobs_submit(srv_jobs *s, const char *account, json_t *submission,
                    json_t **out, srv_error *e);
int srv_jobs_get(srv_jobs *s, const char *account, const char *id,
                 json_t **out, srv_error *e);
int srv_jobs_cancel(srv_jobs *s, const char *account, const char *id,
                    json_t **out, srv_error *e);
int srv_jobs_list(srv_jobs *s, const char *account, const char *state,
                  int64_t limit, int64_t offset, json_t **out,
                  srv_error *e);
/* Jobs of this process still queued or running. */
size_t srv_jobs_live(srv_jobs *s);
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
