/* `nerox keys create|list|revoke|limits`: API keys and accounts in the
 * store, and an account's own limits (which replace its plan's numbers).
 * Bad flags and values exit 2 with a message naming the flag; store errors
 * exit 1 with the store's message. A new key is printed once, alone on the
 * last line of stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/keys_cmd.h"
#include "server/config.h"
#include "server/keys.h"
#include "server/plans.h"
#include "server/store.h"

#define CLI_KEYS_DEFAULT_DB "nerox.db"
#define CLI_KEYS_ERRLEN 512

typedef struct cli_keys_opts {
  const char *account, *plan, *scopes, *label, *db, *id, *limits;
  const char *config; /* a server's configuration file: its plans */
} cli_keys_opts;

/* --limits, parsed: the numbers given (mask) or, clear, "plan". */
typedef struct cli_keys_limits {
  int clear;
  unsigned mask;
  plans_limits given;
} cli_keys_limits;

static void cli_keys_usage(FILE *out)
{
  fprintf(out,
          "usage: nerox keys create --account NAME --plan PLAN "
          "--scopes LIST [--name LABEL] [--limits LIMITS] [--db PATH]\n"
          "       nerox keys list [--db PATH]\n"
          "       nerox keys revoke ID [--db PATH]\n"
          "       nerox keys limits --account NAME --limits LIMITS|plan "
          "[--db PATH]\n"
          "plans: starter, pro, business, enterprise; scopes: jobs:write,"
          "jobs:read,usage:read,admin\n"
          "limits: NAME=VALUE,... of jobs_per_month (or unlimited), "
          "requests_per_minute,\n"
          "  concurrent_jobs, included_gpu_seconds, overage_usd_per_gpu_hour;"
          "\n  numbers not named keep the account's own (or its plan's); "
          "\"plan\" drops\n  the account's own\n"
          "--config FILE: a server's configuration file, whose plan "
          "numbers (and db,\n  unless --db is given) then apply\n"
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
  int limits = strcmp(sub, "limits") == 0;

  if (strcmp(flag, "--db") == 0)
    return &o->db;
  if (strcmp(flag, "--config") == 0)
    return &o->config;
  if (!create && !limits)
    return NULL;
  if (strcmp(flag, "--account") == 0)
    return &o->account;
  if (strcmp(flag, "--limits") == 0)
    return &o->limits;
  if (!create)
    return NULL;
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

/* Parses --limits into *l; 0 or exit 2 naming the bad entry. */
static int cli_keys_parse_limits(const char *sub, const char *list,
                                 cli_keys_limits *l)
{
  char err[CLI_KEYS_ERRLEN], msg[CLI_KEYS_ERRLEN + 16];

  memset(l, 0, sizeof *l);
  if (!list)
    return 0;
  if (strcmp(list, "plan") == 0) {
    l->clear = 1;
    return 0;
  }
  if (plans_parse_limits(list, &l->given, &l->mask, err, sizeof err) != 0) {
    snprintf(msg, sizeof msg, "--limits: %s", err);
    return cli_keys_bad(sub, msg, NULL);
  }
  return 0;
}

/* Checks create's values before touching the store; 0 or exit 2. */
static int cli_keys_check_create(const cli_keys_opts *o, cli_keys_limits *l)
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
  return cli_keys_parse_limits("create", o->limits, l);
}

/* Sets the account's own limits from l: the numbers given over its
 * current ones (its own, or its plan's). When create and the account is
 * new, creates it on plan with those limits. plan, when given, must be
 * the account's. 0 or -1 with a message. */
static int cli_keys_set_limits(store *s, const char *account,
                               const char *plan, int create,
                               const cli_keys_limits *l, char *err,
                               size_t errlen)
{
  store_account a;
  const plans_plan *p;
  int rc = store_account_get(s, account, &a, err, errlen);

  if (rc == STORE_NOTFOUND && create) {
    memset(&a, 0, sizeof a);
    snprintf(a.name, sizeof a.name, "%s", account);
    snprintf(a.plan, sizeof a.plan, "%s", plan);
  } else if (rc != STORE_OK) {
    return -1;
  } else if (plan && strcmp(a.plan, plan) != 0) {
    snprintf(err, errlen, "account '%s' is on plan '%s', not '%s'",
             account, a.plan, plan);
    return -1;
  }
  if (l->clear)
    return store_account_set_limits(s, account, NULL, err, errlen) ==
           STORE_OK ? 0 : -1;
  if (!a.has_limits) {
    if (!(p = plans_find(a.plan, err, errlen)))
      return -1;
    a.limits = p->limits;
  }
  plans_merge(&a.limits, &l->given, l->mask);
  if (rc == STORE_NOTFOUND) {
    a.has_limits = 1;
    a.created_ms = store_now_ms();
    return store_account_create(s, &a, err, errlen) == STORE_OK ? 0 : -1;
  }
  return store_account_set_limits(s, account, &a.limits, err, errlen) ==
         STORE_OK ? 0 : -1;
}

/* Prints "limits:  ..." for the account: its own numbers, or its plan's. */
static void cli_keys_print_limits(store *s, const char *account)
{
  char err[CLI_KEYS_ERRLEN], buf[256];
  store_account a;
  const plans_plan *p;

  if (store_account_get(s, account, &a, err, sizeof err) != STORE_OK)
    return;
  if (a.has_limits)
    printf("limits:  %s (the account's own)\n",
           plans_format_limits(&a.limits, buf, sizeof buf));
  else if ((p = plans_find(a.plan, err, sizeof err)))
    printf("limits:  %s (plan %s)\n",
           plans_format_limits(&p->limits, buf, sizeof buf), a.plan);
}

static int cli_keys_create(const cli_keys_opts *o)
{
  char err[CLI_KEYS_ERRLEN], secret[KEYS_SECRET_LEN + 1], when[32];
  cli_keys_limits l;
  store_key k;
  store *s;
  int rc;

  if ((rc = cli_keys_check_create(o, &l)) != 0)
    return rc;
  if (!(s = cli_keys_open(o->db)))
    return 1;
  rc = KEYS_OK;
  if (o->limits && cli_keys_set_limits(s, o->account, o->plan, 1, &l, err,
                                       sizeof err) != 0)
    rc = KEYS_ERROR;
  if (rc == KEYS_OK)
    rc = keys_create(s, o->account, o->plan, o->scopes, o->label, &k,
                     secret, sizeof secret, err, sizeof err);
  if (rc != KEYS_OK) {
    store_close(s);
    fprintf(stderr, "nerox: keys create: %s\n", err);
    return 1;
  }
  printf("key id:  %s\naccount: %s (plan %s)\nlabel:   %s\n"
         "scopes:  %s\ncreated: %s\n", k.id, k.account, k.plan,
         k.label[0] ? k.label : "-", k.scopes,
         cli_keys_time(k.created_ms, when, sizeof when));
  cli_keys_print_limits(s, k.account);
  store_close(s);
  printf("The key below is shown once; it is stored only as a hash.\n");
  printf("%s\n", secret);
  return 0;
}

/* The accounts of the keys listed, each once, with the limits that apply
 * to it: its own, or its plan's (the built-in numbers; a server's
 * --config may override those). */
static void cli_keys_list_accounts(store *s, const store_key *keys,
                                   size_t n)
{
  char err[CLI_KEYS_ERRLEN], buf[256];
  store_account a;
  const plans_plan *p;

  printf("\n%-16s  %-10s  %-7s  %s\n", "ACCOUNT", "PLAN", "LIMITS",
         "NUMBERS");
  for (size_t i = 0; i < n; i++) {
    size_t j = 0;
    while (j < i && strcmp(keys[j].account, keys[i].account) != 0)
      j++;
    if (j < i || store_account_get(s, keys[i].account, &a, err,
                                   sizeof err) != STORE_OK)
      continue;
    p = plans_find(a.plan, err, sizeof err);
    if (!a.has_limits && !p)
      continue;
    printf("%-16s  %-10s  %-7s  %s\n", a.name, a.plan,
           a.has_limits ? "account" : "plan",
           plans_format_limits(a.has_limits ? &a.limits : &p->limits, buf,
                               sizeof buf));
  }
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
  if (rc != STORE_OK) {
    store_close(s);
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
  if (n > 0)
    cli_keys_list_accounts(s, keys, n);
  store_close(s);
  free(keys);
  return 0;
}

/* `keys limits --account NAME --limits LIST|plan`. */
static int cli_keys_limits_cmd(const cli_keys_opts *o)
{
  char err[CLI_KEYS_ERRLEN];
  cli_keys_limits l;
  store *s;
  int rc;

  if (!o->account)
    return cli_keys_bad("limits", "--account is required", NULL);
  if (!o->limits)
    return cli_keys_bad("limits", "--limits is required", NULL);
  if ((rc = cli_keys_parse_limits("limits", o->limits, &l)) != 0)
    return rc;
  if (!(s = cli_keys_open(o->db)))
    return 1;
  if (cli_keys_set_limits(s, o->account, NULL, 0, &l, err, sizeof err)) {
    store_close(s);
    fprintf(stderr, "nerox: keys limits: %s\n", err);
    return 1;
  }
  printf("account: %s\n", o->account);
  cli_keys_print_limits(s, o->account);
  store_close(s);
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

/* With --config, the file's plan overrides apply (as in the server) and
 * its db unless --db was given. 0 or exit 2; config_clear *file. */
static int cli_keys_config(const char *sub, int argc, char **argv,
                           cli_keys_opts *o, config *file)
{
  char err[1024];
  memset(file, 0, sizeof *file);
  if (!o->config)
    return 0;
  if (config_load_file(o->config, file, err, sizeof err) != 0 ||
      config_apply_plans(file, err, sizeof err) != 0) {
    config_clear(file);
    return cli_keys_bad(sub, "--config:", err);
  }
  int db_flag = 0;
  for (int i = 0; i < argc; i++)
    db_flag |= strcmp(argv[i], "--db") == 0;
  if (!db_flag && (file->set & CONFIG_SET_DB))
    o->db = file->db;
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
  if (strcmp(sub, "create") && strcmp(sub, "list") && strcmp(sub, "revoke") &&
      strcmp(sub, "limits")) {
    fprintf(stderr, "nerox: keys: unknown subcommand '%s'\n", sub);
    cli_keys_usage(stderr);
    return 2;
  }
  if ((rc = cli_keys_parse(sub, argc - 1, argv + 1, &o)) != 0)
    return rc;
  config file;
  if ((rc = cli_keys_config(sub, argc - 1, argv + 1, &o, &file)) != 0)
    return rc;
  if (strcmp(sub, "create") == 0)
    rc = cli_keys_create(&o);
  else if (strcmp(sub, "limits") == 0)
    rc = cli_keys_limits_cmd(&o);
  else
    rc = strcmp(sub, "list") == 0 ? cli_keys_list(&o) : cli_keys_revoke(&o);
  config_clear(&file);
  return rc;
}
