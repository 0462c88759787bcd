/* API keys: random secrets, their hashes, scopes, creation and lookup. */
#include "server/keys.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "util/sha256.h"

#define KEYS_LABEL_DEFAULT ""

static const char keys_base62[] =
  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static const struct {
  const char *name;
  unsigned bit;
} keys_scope_names[] = {
  { "jobs:write", KEYS_SCOPE_JOBS_WRITE },
  { "jobs:read", KEYS_SCOPE_JOBS_READ },
  { "usage:read", KEYS_SCOPE_USAGE_READ },
  { "admin", KEYS_SCOPE_ADMIN },
};

#define KEYS_NSCOPES (sizeof keys_scope_names / sizeof keys_scope_names[0])

/* Fills buf with random bytes from getrandom(2). */
static int keys_random(unsigned char *buf, size_t len, char *err,
                       size_t errlen)
{
  size_t got = 0;

  while (got < len) {
    ssize_t n = getrandom(buf + got, len - got, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      snprintf(err, errlen, "reading random bytes: %s", strerror(errno));
      return KEYS_ERROR;
    }
    got += (size_t)n;
  }
  return KEYS_OK;
}

/* Maps random bytes to base62 without bias: bytes >= 248 are dropped. */
int keys_generate(char *out, size_t cap, char *err, size_t errlen)
{
  size_t pre = sizeof KEYS_PREFIX - 1, n = 0;
  unsigned char bytes[64];

  if (cap < KEYS_SECRET_LEN + 1) {
    snprintf(err, errlen, "key buffer too small");
    return KEYS_ERROR;
  }
  memcpy(out, KEYS_PREFIX, pre);
  while (n < KEYS_BODY_LEN) {
    if (keys_random(bytes, sizeof bytes, err, errlen) != KEYS_OK)
      return KEYS_ERROR;
    for (size_t i = 0; i < sizeof bytes && n < KEYS_BODY_LEN; i++)
      if (bytes[i] < 248)
        out[pre + n++] = keys_base62[bytes[i] % 62];
  }
  out[pre + n] = '\0';
  return KEYS_OK;
}

int keys_new_id(char *out, size_t cap, char *err, size_t errlen)
{
  unsigned char bytes[KEYS_ID_HEX / 2];
  size_t len = 4;

  if (cap < 4 + KEYS_ID_HEX + 1) {
    snprintf(err, errlen, "key id buffer too small");
    return KEYS_ERROR;
  }
  if (keys_random(bytes, sizeof bytes, err, errlen) != KEYS_OK)
    return KEYS_ERROR;
  memcpy(out, "key_", 4);
  for (size_t i = 0; i < sizeof bytes; i++)
    len += (size_t)snprintf(out + len, cap - len, "%02x", bytes[i]);
  return KEYS_OK;
}

void keys_hash(const char *secret, char out[STORE_HASH_MAX])
{
  sha256_hex(secret, strlen(secret), out);
}

int keys_well_formed(const char *s)
{
  size_t pre = sizeof KEYS_PREFIX - 1;

  if (!s || strlen(s) != KEYS_SECRET_LEN || strncmp(s, KEYS_PREFIX, pre))
    return 0;
  return strspn(s + pre, keys_base62) == KEYS_BODY_LEN;
}

static unsigned keys_scope_bit(const char *name, size_t len)
{
  for (size_t i = 0; i < KEYS_NSCOPES; i++)
    if (strlen(keys_scope_names[i].name) == len &&
        strncmp(keys_scope_names[i].name, name, len) == 0)
      return keys_scope_names[i].bit;
  return 0;
}

int keys_parse_scopes(const char *list, unsigned *scopes, char *err,
                      size_t errlen)
{
  const char *p = list ? list : "";

  *scopes = 0;
  for (;;) {
    size_t len = strcspn(p, ",");
    unsigned bit = keys_scope_bit(p, len);
    if (!bit) {
      snprintf(err, errlen, "unknown scope '%.*s' (known: jobs:write, "
               "jobs:read, usage:read, admin)", (int)len, p);
      return KEYS_ERROR;
    }
    *scopes |= bit;
    if (p[len] == '\0')
      return KEYS_OK;
    p += len + 1;
  }
}

void keys_format_scopes(unsigned scopes, char *out, size_t cap)
{
  size_t len = 0;

  out[0] = '\0';
  for (size_t i = 0; i < KEYS_NSCOPES && len < cap; i++)
    if (scopes & keys_scope_names[i].bit)
      len += (size_t)snprintf(out + len, cap - len, "%s%s",
                              len ? "," : "", keys_scope_names[i].name);
}

int keys_valid_account(const char *name)
{
  size_t len = name ? strlen(name) : 0;

  return len > 0 && len < STORE_NAME_MAX &&
         strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                      "0123456789._-") == len;
}

/* Finds the account, or creates it on plan; an existing one must be on
 * plan already. */
static int keys_ensure_account(store *s, const char *account,
                               const char *plan, char *err, size_t errlen)
{
  store_account a;
  int rc = store_account_get(s, account, &a, err, errlen);

  if (rc == STORE_NOTFOUND) {
    memset(&a, 0, sizeof a);
    snprintf(a.name, sizeof a.name, "%s", account);
    snprintf(a.plan, sizeof a.plan, "%s", plan);
    a.created_ms = store_now_ms();
    rc = store_account_create(s, &a, err, errlen);
    if (rc == STORE_CONFLICT) /* created meanwhile: check its plan */
      rc = store_account_get(s, account, &a, err, errlen);
  }
  if (rc != STORE_OK)
    return KEYS_ERROR;
  if (strcmp(a.plan, plan) != 0) {
    snprintf(err, errlen, "account '%s' is on plan '%s', not '%s'",
             account, a.plan, plan);
    return KEYS_ERROR;
  }
  return KEYS_OK;
}

static int keys_check_create(const char *account, const char *plan,
                             const char *scopes, const char *label,
                             unsigned *bits, char *err, size_t errlen)
{
  if (!keys_valid_account(account)) {
    snprintf(err, errlen, "bad account name '%s' (1 to %d of A-Z a-z 0-9 "
             ". _ -)", account ? account : "", STORE_NAME_MAX - 1);
    return KEYS_ERROR;
  }
  if (!plans_find(plan, err, errlen) ||
      keys_parse_scopes(scopes, bits, err, errlen) != KEYS_OK)
    return KEYS_ERROR;
  if (label && strlen(label) >= STORE_LABEL_MAX) {
    snprintf(err, errlen, "label is longer than %d bytes",
             STORE_LABEL_MAX - 1);
    return KEYS_ERROR;
  }
  return KEYS_OK;
}

int keys_create(store *s, const char *account, const char *plan,
                const char *scopes, const char *label, store_key *key,
                char *secret, size_t secret_cap, char *err, size_t errlen)
{
  unsigned bits;

  if (keys_check_create(account, plan, scopes, label, &bits, err, errlen) ||
      keys_ensure_account(s, account, plan, err, errlen) ||
      keys_generate(secret, secret_cap, err, errlen))
    return KEYS_ERROR;
  memset(key, 0, sizeof *key);
  if (keys_new_id(key->id, sizeof key->id, err, errlen))
    return KEYS_ERROR;
  snprintf(key->account, sizeof key->account, "%s", account);
  snprintf(key->plan, sizeof key->plan, "%s", plan);
  snprintf(key->label, sizeof key->label, "%s",
           label ? label : KEYS_LABEL_DEFAULT);
  keys_format_scopes(bits, key->scopes, sizeof key->scopes);
  keys_hash(secret, key->hash);
  key->created_ms = store_now_ms();
  if (store_key_create(s, key, err, errlen) != STORE_OK)
    return KEYS_ERROR;
  return KEYS_OK;
}

int keys_verify(store *s, const char *secret, keys_identity *who, char *err,
                size_t errlen)
{
  char hash[STORE_HASH_MAX];
  store_key k;
  int rc;

  memset(who, 0, sizeof *who);
  if (!keys_well_formed(secret)) {
    snprintf(err, errlen, "unknown or revoked key");
    return KEYS_UNKNOWN;
  }
  keys_hash(secret, hash);
  rc = store_key_find_hash(s, hash, &k, err, errlen);
  if (rc == STORE_NOTFOUND) {
    snprintf(err, errlen, "unknown or revoked key");
    return KEYS_UNKNOWN;
  }
  if (rc != STORE_OK ||
      keys_parse_scopes(k.scopes, &who->scopes, err, errlen) != KEYS_OK ||
      store_key_touch(s, k.id, store_now_ms(), err, errlen) != STORE_OK)
    return KEYS_ERROR;
  snprintf(who->key_id, sizeof who->key_id, "%s", k.id);
  snprintf(who->account, sizeof who->account, "%s", k.account);
  snprintf(who->plan, sizeof who->plan, "%s", k.plan);
  return KEYS_OK;
}
