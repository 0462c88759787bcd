/* `nerox keys create|list|revoke`: API keys and accounts in the store.
 * Bad flags and values exit 2 with a message naming the flag; store errors
 * exit 1 with the store's message. A new key is printed once, alone on the
 * last line of stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/keys_cmd.h"
#include "server/keys.h"
#include "server/plans.h"
#include "server/store.h"

#define CLI_KEYS_DEFAULT_DB "nerox.db"
#define CLI_KEYS_ERRLEN 512

typedef struct cli_keys_opts {
  const char *account, *plan, *scopes, *label, *db, *id;
} cli_keys_opts;

static void cli_keys_usage(FILE *out)
{
  fprintf(out,
          "usage: nerox keys create --account NAME --plan PLAN "
          "--scopes LIST [--name LABEL] [--db PATH]\n"
          "       nerox keys list [--db PATH]\n"
          "       nerox keys revoke ID [--db PATH]\n"
          "plans: starter, pro, business, enterprise; scopes: jobs:write,"
          "jobs:read,usage:read,admin\n"
          "default database: ./" CLI_KEYS_DEFAULT_DB "\n");
}

static int cli_keys_bad(const char *sub, const char *msg, const char *arg)
{
  fprintf(stderr, "nerox: keys %s: %s%s%s\n", sub, msg, arg ? " " : "",
          arg ? arg : "");
  return 2;
}

/* The flag's value slot in o, or NULL when sub does not take it. */
static const char **cli_keys_slot(cli_keys_opts *o, const char *sub,
                                  const char *flag)
{
  int create = strcmp(sub, "create") == 0;

  if (strcmp(flag, "--db") == 0)
    return &o->db;
  if (!create)
    return NULL;
  if (strcmp(flag, "--account") == 0)
    return &o->account;
  if (strcmp(flag, "--plan") == 0)
    return &o->plan;
  if (strcmp(flag, "--scopes") == 0)
    return &o->scopes;
  if (strcmp(flag, "--name") == 0)
    return &o->label;
  return NULL;
}

/* Parses flags and, for revoke, the one positional ID. 0 or exit 2. */
static int cli_keys_parse(const char *sub, int argc, char **argv,
                          cli_keys_opts *o)
{
  memset(o, 0, sizeof *o);
  o->db = CLI_KEYS_DEFAULT_DB;
  for (int i = 0; i < argc; i++) {
    const char **slot;
    if (argv[i][0] != '-' && strcmp(sub, "revoke") == 0 && !o->id) {
      o->id = argv[i];
      continue;
    }
    slot = cli_keys_slot(o, sub, argv[i]);
    if (!slot)
      return cli_keys_bad(sub, argv[i][0] == '-' ? "unknown flag"
                                                 : "unexpected argument",
                          argv[i]);
    if (i + 1 >= argc || argv[i + 1][0] == '\0')
      return cli_keys_bad(sub, argv[i], "needs a value");
    *slot = argv[++i];
  }
  return 0;
}

static const char *cli_keys_time(int64_t ms, char *buf, size_t cap)
{
  time_t t = (time_t)(ms / 1000);
  struct tm tm;

  if (ms == 0 || !gmtime_r(&t, &tm))
    snprintf(buf, cap, "-");
  else
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

static store *cli_keys_open(const char *db)
{
  char err[CLI_KEYS_ERRLEN];
  store *s = store_open_sqlite(db, err, sizeof err);

  if (!s)
    fprintf(stderr, "nerox: keys: %s\n", err);
  return s;
}

/* Checks create's values before touching the store; 0 or exit 2. */
static int cli_keys_check_create(const cli_keys_opts *o)
{
  char err[CLI_KEYS_ERRLEN], msg[CLI_KEYS_ERRLEN + 16];
  unsigned bits;

  if (!o->account)
    return cli_keys_bad("create", "--account is required", NULL);
  if (!o->plan)
    return cli_keys_bad("create", "--plan is required", NULL);
  if (!o->scopes)
    return cli_keys_bad("create", "--scopes is required", NULL);
  if (!keys_valid_account(o->account))
    return cli_keys_bad("create", "--account: bad account name (1 to 64 "
                        "of A-Z a-z 0-9 . _ -):", o->account);
  if (!plans_find(o->plan, err, sizeof err)) {
    snprintf(msg, sizeof msg, "--plan: %s", err);
    return cli_keys_bad("create", msg, NULL);
  }
  if (keys_parse_scopes(o->scopes, &bits, err, sizeof err) != KEYS_OK) {
    snprintf(msg, sizeof msg, "--scopes: %s", err);
    return cli_keys_bad("create", msg, NULL);
  }
  if (o->label && strlen(o->label) >= STORE_LABEL_MAX)
    return cli_keys_bad("create", "--name: label too long", NULL);
  return 0;
}

static int cli_keys_create(const cli_keys_opts *o)
{
  char err[CLI_KEYS_ERRLEN], secret[KEYS_SECRET_LEN + 1], when[32];
  store_key k;
  store *s;
  int rc;

  if ((rc = cli_keys_check_create(o)) != 0)
    return rc;
  if (!(s = cli_keys_open(o->db)))
    return 1;
  rc = keys_create(s, o->account, o->plan, o->scopes, o->label, &k, secret,
                   sizeof secret, err, sizeof err);
  store_close(s);
  if (rc != KEYS_OK) {
    fprintf(stderr, "nerox: keys create: %s\n", err);
    return 1;
  }
  printf("key id:  %s\naccount: %s (plan %s)\nlabel:   %s\n"
         "scopes:  %s\ncreated: %s\n", k.id, k.account, k.plan,
         k.label[0] ? k.label : "-", k.scopes,
         cli_keys_time(k.created_ms, when, sizeof when));
  printf("The key below is shown once; it is stored only as a hash.\n");
  printf("%s\n", secret);
  return 0;
}

static int cli_keys_list(const cli_keys_opts *o)
{
  char err[CLI_KEYS_ERRLEN], created[32], revoked[32];
  store_key *keys = NULL;
  size_t n = 0;
  store *s = cli_keys_open(o->db);
  int rc;

  if (!s)
    return 1;
  rc = store_key_list(s, &keys, &n, err, sizeof err);
  store_close(s);
  if (rc != STORE_OK) {
    fprintf(stderr, "nerox: keys list: %s\n", err);
    return 1;
  }
  printf("%-20s  %-16s  %-10s  %-16s  %-36s  %-20s  %s\n", "ID", "ACCOUNT",
         "PLAN", "LABEL", "SCOPES", "CREATED", "REVOKED");
  for (size_t i = 0; i < n; i++)
    printf("%-20s  %-16s  %-10s  %-16s  %-36s  %-20s  %s\n", keys[i].id,
           keys[i].account, keys[i].plan,
           keys[i].label[0] ? keys[i].label : "-", keys[i].scopes,
           cli_keys_time(keys[i].created_ms, created, sizeof created),
           cli_keys_time(keys[i].revoked_ms, revoked, sizeof revoked));
  free(keys);
  return 0;
}

static int cli_keys_revoke(const cli_keys_opts *o)
{
  char err[CLI_KEYS_ERRLEN];
  store *s;
  int rc;

  if (!o->id)
    return cli_keys_bad("revoke", "missing key ID", NULL);
  if (!(s = cli_keys_open(o->db)))
    return 1;
  rc = store_key_revoke(s, o->id, store_now_ms(), err, sizeof err);
  store_close(s);
  if (rc != STORE_OK) {
    fprintf(stderr, "nerox: keys revoke: %s\n", err);
    return 1;
  }
  printf("revoked %s\n", o->id);
  return 0;
}

int keys_cmd_main(int argc, char **argv)
{
  cli_keys_opts o;
  const char *sub = argc > 0 ? argv[0] : "";
  int rc;

  if (strcmp(sub, "help") == 0 || strcmp(sub, "--help") == 0) {
    cli_keys_usage(stdout);
    return 0;
  }
  if (strcmp(sub, "create") && strcmp(sub, "list") && strcmp(sub, "revoke")) {
    fprintf(stderr, "nerox: keys: unknown subcommand '%s'\n", sub);
    cli_keys_usage(stderr);
    return 2;
  }
  if ((rc = cli_keys_parse(sub, argc - 1, argv + 1, &o)) != 0)
    return rc;
  if (strcmp(sub, "create") == 0)
    return cli_keys_create(&o);
  return strcmp(sub, "list") == 0 ? cli_keys_list(&o) : cli_keys_revoke(&o);
}
