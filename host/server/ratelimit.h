/* Requests per minute, per account: the generic cell rate algorithm
 * (GCRA), a token bucket of `limit` tokens refilled at `limit` per
 * minute, kept as one "theoretical arrival time" per account. A burst of
 * up to `limit` requests passes at once; after that one request passes
 * every 60/limit seconds. State lives in this process's memory. */
#ifndef NEROX_RATELIMIT_H
#define NEROX_RATELIMIT_H

#include <stdint.h>

#include "server/store.h"

/* Accounts tracked at once; the least recently seen is forgotten (its
 * bucket is then full again, which only ever lets requests through). */
#define RATELIMIT_MAX_ACCOUNTS 65536

typedef struct ratelimit ratelimit;

/* The answer for one request; every field is filled, allowed or not. */
typedef struct ratelimit_verdict {
  int allowed;
  int64_t limit;          /* requests per minute */
  int64_t remaining;      /* requests that would pass right now */
  int64_t reset_s;        /* Unix seconds when the bucket is full again */
  int64_t retry_after_s;  /* 0 when allowed, else >= 1 */
} ratelimit_verdict;

ratelimit *ratelimit_new(void);
void ratelimit_free(ratelimit *r);

/* Takes one request of account at now_ms under a limit of per_minute
 * requests (PLANS_UNLIMITED or <= 0: always allowed). */
void ratelimit_take(ratelimit *r, const char *account, int64_t per_minute,
                    int64_t now_ms, ratelimit_verdict *v);

#endif
