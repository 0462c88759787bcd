/* API keys: generation, hashing, scopes and verification. A key is "nrx_"
 * and 40 base62 characters from the kernel's random source; it is shown
 * once and only its SHA-256 (hex) is stored. Keys belong to accounts, so
 * several keys share one plan's limits and usage. */
#ifndef NEROX_KEYS_H
#define NEROX_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "server/store.h"

#define KEYS_PREFIX "nrx_"
#define KEYS_BODY_LEN 40
#define KEYS_SECRET_LEN (sizeof KEYS_PREFIX - 1 + KEYS_BODY_LEN)
#define KEYS_ID_HEX 16 /* key ids: "key_" and 16 hex characters */

#define KEYS_OK 0
#define KEYS_ERROR (-1)
#define KEYS_UNKNOWN 1 /* verify: no such key, or revoked */

/* Scopes, as bits. */
enum {
  KEYS_SCOPE_JOBS_WRITE = 1u << 0,
  KEYS_SCOPE_JOBS_READ = 1u << 1,
  KEYS_SCOPE_USAGE_READ = 1u << 2,
  KEYS_SCOPE_ADMIN = 1u << 3,
};

/* Who a verified key speaks for. */
typedef struct keys_identity {
  char key_id[STORE_ID_MAX];
  char account[STORE_NAME_MAX];
  char plan[PLANS_NAME_MAX];
  unsigned scopes;
} keys_identity;

/* A new key from the kernel's random source; out gets KEYS_SECRET_LEN
 * characters and a NUL. */
int keys_generate(char *out, size_t cap, char *err, size_t errlen);

/* A new key id, "key_" and KEYS_ID_HEX random hex characters. */
int keys_new_id(char *out, size_t cap, char *err, size_t errlen);

/* The stored form of a key: its SHA-256 as hex. */
void keys_hash(const char *secret, char out[STORE_HASH_MAX]);

/* 1 when s has the form of a key (prefix, length, alphabet). */
int keys_well_formed(const char *s);

/* Parses "jobs:write,jobs:read,usage:read,admin" (any subset, any order)
 * into bits; an empty list or an unknown scope is an error naming it. */
int keys_parse_scopes(const char *list, unsigned *scopes, char *err,
                      size_t errlen);

/* The canonical comma-separated list of scopes. */
void keys_format_scopes(unsigned scopes, char *out, size_t cap);

/* 1 when an account name is 1 to 64 of [A-Za-z0-9._-]. */
int keys_valid_account(const char *name);

/* Creates a key for account (created on the given plan when new; an
 * existing account must be on that plan). Fills *key (hash included) and
 * secret, the only clear copy. */
int keys_create(store *s, const char *account, const char *plan,
                const char *scopes, const char *label, store_key *key,
                char *secret, size_t secret_cap, char *err, size_t errlen);

/* Looks a presented key up: KEYS_OK with *who filled (and its last use
 * recorded), KEYS_UNKNOWN for an unknown or revoked key, or KEYS_ERROR. */
int keys_verify(store *s, const char *secret, keys_identity *who, char *err,
                size_t errlen);

#endif
