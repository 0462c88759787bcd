/* Tests of SHA-256 (FIPS 180-4 / NIST example vectors), key generation,
 * scopes parsing and formatting, and key verification against a store. */
#include "server/keys.h"
#include "server/plans.h"
#include "util/sha256.h"
#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#define ERRLEN 512

static void check_sha(const char *msg, size_t len, const char *want)
{
  char hex[SHA256_HEX_LEN + 1];

  sha256_hex(msg, len, hex);
  CHECK(strcmp(hex, want) == 0);
  if (strcmp(hex, want) != 0)
    fprintf(stderr, "  sha256 of %zu bytes: %s\n", len, hex);
}

static void test_sha256_vectors(void)
{
  static char million[1000000];
  sha256_ctx c;
  uint8_t d[SHA256_DIGEST_LEN];

  check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb924"
                   "27ae41e4649b934ca495991b7852b855");
  check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223"
                      "b00361a396177a9cb410ff61f20015ad");
  check_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
            "248d6a61d20638b8e5c026930c3e6039"
            "a33ce45964ff2167f6ecedd419db06c1");
  check_sha("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
            "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 112,
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  memset(million, 'a', sizeof million);
  check_sha(million, sizeof million, "cdc76e5c9914fb9281a1c7e284d73e67"
                                     "f1809a48a497200e046d39ccc7112cd0");

  /* Streaming in odd pieces gives the same digest as one shot. */
  sha256_init(&c);
  for (size_t i = 0; i < sizeof million; i += 997)
    sha256_update(&c, million + i,
                  sizeof million - i < 997 ? sizeof million - i : 997);
  sha256_final(&c, d);
  CHECK_EQ_INT(d[0], 0xcd);
  CHECK_EQ_INT(d[31], 0xd0);
}

static void test_key_format(void)
{
  char a[KEYS_SECRET_LEN + 1], b[KEYS_SECRET_LEN + 1], err[ERRLEN];
  char id[STORE_ID_MAX], small[8];

  CHECK_EQ_INT(keys_generate(a, sizeof a, err, sizeof err), KEYS_OK);
  CHECK_EQ_INT(keys_generate(b, sizeof b, err, sizeof err), KEYS_OK);
  CHECK_EQ_INT(strlen(a), 44);
  CHECK(strncmp(a, "nrx_", 4) == 0);
  CHECK(keys_well_formed(a));
  CHECK(strcmp(a, b) != 0);
  CHECK(!keys_well_formed("nrx_short"));
  CHECK(!keys_well_formed("abc_0123456789012345678901234567890123456789"));
  CHECK(!keys_well_formed("nrx_012345678901234567890123456789012345678!"));
  CHECK_EQ_INT(keys_generate(small, sizeof small, err, sizeof err),
               KEYS_ERROR);
  CHECK_EQ_INT(keys_new_id(id, sizeof id, err, sizeof err), KEYS_OK);
  CHECK_EQ_INT(strlen(id), 20);
  CHECK(strncmp(id, "key_", 4) == 0);
}

static void test_scopes(void)
{
  char err[ERRLEN], out[STORE_SCOPES_MAX];
  unsigned s;

  CHECK_EQ_INT(keys_parse_scopes("jobs:write,jobs:read,usage:read,admin", &s,
                                 err, sizeof err), KEYS_OK);
  CHECK_EQ_INT(s, KEYS_SCOPE_JOBS_WRITE | KEYS_SCOPE_JOBS_READ |
                  KEYS_SCOPE_USAGE_READ | KEYS_SCOPE_ADMIN);
  CHECK_EQ_INT(keys_parse_scopes("admin,jobs:read", &s, err, sizeof err),
               KEYS_OK);
  keys_format_scopes(s, out, sizeof out);
  CHECK(strcmp(out, "jobs:read,admin") == 0);
  CHECK_EQ_INT(keys_parse_scopes("jobs:read,jobs:delete", &s, err,
                                 sizeof err), KEYS_ERROR);
  CHECK_CONTAINS(err, "unknown scope 'jobs:delete'");
  CHECK_EQ_INT(keys_parse_scopes("", &s, err, sizeof err), KEYS_ERROR);
  CHECK_CONTAINS(err, "unknown scope ''");
  CHECK_EQ_INT(keys_parse_scopes("jobs:read,", &s, err, sizeof err),
               KEYS_ERROR);
}

static void test_plans(void)
{
  char err[ERRLEN];
  const plans_plan *p = plans_find("pro", err, sizeof err);

  CHECK(p != NULL);
  CHECK_EQ_INT(p->limits.jobs_per_month, 2000);
  CHECK_EQ_INT(p->limits.requests_per_minute, 60);
  CHECK_EQ_INT(p->limits.concurrent_jobs, 5);
  p = plans_find("starter", err, sizeof err);
  CHECK(p && p->limits.jobs_per_month == 20 &&
        p->limits.requests_per_minute == 10 && p->limits.concurrent_jobs == 1);
  p = plans_find("business", err, sizeof err);
  CHECK(p && p->limits.jobs_per_month == PLANS_UNLIMITED &&
        p->limits.requests_per_minute == 300 &&
        p->limits.concurrent_jobs == 20);
  p = plans_find("enterprise", err, sizeof err);
  CHECK(p && p->per_account);
  CHECK(plans_find("gold", err, sizeof err) == NULL);
  CHECK_CONTAINS(err, "unknown plan 'gold'");
  CHECK_EQ_INT(plans_count(), 4);
}

static store *open_temp(const char *name)
{
  char path[1024], err[ERRLEN];
  const char *tmp = getenv("NEROX_TEST_TMP");
  store *s;

  snprintf(path, sizeof path, "%s", tmp && *tmp ? tmp : "/tmp/nerox-tests");
  mkdir(path, 0755);
  snprintf(path, sizeof path, "%s/%s",
           tmp && *tmp ? tmp : "/tmp/nerox-tests", name);
  unlink(path);
  s = store_open_sqlite(path, err, sizeof err);
  if (!s)
    fprintf(stderr, "open %s: %s\n", path, err);
  return s;
}

static void test_create_verify(void)
{
  char secret[KEYS_SECRET_LEN + 1], other[KEYS_SECRET_LEN + 1];
  char err[ERRLEN];
  store *s = open_temp("test_keys.db");
  store_key k, k2;
  keys_identity who;

  CHECK(s != NULL);
  if (!s)
    return;
  CHECK_EQ_INT(keys_create(s, "acme", "pro", "jobs:read,jobs:write", "ci",
                           &k, secret, sizeof secret, err, sizeof err),
               KEYS_OK);
  CHECK(keys_well_formed(secret));
  CHECK(strstr(k.hash, secret) == NULL && strlen(k.hash) == 64);
  CHECK_EQ_INT(keys_verify(s, secret, &who, err, sizeof err), KEYS_OK);
  CHECK(strcmp(who.account, "acme") == 0 && strcmp(who.plan, "pro") == 0);
  CHECK(strcmp(who.key_id, k.id) == 0);
  CHECK_EQ_INT(who.scopes, KEYS_SCOPE_JOBS_READ | KEYS_SCOPE_JOBS_WRITE);

  /* A second key shares the account; a different plan is refused. */
  CHECK_EQ_INT(keys_create(s, "acme", "pro", "admin", NULL, &k2, other,
                           sizeof other, err, sizeof err), KEYS_OK);
  CHECK_EQ_INT(keys_create(s, "acme", "starter", "admin", NULL, &k2, other,
                           sizeof other, err, sizeof err), KEYS_ERROR);
  CHECK_CONTAINS(err, "is on plan 'pro', not 'starter'");
  CHECK_EQ_INT(keys_create(s, "bad name", "pro", "admin", NULL, &k2, other,
                           sizeof other, err, sizeof err), KEYS_ERROR);
  CHECK_CONTAINS(err, "bad account name");
  CHECK_EQ_INT(keys_create(s, "acme", "gold", "admin", NULL, &k2, other,
                           sizeof other, err, sizeof err), KEYS_ERROR);
  CHECK_CONTAINS(err, "unknown plan 'gold'");

  /* Unknown, malformed and revoked keys do not verify. */
  other[5] = other[5] == 'a' ? 'b' : 'a';
  CHECK_EQ_INT(keys_verify(s, other, &who, err, sizeof err), KEYS_UNKNOWN);
  CHECK_EQ_INT(keys_verify(s, "nope", &who, err, sizeof err), KEYS_UNKNOWN);
  CHECK_EQ_INT(store_key_revoke(s, k.id, store_now_ms(), err, sizeof err),
               STORE_OK);
  CHECK_EQ_INT(keys_verify(s, secret, &who, err, sizeof err), KEYS_UNKNOWN);
  CHECK_CONTAINS(err, "unknown or revoked");
  store_close(s);
}

int main(void)
{
  test_sha256_vectors();
  test_key_format();
  test_scopes();
  test_plans();
  test_create_verify();
  return test_report("test_keys");
}
