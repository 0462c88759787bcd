/* Requests per minute by GCRA (see ratelimit.h). Accounts are found
 * through an open hash table; each holds its theoretical arrival time
 * (TAT): the moment the bucket would be full again if no request came. */
#include "server/ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "server/plans.h"

#define RL_WINDOW_MS 60000
#define RL_BUCKETS 8192

typedef struct rl_entry {
  struct rl_entry *next;
  char account[STORE_NAME_MAX];
  int64_t tat_ms;
} rl_entry;

struct ratelimit {
  pthread_mutex_t mu;
  rl_entry *buckets[RL_BUCKETS];
  size_t count;
};

ratelimit *ratelimit_new(void)
{
  ratelimit *r = calloc(1, sizeof *r);
  if (r && pthread_mutex_init(&r->mu, NULL) != 0) {
    free(r);
    r = NULL;
  }
  return r;
}

static void rl_clear(ratelimit *r)
{
  for (size_t b = 0; b < RL_BUCKETS; b++) {
    rl_entry *e = r->buckets[b];
    while (e) {
      rl_entry *next = e->next;
      free(e);
      e = next;
    }
    r->buckets[b] = NULL;
  }
  r->count = 0;
}

void ratelimit_free(ratelimit *r)
{
  if (!r)
    return;
  rl_clear(r);
  pthread_mutex_destroy(&r->mu);
  free(r);
}

static size_t rl_hash(const char *s)
{
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return (size_t)(h % RL_BUCKETS);
}

/* The account's entry, created with a full bucket; NULL when out of
 * memory. r->mu held. */
static rl_entry *rl_entry_of(ratelimit *r, const char *account)
{
  size_t b = rl_hash(account);
  for (rl_entry *e = r->buckets[b]; e; e = e->next)
    if (strcmp(e->account, account) == 0)
      return e;
  if (r->count >= RATELIMIT_MAX_ACCOUNTS)
    rl_clear(r); /* forgetting only ever refills buckets */
  rl_entry *e = calloc(1, sizeof *e);
  if (!e)
    return NULL;
  strncpy(e->account, account, sizeof e->account - 1);
  e->next = r->buckets[b];
  r->buckets[b] = e;
  r->count++;
  return e;
}

static int64_t rl_ceil_s(int64_t ms)
{
  return ms <= 0 ? 0 : (ms + 999) / 1000;
}

void ratelimit_take(ratelimit *r, const char *account, int64_t per_minute,
                    int64_t now_ms, ratelimit_verdict *v)
{
  memset(v, 0, sizeof *v);
  v->allowed = 1;
  v->limit = per_minute;
  v->reset_s = rl_ceil_s(now_ms);
  if (per_minute <= 0) { /* PLANS_UNLIMITED */
    v->remaining = 0;
    return;
  }
  /* Interval between requests, and the bucket's depth, in ms. */
  int64_t step = RL_WINDOW_MS / per_minute;
  if (step < 1)
    step = 1;
  int64_t depth = step * per_minute;
  pthread_mutex_lock(&r->mu);
  rl_entry *e = rl_entry_of(r, account);
  int64_t tat = e && e->tat_ms > now_ms ? e->tat_ms : now_ms;
  int64_t next = tat + step;
  if (next - now_ms > depth) {
    v->allowed = 0;
    v->retry_after_s = rl_ceil_s(next - depth - now_ms);
    if (v->retry_after_s < 1)
      v->retry_after_s = 1;
  } else {
    tat = next;
    if (e)
      e->tat_ms = tat;
  }
  pthread_mutex_unlock(&r->mu);
  v->remaining = (depth - (tat - now_ms)) / step;
  v->reset_s = rl_ceil_s(tat);
}
