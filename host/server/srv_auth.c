/* Bearer keys with a short-lived cache (see srv_auth.h). */
#include "server/srv_auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUTH_BUCKETS 4096

typedef struct auth_entry {
  struct auth_entry *next;
  char hash[STORE_HASH_MAX];
  srv_caller caller;
  int64_t expires_ms;
  int64_t touched_ms;
} auth_entry;

struct srv_auth {
  store *st;
  pthread_mutex_t mu;
  auth_entry *buckets[AUTH_BUCKETS];
  size_t count;
};

srv_auth *srv_auth_new(store *st)
{
  srv_auth *a = calloc(1, sizeof *a);
  if (a && pthread_mutex_init(&a->mu, NULL) != 0) {
    free(a);
    return NULL;
  }
  if (a)
    a->st = st;
  return a;
}

static void auth_clear(srv_auth *a)
{
  for (size_t b = 0; b < AUTH_BUCKETS; b++) {
    auth_entry *e = a->buckets[b];
    while (e) {
      auth_entry *next = e->next;
      free(e);
      e = next;
    }
    a->buckets[b] = NULL;
  }
  a->count = 0;
}

void srv_auth_free(srv_auth *a)
{
  if (!a)
    return;
  auth_clear(a);
  pthread_mutex_destroy(&a->mu);
  free(a);
}

static size_t auth_bucket(const char *hash)
{
  size_t h = 0;
  for (int i = 0; i < 12 && hash[i]; i++)
    h = h * 16 + (size_t)(hash[i] % 16);
  return h % AUTH_BUCKETS;
}

int srv_auth_limits(store *st, const char *account, const char *plan,
                    plans_limits *out, srv_error *e)
{
  store_account acc;
  char err[256];
  int rc = store_account_get(st, account, &acc, err, sizeof err);
  if (rc != STORE_OK)
    return srv_fail(e, 500, "reading account %s: %s", account,
                    rc == STORE_NOTFOUND ? "no such account" : err);
  if (acc.has_limits) {
    *out = acc.limits;
    return 0;
  }
  const plans_plan *p = plans_find(plan, err, sizeof err);
  if (!p)
    return srv_fail(e, 500, "account %s: %s", account, err);
  *out = p->limits;
  return 0;
}

/* The cached caller for hash, touching the key when due; 1 if found. */
static int auth_lookup(srv_auth *a, const char *hash, int64_t now,
                       srv_caller *out, int *touch)
{
  int found = 0;
  pthread_mutex_lock(&a->mu);
  for (auth_entry *e = a->buckets[auth_bucket(hash)]; e; e = e->next) {
    if (strcmp(e->hash, hash) != 0 || e->expires_ms <= now)
      continue;
    *out = e->caller;
    *touch = now - e->touched_ms >= SRV_AUTH_TOUCH_MS;
    if (*touch)
      e->touched_ms = now;
    found = 1;
    break;
  }
  pthread_mutex_unlock(&a->mu);
  return found;
}

static void auth_remember(srv_auth *a, const char *hash,
                          const srv_caller *c, int64_t now)
{
  pthread_mutex_lock(&a->mu);
  size_t b = auth_bucket(hash);
  auth_entry **pp = &a->buckets[b];
  while (*pp && strcmp((*pp)->hash, hash) != 0)
    pp = &(*pp)->next;
  auth_entry *e = *pp;
  if (!e) {
    if (a->count >= SRV_AUTH_MAX_KEYS) {
      auth_clear(a);
      b = auth_bucket(hash);
    }
    e = calloc(1, sizeof *e);
    if (e) {
      snprintf(e->hash, sizeof e->hash, "%s", hash);
      e->next = a->buckets[b];
      a->buckets[b] = e;
      a->count++;
    }
  }
  if (e) {
    e->caller = *c;
    e->expires_ms = now + SRV_AUTH_TTL_MS;
    e->touched_ms = now;
  }
  pthread_mutex_unlock(&a->mu);
}

int srv_auth_verify(srv_auth *a, const char *secret, srv_caller *out,
                    srv_error *e)
{
  if (!keys_well_formed(secret))
    return srv_fail(e, 401, "unknown or revoked API key");
  char hash[STORE_HASH_MAX], err[256];
  keys_hash(secret, hash);
  int64_t now = store_now_ms();
  int touch = 0;
  if (auth_lookup(a, hash, now, out, &touch)) {
    if (touch && store_key_touch(a->st, out->who.key_id, now, err,
                                 sizeof err) != STORE_OK)
      return srv_fail(e, 500, "recording the key's use: %s", err);
    return 0;
  }
  int rc = keys_verify(a->st, secret, &out->who, err, sizeof err);
  if (rc == KEYS_UNKNOWN)
    return srv_fail(e, 401, "unknown or revoked API key");
  if (rc != KEYS_OK)
    return srv_fail(e, 500, "checking the API key: %s", err);
  if (srv_auth_limits(a->st, out->who.account, out->who.plan, &out->limits,
                      e) != 0)
    return -1;
  auth_remember(a, hash, out, now);
  return 0;
}
