/* Restart recovery for `nerox serve`: jobs that a previous process left
 * queued or running (it was killed, or the machine stopped) are marked
 * failed, with a result that says why, so that status and result answer
 * for them. They are not re-queued: the store keeps a job's parameters
 * but not its payload (the problem itself), so it cannot be run again.
 * They are never billed: no usage is recorded for them.
 *
 * Assumes one server per database: run it before the server accepts
 * requests, since it fails every unfinished job in the store. */
#ifndef NEROX_SRV_RECOVER_H
#define NEROX_SRV_RECOVER_H

#include <stddef.h>

#include "server/store.h"

/* The error recorded on every recovered job. */
#define SRV_RECOVER_ERROR \
  "interrupted: the server stopped before the job finished; submit it again"

/* Marks every queued or running job in the store failed (finished now,
 * error SRV_RECOVER_ERROR, result {"status": "failed", "error", "job_id",
 * "problem_type"}). Sets *recovered to how many; 0, or -1 with a message
 * (jobs already marked stay marked). */
int srv_recover(store *st, size_t *recovered, char *err, size_t errlen);

#endif
