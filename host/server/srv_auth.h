/* Who is calling: bearer keys verified against the store, with each
 * key's account limits resolved (the account's own, else its plan's),
 * cached for SRV_AUTH_TTL_MS so that a read does not cost a database
 * lookup. A key's last use is recorded at most once per
 * SRV_AUTH_TOUCH_MS. Revoking a key or changing an account's limits takes
 * effect within SRV_AUTH_TTL_MS. */
#ifndef NEROX_SRV_AUTH_H
#define NEROX_SRV_AUTH_H

#include "server/keys.h"
#include "server/plans.h"
#include "server/srv_error.h"
#include "server/store.h"

#define SRV_AUTH_TTL_MS 5000
#define SRV_AUTH_TOUCH_MS 60000
/* Keys cached at once; the cache is emptied when it is full. */
#define SRV_AUTH_MAX_KEYS 16384

typedef struct srv_auth srv_auth;

/* A verified caller. */
typedef struct srv_caller {
  keys_identity who;
  plans_limits limits; /* what applies to the account now */
} srv_caller;

srv_auth *srv_auth_new(store *st);
void srv_auth_free(srv_auth *a);

/* Verifies secret: 0 with *out filled; -1 with 401 (unknown or revoked)
 * or 500 in e. */
int srv_auth_verify(srv_auth *a, const char *secret, srv_caller *out,
                    srv_error *e);

/* The limits that apply to account now (cached like keys); 0 or -1 with
 * e filled. */
int srv_auth_limits(store *st, const char *account, const char *plan,
                    plans_limits *out, srv_error *e);

#endif
