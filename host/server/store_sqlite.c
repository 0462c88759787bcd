/* The store on SQLite: one database file in WAL mode, one connection per
 * handle guarded by a mutex (so a handle is safe to share between threads;
 * each call holds the connection for one short statement), statements
 * prepared once at open, and every SQLite return turned into a message.
 * Migrations run at open, each in its own transaction. */
#include "server/store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQ_BUSY_TIMEOUT_MS 5000 /* wait this long for another writer */

/* ---- schema ------------------------------------------------------------ */

static const char *const sq_migrations[] = {
  /* 1: accounts, keys, jobs, events, usage */
  "CREATE TABLE accounts ("
  " name TEXT PRIMARY KEY, plan TEXT NOT NULL, created_ms INTEGER NOT NULL,"
  " jobs_per_month INTEGER, requests_per_minute INTEGER,"
  " concurrent_jobs INTEGER, included_gpu_seconds INTEGER,"
  " overage_usd_per_gpu_hour REAL);"
  "CREATE TABLE api_keys ("
  " id TEXT PRIMARY KEY, account TEXT NOT NULL REFERENCES accounts(name),"
  " label TEXT NOT NULL, scopes TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,"
  " created_ms INTEGER NOT NULL, revoked_ms INTEGER, last_used_ms INTEGER);"
  "CREATE TABLE jobs ("
  " id TEXT PRIMARY KEY, account TEXT NOT NULL REFERENCES accounts(name),"
  " problem_type TEXT NOT NULL, state TEXT NOT NULL, params TEXT,"
  " submitted_ms INTEGER NOT NULL, started_ms INTEGER, finished_ms INTEGER,"
  " best_energy REAL, result TEXT, error TEXT, idem_key TEXT,"
  " body_hash TEXT);"
  "CREATE UNIQUE INDEX jobs_idem ON jobs(account, idem_key)"
  " WHERE idem_key IS NOT NULL;"
  "CREATE INDEX jobs_by_account ON jobs(account, submitted_ms, id);"
  "CREATE TABLE job_events ("
  " job_id TEXT NOT NULL REFERENCES jobs(id), seq INTEGER NOT NULL,"
  " type TEXT NOT NULL, data TEXT NOT NULL, at_ms INTEGER NOT NULL,"
  " PRIMARY KEY (job_id, seq));"
  "CREATE TABLE usage_ledger ("
  " id INTEGER PRIMARY KEY, account TEXT NOT NULL REFERENCES accounts(name),"
  " job_id TEXT, kind TEXT NOT NULL CHECK (kind IN ('gpu', 'cpu')),"
  " seconds REAL NOT NULL CHECK (seconds >= 0), at_ms INTEGER NOT NULL);"
  "CREATE INDEX usage_by_account ON usage_ledger(account, kind, at_ms);",
  /* 2: a job's billed seconds and their kind; one ledger entry per job */
  "ALTER TABLE jobs ADD COLUMN usage_kind TEXT"
  " CHECK (usage_kind IN ('gpu', 'cpu'));"
  "ALTER TABLE jobs ADD COLUMN usage_s REAL;"
  "CREATE UNIQUE INDEX usage_by_job ON usage_ledger(job_id)"
  " WHERE job_id IS NOT NULL;",
};

#define SQ_SCHEMA_VERSION \
  ((int)(sizeof sq_migrations / sizeof sq_migrations[0]))

/* ---- statements ---------------------------------------------------------- */

#define SQ_KEY_COLS \
  "k.id, k.account, a.plan, k.label, k.scopes, k.hash, k.created_ms," \
  " k.revoked_ms, k.last_used_ms FROM api_keys k" \
  " JOIN accounts a ON a.name = k.account"
#define SQ_JOB_COLS \
  "id, account, problem_type, state, %s, submitted_ms, started_ms," \
  " finished_ms, best_energy, %s, error, idem_key, body_hash," \
  " usage_kind, usage_s FROM jobs"

enum {
  SQ_ACCOUNT_CREATE, SQ_ACCOUNT_GET, SQ_ACCOUNT_SET_PLAN,
  SQ_ACCOUNT_SET_LIMITS, SQ_KEY_CREATE, SQ_KEY_FIND, SQ_KEY_LIST,
  SQ_KEY_REVOKE, SQ_KEY_TOUCH, SQ_JOB_INSERT, SQ_JOB_UPDATE, SQ_JOB_GET,
  SQ_JOB_IDEM, SQ_JOB_LIST, SQ_JOB_COUNT, SQ_EVENT_APPEND, SQ_EVENT_LIST,
  SQ_USAGE_APPEND, SQ_USAGE_SUM, SQ_JOB_UNFINISHED, SQ_NSTMT
};

static const char *const sq_sql[SQ_NSTMT] = {
  [SQ_ACCOUNT_CREATE] =
    "INSERT INTO accounts (name, plan, created_ms, jobs_per_month,"
    " requests_per_minute, concurrent_jobs, included_gpu_seconds,"
    " overage_usd_per_gpu_hour) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  [SQ_ACCOUNT_GET] =
    "SELECT name, plan, created_ms, jobs_per_month, requests_per_minute,"
    " concurrent_jobs, included_gpu_seconds, overage_usd_per_gpu_hour"
    " FROM accounts WHERE name = ?",
  [SQ_ACCOUNT_SET_PLAN] = "UPDATE accounts SET plan = ? WHERE name = ?",
  [SQ_ACCOUNT_SET_LIMITS] =
    "UPDATE accounts SET jobs_per_month = ?, requests_per_minute = ?,"
    " concurrent_jobs = ?, included_gpu_seconds = ?,"
    " overage_usd_per_gpu_hour = ? WHERE name = ?",
  [SQ_KEY_CREATE] =
    "INSERT INTO api_keys (id, account, label, scopes, hash, created_ms)"
    " VALUES (?, ?, ?, ?, ?, ?)",
  [SQ_KEY_FIND] = "SELECT " SQ_KEY_COLS
                  " WHERE k.hash = ? AND k.revoked_ms IS NULL",
  [SQ_KEY_LIST] = "SELECT " SQ_KEY_COLS " ORDER BY k.created_ms, k.id",
  [SQ_KEY_REVOKE] = "UPDATE api_keys SET revoked_ms = ?"
                    " WHERE id = ? AND revoked_ms IS NULL",
  [SQ_KEY_TOUCH] = "UPDATE api_keys SET last_used_ms = ? WHERE id = ?",
  [SQ_JOB_INSERT] =
    "INSERT INTO jobs (id, account, problem_type, state, params,"
    " submitted_ms, started_ms, finished_ms, best_energy, result, error,"
    " idem_key, body_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  [SQ_JOB_UPDATE] =
    "UPDATE jobs SET state = ?, started_ms = ?, finished_ms = ?,"
    " best_energy = ?, result = ?, error = ?, usage_kind = ?, usage_s = ?"
    " WHERE id = ?",
  [SQ_JOB_GET] = NULL, /* built from SQ_JOB_COLS at open */
  [SQ_JOB_IDEM] = NULL,
  [SQ_JOB_LIST] = NULL,
  [SQ_JOB_COUNT] =
    "SELECT count(*) FROM jobs WHERE account = ?1"
    " AND (?2 IS NULL OR state = ?2) AND submitted_ms >= ?3"
    " AND submitted_ms < ?4",
  [SQ_EVENT_APPEND] =
    "INSERT INTO job_events (job_id, seq, type, data, at_ms)"
    " SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3, ?4 FROM job_events"
    " WHERE job_id = ?1 RETURNING seq",
  [SQ_EVENT_LIST] =
    "SELECT seq, type, data, at_ms FROM job_events WHERE job_id = ?"
    " AND seq > ? ORDER BY seq LIMIT ?",
  [SQ_USAGE_APPEND] =
    "INSERT INTO usage_ledger (account, job_id, kind, seconds, at_ms)"
    " VALUES (?, ?, ?, ?, ?)",
  [SQ_USAGE_SUM] =
    "SELECT COALESCE(SUM(seconds), 0) FROM usage_ledger WHERE account = ?"
    " AND kind = ? AND at_ms >= ? AND at_ms < ?",
  [SQ_JOB_UNFINISHED] = NULL,
};

/* The job queries differ only in their columns and WHERE clause. */
static const char *const sq_job_where[SQ_NSTMT] = {
  [SQ_JOB_GET] = " WHERE id = ?",
  [SQ_JOB_IDEM] = " WHERE account = ? AND idem_key = ?",
  [SQ_JOB_LIST] = " WHERE account = ?1 AND (?2 IS NULL OR state = ?2)"
                  " ORDER BY submitted_ms DESC, id DESC LIMIT ?3 OFFSET ?4",
  [SQ_JOB_UNFINISHED] = " WHERE state IN ('queued', 'running')"
                        " ORDER BY submitted_ms, id LIMIT ?1",
};

typedef struct sq_store {
  store base;
  sqlite3 *db;
  pthread_mutex_t mu;
  sqlite3_stmt *st[SQ_NSTMT];
} sq_store;

/* ---- errors, locking, binding ------------------------------------------- */

static int sq_fail(sq_store *q, const char *what, char *err, size_t errlen)
{
  snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(q->db));
  return STORE_ERROR;
}

static int sq_lock(sq_store *q, char *err, size_t errlen)
{
  if (pthread_mutex_lock(&q->mu) != 0) {
    snprintf(err, errlen, "store: cannot take the connection lock");
    return STORE_ERROR;
  }
  return STORE_OK;
}

static void sq_unlock(sq_store *q)
{
  pthread_mutex_unlock(&q->mu);
}

/* Binds parameters by a format: 't' text (NULL binds NULL), 'e' text
 * with "" as NULL, 'i' int64, 'z' int64 with 0 as NULL, 'd' double,
 * 'n' a NULL that consumes no argument. Returns an SQLite code. */
static int sq_bind(sqlite3_stmt *st, const char *fmt, ...)
{
  va_list ap;
  int rc = SQLITE_OK;

  va_start(ap, fmt);
  for (int i = 1; *fmt && rc == SQLITE_OK; fmt++, i++) {
    const char *s;
    int64_t v;
    switch (*fmt) {
    case 't':
    case 'e':
      s = va_arg(ap, const char *);
      if (!s || (*fmt == 'e' && !*s))
        rc = sqlite3_bind_null(st, i);
      else
        rc = sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
      break;
    case 'i':
    case 'z':
      v = va_arg(ap, int64_t);
      rc = *fmt == 'z' && v == 0 ? sqlite3_bind_null(st, i)
                                 : sqlite3_bind_int64(st, i, v);
      break;
    case 'd':
      rc = sqlite3_bind_double(st, i, va_arg(ap, double));
      break;
    default:
      rc = sqlite3_bind_null(st, i);
    }
  }
  va_end(ap);
  return rc;
}

static void sq_done(sqlite3_stmt *st)
{
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
}

/* Runs a bound statement that returns no rows. Unique-key violations give
 * STORE_CONFLICT; the statement is reset either way. */
static int sq_exec(sq_store *q, sqlite3_stmt *st, const char *what,
                   char *err, size_t errlen)
{
  int rc = sqlite3_step(st);
  int out = STORE_OK;

  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    snprintf(err, errlen, "%s: already exists", what);
    out = STORE_CONFLICT;
  } else if (rc != SQLITE_DONE) {
    out = sq_fail(q, what, err, errlen);
  }
  sq_done(st);
  return out;
}

/* Binds failed: reports and resets. */
static int sq_bind_failed(sq_store *q, sqlite3_stmt *st, const char *what,
                          char *err, size_t errlen)
{
  int out = sq_fail(q, what, err, errlen);

  sq_done(st);
  return out;
}

/* A write changed no row: NOTFOUND. */
static int sq_changed(sq_store *q, int rc, const char *what, const char *id,
                      char *err, size_t errlen)
{
  if (rc == STORE_OK && sqlite3_changes(q->db) == 0) {
    snprintf(err, errlen, "%s: no '%s'", what, id);
    return STORE_NOTFOUND;
  }
  return rc;
}

static int sq_too_long(const char *what, const char *s, size_t cap,
                       char *err, size_t errlen)
{
  if (s && strlen(s) >= cap) {
    snprintf(err, errlen, "%s is longer than %zu bytes", what, cap - 1);
    return 1;
  }
  return 0;
}

/* ---- column readers ------------------------------------------------------ */

static void sq_col_text(sqlite3_stmt *st, int i, char *buf, size_t cap)
{
  const unsigned char *s = sqlite3_column_text(st, i);

  snprintf(buf, cap, "%s", s ? (const char *)s : "");
}

/* A heap copy of a text column; NULL for SQL NULL. *oom set on failure. */
static char *sq_col_dup(sqlite3_stmt *st, int i, int *oom)
{
  const unsigned char *s = sqlite3_column_text(st, i);
  char *d;

  if (!s)
    return NULL;
  d = strdup((const char *)s);
  if (!d)
    *oom = 1;
  return d;
}

static int sq_col_null(sqlite3_stmt *st, int i)
{
  return sqlite3_column_type(st, i) == SQLITE_NULL;
}

/* -------------------------------------------------------------------------- */

static int sq_exec_sql(sq_store *q, const char *sql, const char *what,
                       char *err, size_t errlen)
{
  char *msg = NULL;

  if (sqlite3_exec(q->db, sql, NULL, NULL, &msg) == SQLITE_OK)
    return STORE_OK;
  snprintf(err, errlen, "%s: %s", what, msg ? msg : sqlite3_errmsg(q->db));
  sqlite3_free(msg);
  return STORE_ERROR;
}

static int sq_read_version(sq_store *q, int *version, char *err,
                           size_t errlen)
{
  sqlite3_stmt *st;
  int rc;

  if (sqlite3_prepare_v2(q->db, "SELECT max(version) FROM schema_version",
                         -1, &st, NULL) != SQLITE_OK)
    return sq_fail(q, "reading the schema version", err, errlen);
  rc = sqlite3_step(st);
  *version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW)
    return sq_fail(q, "reading the schema version", err, errlen);
  return STORE_OK;
}

/* Applies migration v (1-based) and records it, in one transaction. */
static int sq_apply(sq_store *q, int v, char *err, size_t errlen)
{
  char sql[64];

  if (sq_exec_sql(q, sq_migrations[v - 1], "migrating the schema", err,
                  errlen) != STORE_OK)
    return STORE_ERROR;
  snprintf(sql, sizeof sql, "INSERT INTO schema_version VALUES (%d)", v);
  return sq_exec_sql(q, sql, "recording the schema version", err, errlen);
}

static int sq_migrate_locked(sq_store *q, char *err, size_t errlen)
{
  int version = 0;

  if (sq_exec_sql(q, "CREATE TABLE IF NOT EXISTS schema_version"
                     " (version INTEGER NOT NULL)",
                  "creating the schema version table", err, errlen) ||
      sq_read_version(q, &version, err, errlen))
    return STORE_ERROR;
  if (version > SQ_SCHEMA_VERSION) {
    snprintf(err, errlen, "database schema version %d is newer than this "
             "nerox knows (%d)", version, SQ_SCHEMA_VERSION);
    return STORE_ERROR;
  }
  for (int v = version + 1; v <= SQ_SCHEMA_VERSION; v++) {
    if (sq_exec_sql(q, "BEGIN IMMEDIATE", "starting a migration", err,
                    errlen))
      return STORE_ERROR;
    if (sq_apply(q, v, err, errlen) != STORE_OK) {
      sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
      return STORE_ERROR;
    }
    if (sq_exec_sql(q, "COMMIT", "committing a migration", err, errlen))
      return STORE_ERROR;
  }
  return STORE_OK;
}

static int sq_migrate(store *s, char *err, size_t errlen)
{
  sq_store *q = (sq_store *)s;
  int rc;

  if (sq_lock(q, err, errlen))
    return STORE_ERROR;
  rc = sq_migrate_locked(q, err, errlen);
  sq_unlock(q);
  return rc;
}

static int sq_schema_version(store *s, int *version, char *err,
                             size_t errlen)
{
  sq_store *q = (sq_store *)s;
  int rc;

  if (sq_lock(q, err, errlen))
    return STORE_ERROR;
  rc = sq_read_version(q, version, err, errlen);
  sq_unlock(q);
  return rc;
}

/* -------------------------------------------------------------------------- */

static int sq_account_create(store *s, const store_account *a, char *err,
                             size_t errlen)
{
  sq_store *q = (sq_store *)s;
  sqlite3_stmt *st = q->st[SQ_ACCOUNT_CREATE];
  const plans_limits *l = &a->limits;
  int rc;

  if (sq_too_long("account name", a->name, STORE_NAME_MAX, err, errlen))
    return STORE_ERROR;
  if (sq_lock(q, err, errlen))
    return STORE_ERROR;
  /* Parameters left unbound are NULL: no per-account limits. */
  rc = sq_bind(st, a->has_limits ? "ttiiiiid" : "tti", a->name, a->plan,
               a->created_ms, l->jobs_per_month, l->requests_per_minute,
               l->concurrent_jobs, l->included_gpu_seconds,
               l->overage_usd_per_gpu_hour);
  if (rc != SQLITE_OK)
    rc = sq_bind_failed(q, st, "creating an account", err, errlen);
  else
    rc = sq_exec(q, st, "creating an account", err, errlen);
  sq_unlock(q);
  return rc;
}

static void sq_read_account(sqlite3_stmt *st, store_account *a)
{
  plans_limits *l = &a->limits;

  memset(a, 0, sizeof *a);
  sq_col_text(st, 0, a->name, sizeof a->name);
  sq_col_text(st, 1, a->plan, sizeof a->plan);
  a->created_ms = sqlite3_column_int64(st, 2);
  a->has_limits = !sq_col_null(st, 3);
  l->jobs_per_month = sqlite3_column_int64(st, 3);
  l->requests_per_minute = sqlite3_column_int64(st, 4);
  l->concurrent_jobs = sqlite3_column_int64(st, 5);
  l->included_gpu_seconds = sqlite3_column_int64(st, 6);
  l->overage_usd_per_gpu_hour = sqlite3_column_double(st, 7);
}

/* Steps a bound query expected to give at most one row, reading it with
 * read(st, out). NOTFOUND when no row. */
static int sq_one(sq_store *q, sqlite3_stmt *st, const char *what,
                  const char *id, int (*read)(sqlite3_stmt *, void *),
                  void *out, char *err, size_t errlen)
{
  int rc = sqlite3_step(st), out_rc = STORE_OK;

  if (rc == SQLITE_ROW) {
    if (read(st, out) != 0) {
      snprintf(err, errlen, "%s: out of memory", what);
      out_rc = STORE_ERROR;
    }
  } else if (rc == SQLITE_DONE) {
    snprintf(err, errlen, "%s: no '%s'", what, id);
    out_rc = STORE_NOTFOUND;
  } else {
    out_rc = sq_fail(q, what, err, errlen);
  }
  sq_done(st);
  return out_rc;
}

static int sq_read_account_v(sqlite3_stmt *st, void *out)
{
  sq_read_account(st, out);
  return 0;
}

static int sq_account_get(store *s, const char *name, store_account *out,
                          char *err, size_t errlen)
{
  sq_store *q = (sq_store *)s;
  sqlite3_stmt *st = q->st[SQ_ACCOUNT_GET];
  int rc;

  if (sq_lock(q, err, errlen))
    return STORE_ERROR;
  if (sq_bind(st, "t", name) != SQLITE_OK)
    rc = sq_bind_failed(q, st, "reading an account", err, errlen);
  else
    rc = sq_one(q, st, "account", name, sq_read_account_v, out, err,
                errlen);
  sq_unlock(q);
  return rc;
}

static int sq_account_set_plan(store *s, const char *name, const char *plan,
                               char *err, size_t errlen)
{
  sq_store *q = (sq_store *)s;
  sqlite3_stmt *st = q->st[SQ_ACCOUNT_SET_PLAN];
  int rc;

  if (sq_lock(q, err, errlen))
    return STORE_ERROR;
  if (sq_bind(st, "tt", plan, name) != SQLITE_OK)
    rc = sq_bind_failed(q, st, "setting a plan", err, errlen);
  else
    rc = sq_exec(q, st, "setting a plan", err, errlen);
  rc = sq_changed(q, rc, "account", name, err, errlen);
  sq_unlock(q);
  return rc;
}

/* limits NULL clears the account's limits (back to the plan's). */
static int sq_account_set_limits(store *s, const char *name,
                                 const plans_limits *l, char *err,
                                 size_t errlen)
{
  sq_store *q = (sq_store *)s;
  sqlite3_stmt *st = q->st[SQ_ACCOUNT_SET_LIMITS];
  int rc;

  if (sq_lock(q, err, errlen))
    return STORE_ERROR;
  if (l)
    rc = sq_bind(st, "iiiidt", l->jobs_per_month, l->requests_per_minute,
                 l->concurrent_jobs, l->included_gpu_seconds,
                 l->overage_usd_per_gpu_hour, name);
  else
    rc = sq_bind(st, "nnnnnt", name);
  if (rc != SQLITE_OK)
    rc = sq_bind_failed(q, st, "setting limits", err, errlen);
  else
    rc = sq_exec(q, st, "setting limits", err, errlen);
  rc = sq_changed(q, rc, "account", name, err, errlen);
  sq_unlock(q);
  return rc;
}

/* -------------------------------------------------------------------------- */

static int sq_key_create(store *s, const store_key *k, char *err,
                         size_t errlen)
{
  sq_store *q = (sq_store *)s;
  sqlite3_stmt *st = q->st[SQ_KEY_CREATE];
  int rc;

  if (sq_lock(q, err, errlen))
    return STORE_ERROR;
  rc = sq_bind(st, "ttttti", k->id, k->account, k->label, k->scopes,
               k->hash, k->created_ms);
  if (rc != SQLITE_OK)
    rc = sq_bind_failed(q, st, "creating a key", err, errlen);
  else
    rc = sq_exec(q, st, "creating a key", err, errlen);
  sq_unlock(q);
  return rc;
}

static int sq_read_key(sqlite3_stmt *st, void *out)
{
  store_key *k = out;

  memset(k, 0, sizeof *k);
  sq_col_text(st, 0, k->id, sizeof k->id);
  sq_col_text(st, 1, k->account, sizeof k->account);
  sq_col_text(st, 2, k->plan, sizeof k->plan);
  sq_col_text(st, 3, k->label, sizeof k->label);
  sq_col_text(st, 4, k->scopes, sizeof k->scopes);
  sq_col_text(st, 5, k->hash, sizeof k->hash);
  k->created_ms = sqlite3_column_int64(st, 6);
  k->revoked_ms = sqlite3_column_int64(st, 7);
  k->last_used_ms = sqlite3_column_int64(st, 8);
  return 0;
}

static int sq_key_find_hash(store *s, const char *hash, store_key *out,
                            char *err, size_t errlen)
{
  sq_store *q = (sq_store *)s;
  sqlite3_stmt *st = q->st[SQ_KEY_FIND];
  int rc;

  if (sq_lock(q, err, errlen))
    return STORE_ERROR;
  if (sq_bind(st, "t", hash) != SQLITE_OK)
    rc = sq_bind_failed(q, st, "finding a key", err, errlen);
  else
    rc = sq_one(q, st, "key with hash", hash, sq_read_key, out, err, errlen);
  sq_unlock(q);
  return rc;
}

/* Steps a bound query, appending each row (of size elem) to *out through
 * read. Frees nothing on failure: the caller's free function does. */
static int sq_many(sq_store *q, sqlite3_stmt *st, const char *what,
                   size_t elem, int (*read)(sqlite3_stmt *, void *),
                   void **out, size_t *n, char *err, size_t errlen)
{
  size_t cap = 0;
  int rc;

  *out = NULL;
  *n = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (*n == cap) {
      size_t ncap = cap ? 2 * cap : 16;
      void *grown = realloc(*out, ncap * elem);
      if (!grown) {
        sq_done(st);
        snprintf(err, errlen, "%s: out of memory", what);
        return STORE_ERROR;
      }
      *out = grown;
      cap = ncap;
    }
    (*n)++;
    if (read(st, (char *)*out + (*n - 1) * elem) != 0) {
      sq_done(st);
      snprintf(err, errlen, "%s: out of memory", what);
      return STORE_ERROR;
    }
  }
  if (rc != SQLITE_DONE)
    rc = sq_fail(q, what, err, errlen);
  else
    rc = STORE_OK;
  sq_done(st);
  return rc;
}

/* Finishes a list query: steps the statement bound (bound: sq_bind's
 * code), unlocks q, and on failure drops what was read. q is locked. */
static int sq_list(sq_store *q, sqlite3_stmt *st, int bound,
                   const char *what, size_t elem,
                   int (*read)(sqlite3_stmt *, void *),
                   void (*drop)(void *, size_t), void **out, size_t *n,
                   char *err, size_t errlen)
{
  void *arr = NULL;
  int rc;

  *n = 0;
  if (bound != SQLITE_OK)
    rc = sq_bind_failed(q, st, what, err, errlen);
  else
    rc = sq_many(q, st, what, elem, read, &arr, n, err, errlen);
  sq_unlock(q);
  if (rc != STORE_OK) {
    drop(arr, *n);
    arr = NULL;
    *n = 0;
  }
  *out = arr;
  return rc;
}

static void sq_drop_keys(void *arr, size_t n)
{
  (void)n;
  free(arr);
}

static void sq_drop_jobs(void *arr, size_t n)
{
  store_jobs_free(arr, n);
}

static void sq_drop_events(void *arr, size_t n)
{
  store_events_free(arr, n);
}

static int sq_read_key_nohash(sqlite3_stmt *st, void *out)
{
  store_key *k = out;

  sq_read_key(st, k);
  k->hash[0] = '\0';
  return 0;
}

static int sq_key_list(store *s, store_key **out, size_t *n, char *err,
                       size_t errlen)
{
  sq_store *q = (sq_store *)s;

  *out = NULL;
  if (sq_lock(q, err, errlen))
    return STORE_ERROR;
  return sq_list(q, q->st[SQ_KEY_LIST], SQLITE_OK, "listing keys",
                 sizeof(store_key), sq_read_key_nohash, sq_drop_keys,
                 (void **)out, n, err, errlen);
}

/* Runs an UPDATE bound as (int64, text id); NOTFOUND if no row changed. */
static int sq_update_by_id(store *s, int which, const char *what,
                           int64_t v, const char *id, char *err,
                           size_t errlen)
{
  sq_store *q = (sq_store *)s;
  sqlite3_stmt *st = q->st[which];
  int rc;

  if (sq_lock(q, err, errlen))
    return STORE_ERROR;
  if (sq_bind(st, "it", v, id) != SQLITE_OK)
    rc = sq_bind_failed(q, st, what, err, errlen);
  else
    rc = sq_exec(q, st, what, err, errlen);
  rc = sq_changed(q, rc, what, id, err, errlen);
  sq_unlock(q);
  return rc;
}

static int sq_key_revoke(store *s, const char *id, int64_t now_ms,
                         char *err, size_t errlen)
{
  return sq_update_by_id(s, SQ_KEY_REVOKE, "active key", now_ms, id, err,
                         errlen);
}

static int sq_key_touch(store *s, const char *id, int64_t now_ms, char *err,
                        size_t errlen)
{
  return sq_update_by_id(s, SQ_KEY_TOUCH, "key", now_ms, id, err, errlen);
}

/* -------------------------------------------------------------------------- */

static int sq_job_check(const store_job *j, char *err, size_t errlen)
{
  return sq_too_long("job id", j->id, STORE_ID_MAX, err, errlen) ||
         sq_too_long("account", j->account, STORE_NAME_MAX, err, errlen) ||
         sq_too_long("problem type", j->problem_type, STORE_TYPE_MAX, err,
                     errlen) ||
         sq_too_long("state", j->state, STORE_STATE_MAX, err, errlen) ||
         sq_too_long("idempotency key", j->idem_key, STORE_IDEM_MAX, err,
                     errlen) ||
         sq_too_long("body hash", j->body_hash, STORE_HASH_MAX, err, errlen);
}

static int sq_bind_best(sqlite3_stmt *st, int i, const store_job *j)
{
  return j->has_best ? sqlite3_bind_double(st, i, j->best_energy)
                     : sqlite3_bind_null(st, i);
}

static int sq_job_insert(store *s, const store_job *j, char *err,
                         size_t errlen)
{
  sq_store *q = (sq_store *)s;
  sqlite3_stmt *st = q->st[SQ_JOB_INSERT];
  int rc;

  if (sq_job_check(j, err, errlen))
    return STORE_ERROR;
  if (sq_lock(q, err, errlen))
    return STORE_ERROR;
  rc = sq_bind(st, "tttttizznttee", j->id, j->account, j->problem_type,
               j->state, j->params_json, j->submitted_ms, j->started_ms,
               j->finished_ms, j->result_json, j->error, j->idem_key,
               j->body_hash);
  if (rc == SQLITE_OK)
    rc = sq_bind_best(st, 9, j);
  if (rc != SQLITE_OK)
    rc = sq_bind_failed(q, st, "inserting a job", err, errlen);
  else
    rc = sq_exec(q, st, "inserting a job", err, errlen);
  sq_unlock(q);
  return rc;
}

static int sq_job_update(store *s, const store_job *j, char *err,
                         size_t errlen)
{
  sq_store *q = (sq_store *)s;
  sqlite3_stmt *st = q->st[SQ_JOB_UPDATE];
  int rc;

  if (sq_job_check(j, err, errlen))
    return STORE_ERROR;
  if (sq_lock(q, err, errlen))
    return STORE_ERROR;
  rc = sq_bind(st, "tzznttent", j->state, j->started_ms, j->finished_ms,
               j->result_json, j->error, j->usage_kind, j->id);
  if (rc == SQLITE_OK)
    rc = sq_bind_best(st, 4, j);
  if (rc == SQLITE_OK)
    rc = j->usage_kind[0] ? sqlite3_bind_double(st, 8, j->usage_s)
                          : sqlite3_bind_null(st, 8);
  if (rc != SQLITE_OK)
    rc = sq_bind_failed(q, st, "updating a job", err, errlen);
  else
    rc = sq_exec(q, st, "updating a job", err, errlen);
  rc = sq_changed(q, rc, "job", j->id, err, errlen);
  sq_unlock(q);
  return rc;
}

/* Reads a job row; -1 when a copy ran out of memory. */
static int sq_read_job(sqlite3_stmt *st, void *out)
{
  store_job *j = out;
  int oom = 0;

  memset(j, 0, sizeof *j);
  sq_col_text(st, 0, j->id, sizeof j->id);
  sq_col_text(st, 1, j->account, sizeof j->account);
  sq_col_text(st, 2, j->problem_type, sizeof j->problem_type);
  sq_col_text(st, 3, j->state, sizeof j->state);
  j->params_json = sq_col_dup(st, 4, &oom);
  j->submitted_ms = sqlite3_column_int64(st, 5);
  j->started_ms = sqlite3_column_int64(st, 6);
  j->finished_ms = sqlite3_column_int64(st, 7);
  j->has_best = !sq_col_null(st, 8);
  j->best_energy = sqlite3_column_double(st, 8);
  j->result_json = sq_col_dup(st, 9, &oom);
  j->error = sq_col_dup(st, 10, &oom);
  sq_col_text(st, 11, j->idem_key, sizeof j->idem_key);
  sq_col_text(st, 12, j->body_hash, sizeof j->body_hash);
  sq_col_text(st, 13, j->usage_kind, sizeof j->usage_kind);
  j->usage_s = sqlite3_column_double(st, 14);
  return oom ? -1 : 0;
}

static int sq_job_get(store *s, const char *id, store_job *out, char *err,
                      size_t errlen)
{
  sq_store *q = (sq_store *)s;
  sqlite3_stmt *st = q->st[SQ_JOB_GET];
  int rc;

  memset(out, 0, sizeof *out);
  if (sq_lock(q, err, errlen))
    return STORE_ERROR;
  if (sq_bind(st, "t", id) != SQLITE_OK)
    rc = sq_bind_failed(q, st, "reading a job", err, errlen);
  else
    rc = sq_one(q, st, "job", id, sq_read_job, out, err, errlen);
  sq_unlock(q);
  return rc;
}

static int sq_job_find_idem(store *s, const char *account,
                            const char *idem_key, store_job *out, char *err,
                            size_t errlen)
{
  sq_store *q = (sq_store *)s;
  sqlite3_stmt *st = q->st[SQ_JOB_IDEM];
  int rc;

  memset(out, 0, sizeof *out);
  if (sq_lock(q, err, errlen))
    return STORE_ERROR;
  if (sq_bind(st, "tt", account, idem_key) != SQLITE_OK)
    rc = sq_bind_failed(q, st, "finding a job", err, errlen);
  else
    rc = sq_one(q, st, "job with idempotency key", idem_key, sq_read_job,
                out, err, errlen);
  sq_unlock(q);
  return rc;
}

static int sq_job_list(store *s, const store_job_query *jq, store_job **out,
                       size_t *n, char *err, size_t errlen)
{
  sq_store *q = (sq_store *)s;
  sqlite3_stmt *st = q->st[SQ_JOB_LIST];
  int64_t limit = jq->limit;

  if (limit <= 0 || limit > STORE_PAGE_MAX)
    limit = STORE_PAGE_MAX;
  *out = NULL;
  *n = 0;
  if (sq_lock(q, err, errlen))
    return STORE_ERROR;
  int bound = sq_bind(st, "teii", jq->account, jq->state, limit,
                      jq->offset > 0 ? jq->offset : 0);
  return sq_list(q, st, bound, "listing jobs", sizeof(store_job),
                 sq_read_job, sq_drop_jobs, (void **)out, n, err, errlen);
}

static int sq_job_list_unfinished(store *s, int64_t limit, store_job **out,
                                  size_t *n, char *err, size_t errlen)
{
  sq_store *q = (sq_store *)s;
  sqlite3_stmt *st = q->st[SQ_JOB_UNFINISHED];

  if (limit <= 0 || limit > STORE_PAGE_MAX)
    limit = STORE_PAGE_MAX;
  *out = NULL;
  *n = 0;
  if (sq_lock(q, err, errlen))
    return STORE_ERROR;
  return sq_list(q, st, sq_bind(st, "i", limit), "listing unfinished jobs",
                 sizeof(store_job), sq_read_job, sq_drop_jobs, (void **)out,
                 n, err, errlen);
}

/* Steps a bound one-row aggregate, reading column 0. */
static int sq_scalar(sq_store *q, sqlite3_stmt *st, const char *what,
                     int64_t *iv, double *dv, char *err, size_t errlen)
{
  int rc = sqlite3_step(st);

  if (rc == SQLITE_ROW) {
    if (iv)
      *iv = sqlite3_column_int64(st, 0);
    if (dv)
      *dv = sqlite3_column_double(st, 0);
    rc = STORE_OK;
  } else {
    rc = sq_fail(q, what, err, errlen);
  }
  sq_done(st);
  return rc;
}

static int sq_job_count(store *s, const char *account, const char *state,
                        int64_t from_ms, int64_t to_ms, int64_t *count,
                        char *err, size_t errlen)
{
  sq_store *q = (sq_store *)s;
  sqlite3_stmt *st = q->st[SQ_JOB_COUNT];
  int rc;

  if (sq_lock(q, err, errlen))
    return STORE_ERROR;
  if (sq_bind(st, "teii", account, state, from_ms, to_ms) != SQLITE_OK)
    rc = sq_bind_failed(q, st, "counting jobs", err, errlen);
  else
    rc = sq_scalar(q, st, "counting jobs", count, NULL, err, errlen);
  sq_unlock(q);
  return rc;
}

/* -------------------------------------------------------------------------- */

static int sq_event_append(store *s, const char *job_id, const char *type,
                           const char *data_json, int64_t at_ms,
                           int64_t *seq, char *err, size_t errlen)
{
  sq_store *q = (sq_store *)s;
  sqlite3_stmt *st = q->st[SQ_EVENT_APPEND];
  int rc;

  if (sq_too_long("event type", type, STORE_TYPE_MAX, err, errlen))
    return STORE_ERROR;
  if (sq_lock(q, err, errlen))
    return STORE_ERROR;
  if (sq_bind(st, "ttti", job_id, type, data_json ? data_json : "{}",
              at_ms) != SQLITE_OK)
    rc = sq_bind_failed(q, st, "appending an event", err, errlen);
  else
    rc = sq_scalar(q, st, "appending an event", seq, NULL, err, errlen);
  sq_unlock(q);
  return rc;
}

static int sq_read_event(sqlite3_stmt *st, void *out)
{
  store_event *e = out;
  int oom = 0;

  memset(e, 0, sizeof *e);
  e->seq = sqlite3_column_int64(st, 0);
  sq_col_text(st, 1, e->type, sizeof e->type);
  e->data_json = sq_col_dup(st, 2, &oom);
  e->at_ms = sqlite3_column_int64(st, 3);
  return oom ? -1 : 0;
}

static int sq_event_list(store *s, const char *job_id, int64_t after_seq,
                         int64_t limit, store_event **out, size_t *n,
                         char *err, size_t errlen)
{
  sq_store *q = (sq_store *)s;
  sqlite3_stmt *st = q->st[SQ_EVENT_LIST];

  if (limit <= 0 || limit > STORE_PAGE_MAX)
    limit = STORE_PAGE_MAX;
  *out = NULL;
  *n = 0;
  if (sq_lock(q, err, errlen))
    return STORE_ERROR;
  return sq_list(q, st, sq_bind(st, "tii", job_id, after_seq, limit),
                 "listing events", sizeof(store_event), sq_read_event,
                 sq_drop_events, (void **)out, n, err, errlen);
}

/* -------------------------------------------------------------------------- */

static const char *sq_kind(store_usage_kind kind)
{
  return kind == STORE_USAGE_GPU ? "gpu" : "cpu";
}

static int sq_usage_append(store *s, const char *account, const char *job_id,
                           store_usage_kind kind, double seconds,
                           int64_t at_ms, char *err, size_t errlen)
{
  sq_store *q = (sq_store *)s;
  sqlite3_stmt *st = q->st[SQ_USAGE_APPEND];
  int rc;

  if (sq_lock(q, err, errlen))
    return STORE_ERROR;
  if (sq_bind(st, "tetdi", account, job_id, sq_kind(kind), seconds,
              at_ms) != SQLITE_OK)
    rc = sq_bind_failed(q, st, "recording usage", err, errlen);
  else
    rc = sq_exec(q, st, "recording usage", err, errlen);
  sq_unlock(q);
  return rc;
}

static int sq_usage_sum(store *s, const char *account, store_usage_kind kind,
                        int64_t from_ms, int64_t to_ms, double *seconds,
                        char *err, size_t errlen)
{
  sq_store *q = (sq_store *)s;
  sqlite3_stmt *st = q->st[SQ_USAGE_SUM];
  int rc;

  if (sq_lock(q, err, errlen))
    return STORE_ERROR;
  if (sq_bind(st, "ttii", account, sq_kind(kind), from_ms, to_ms) !=
      SQLITE_OK)
    rc = sq_bind_failed(q, st, "summing usage", err, errlen);
  else
    rc = sq_scalar(q, st, "summing usage", NULL, seconds, err, errlen);
  sq_unlock(q);
  return rc;
}

/* -------------------------------------------------------------------------- */

static void sq_close(store *s)
{
  sq_store *q = (sq_store *)s;

  for (int i = 0; i < SQ_NSTMT; i++)
    sqlite3_finalize(q->st[i]);
  sqlite3_close(q->db);
  pthread_mutex_destroy(&q->mu);
  free(q);
}

static const store_ops sq_ops = {
  sq_close, sq_migrate, sq_schema_version,
  sq_account_create, sq_account_get, sq_account_set_plan,
  sq_account_set_limits,
  sq_key_create, sq_key_find_hash, sq_key_list, sq_key_revoke, sq_key_touch,
  sq_job_insert, sq_job_update, sq_job_get, sq_job_find_idem, sq_job_list,
  sq_job_count, sq_job_list_unfinished,
  sq_event_append, sq_event_list,
  sq_usage_append, sq_usage_sum,
};

static int sq_prepare_all(sq_store *q, char *err, size_t errlen)
{
  char sql[512];

  for (int i = 0; i < SQ_NSTMT; i++) {
    const char *text = sq_sql[i];
    if (!text) {
      int list = i == SQ_JOB_LIST || i == SQ_JOB_UNFINISHED;
      snprintf(sql, sizeof sql, "SELECT " SQ_JOB_COLS "%s",
               list ? "NULL" : "params", list ? "NULL" : "result",
               sq_job_where[i]);
      text = sql;
    }
    if (sqlite3_prepare_v3(q->db, text, -1, SQLITE_PREPARE_PERSISTENT,
                           &q->st[i], NULL) != SQLITE_OK)
      return sq_fail(q, "preparing statements", err, errlen);
  }
  return STORE_OK;
}

/* Pragmas: WAL, a busy timeout, foreign keys, and fsync at checkpoints. */
static int sq_configure(sq_store *q, const char *path, char *err,
                        size_t errlen)
{
  if (sqlite3_extended_result_codes(q->db, 1) != SQLITE_OK ||
      sqlite3_busy_timeout(q->db, SQ_BUSY_TIMEOUT_MS) != SQLITE_OK)
    return sq_fail(q, path, err, errlen);
  if (sqlite3_db_readonly(q->db, "main") == 1) {
    snprintf(err, errlen, "%s: the database file is read-only", path);
    return STORE_ERROR;
  }
  return sq_exec_sql(q, "PRAGMA journal_mode = WAL;"
                        "PRAGMA synchronous = NORMAL;"
                        "PRAGMA foreign_keys = ON;", path, err, errlen);
}

store *store_open_sqlite(const char *path, char *err, size_t errlen)
{
  sq_store *q = calloc(1, sizeof *q);
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
              SQLITE_OPEN_NOMUTEX;

  if (!q) {
    snprintf(err, errlen, "%s: out of memory", path);
    return NULL;
  }
  if (pthread_mutex_init(&q->mu, NULL) != 0) {
    snprintf(err, errlen, "%s: cannot create the connection lock", path);
    free(q);
    return NULL;
  }
  q->base.ops = &sq_ops;
  if (sqlite3_open_v2(path, &q->db, flags, NULL) != SQLITE_OK) {
    sq_fail(q, path, err, errlen);
    sq_close(&q->base);
    return NULL;
  }
  if (sq_configure(q, path, err, errlen) != STORE_OK ||
      sq_migrate_locked(q, err, errlen) != STORE_OK ||
      sq_prepare_all(q, err, errlen) != STORE_OK) {
    sq_close(&q->base);
    return NULL;
  }
  return &q->base;
}
