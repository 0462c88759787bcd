/* The store: accounts, API keys, jobs, job events and the usage ledger.
 * One interface (a table of function pointers behind an opaque handle)
 * with one implementation per database: SQLite now (store_sqlite.c),
 * PostgreSQL later. Callers use the store_* functions below, never an
 * implementation directly.
 *
 * Every function returns STORE_OK, STORE_NOTFOUND or STORE_CONFLICT where
 * documented, or STORE_ERROR with a message in err. Timestamps are Unix
 * milliseconds (UTC). A handle may be used from several threads at once. */
#ifndef NEROX_STORE_H
#define NEROX_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "server/plans.h"

#define STORE_OK 0
#define STORE_ERROR (-1)
#define STORE_NOTFOUND 1
#define STORE_CONFLICT 2 /* a unique name, id or idempotency key is taken */

#define STORE_NAME_MAX 65   /* account name, with its NUL */
#define STORE_ID_MAX 41     /* key and job ids */
#define STORE_LABEL_MAX 129 /* key label */
#define STORE_SCOPES_MAX 128
#define STORE_HASH_MAX 65   /* SHA-256 hex */
#define STORE_TYPE_MAX 64   /* problem type, event type */
#define STORE_STATE_MAX 16  /* job state */
#define STORE_IDEM_MAX 256  /* idempotency key */
#define STORE_KIND_MAX 8    /* usage kind, "gpu" or "cpu" */

typedef struct store store;

typedef struct store_account {
  char name[STORE_NAME_MAX];
  char plan[PLANS_NAME_MAX];
  int has_limits;      /* 1: limits below override the plan's */
  plans_limits limits;
  int64_t created_ms;
} store_account;

typedef struct store_key {
  char id[STORE_ID_MAX];
  char account[STORE_NAME_MAX];
  char plan[PLANS_NAME_MAX]; /* the account's, filled on reads */
  char label[STORE_LABEL_MAX];
  char scopes[STORE_SCOPES_MAX]; /* canonical list, "jobs:read,admin" */
  char hash[STORE_HASH_MAX];     /* empty in listings */
  int64_t created_ms;
  int64_t revoked_ms;   /* 0: active */
  int64_t last_used_ms; /* 0: never */
} store_key;

/* A job. Strings in the arrays are always set; params_json, result_json
 * and error are owned (NULL when absent) and freed by store_job_clear. */
typedef struct store_job {
  char id[STORE_ID_MAX];
  char account[STORE_NAME_MAX];
  char problem_type[STORE_TYPE_MAX];
  char state[STORE_STATE_MAX]; /* queued, running, succeeded, ... */
  char *params_json;
  int64_t submitted_ms, started_ms, finished_ms; /* 0: not yet */
  int has_best;
  double best_energy;
  char *result_json;
  char *error;
  char idem_key[STORE_IDEM_MAX]; /* empty: none */
  char body_hash[STORE_HASH_MAX];
  char usage_kind[STORE_KIND_MAX]; /* "gpu" or "cpu"; empty: not billed */
  double usage_s;                  /* seconds billed, start to end */
} store_job;

typedef struct store_event {
  int64_t seq; /* 1, 2, ... per job */
  char type[STORE_TYPE_MAX];
  char *data_json; /* owned */
  int64_t at_ms;
} store_event;

typedef enum store_usage_kind {
  STORE_USAGE_GPU,
  STORE_USAGE_CPU
} store_usage_kind;

/* Job listing: filter and page. state NULL or "" lists every state. */
typedef struct store_job_query {
  const char *account;
  const char *state;
  int64_t limit;  /* at most STORE_PAGE_MAX */
  int64_t offset;
} store_job_query;

#define STORE_PAGE_MAX 1000

/* The operations each implementation provides; see the wrappers below. */
typedef struct store_ops {
  void (*close)(store *s);
  int (*migrate)(store *s, char *err, size_t errlen);
  int (*schema_version)(store *s, int *version, char *err, size_t errlen);

  int (*account_create)(store *s, const store_account *a, char *err,
                        size_t errlen);
  int (*account_get)(store *s, const char *name, store_account *out,
                     char *err, size_t errlen);
  int (*account_set_plan)(store *s, const char *name, const char *plan,
                          char *err, size_t errlen);
  int (*account_set_limits)(store *s, const char *name,
                            const plans_limits *limits, char *err,
                            size_t errlen);

  int (*key_create)(store *s, const store_key *k, char *err, size_t errlen);
  int (*key_find_hash)(store *s, const char *hash, store_key *out,
                       char *err, size_t errlen);
  int (*key_list)(store *s, store_key **out, size_t *n, char *err,
                  size_t errlen);
  int (*key_revoke)(store *s, const char *id, int64_t now_ms, char *err,
                    size_t errlen);
  int (*key_touch)(store *s, const char *id, int64_t now_ms, char *err,
                   size_t errlen);

  int (*job_insert)(store *s, const store_job *j, char *err, size_t errlen);
  int (*job_update)(store *s, const store_job *j, char *err, size_t errlen);
  int (*job_get)(store *s, const char *id, store_job *out, char *err,
                 size_t errlen);
  int (*job_find_idem)(store *s, const char *account, const char *idem_key,
                       store_job *out, char *err, size_t errlen);
  int (*job_list)(store *s, const store_job_query *q, store_job **out,
                  size_t *n, char *err, size_t errlen);
  int (*job_count)(store *s, const char *account, const char *state,
                   int64_t from_ms, int64_t to_ms, int64_t *count,
                   char *err, size_t errlen);
  int (*job_list_unfinished)(store *s, int64_t limit, store_job **out,
                             size_t *n, char *err, size_t errlen);

  int (*event_append)(store *s, const char *job_id, const char *type,
                      const char *data_json, int64_t at_ms, int64_t *seq,
                      char *err, size_t errlen);
  int (*event_list)(store *s, const char *job_id, int64_t after_seq,
                    int64_t limit, store_event **out, size_t *n, char *err,
                    size_t errlen);

  int (*usage_append)(store *s, const char *account, const char *job_id,
                      store_usage_kind kind, double seconds, int64_t at_ms,
                      char *err, size_t errlen);
  int (*usage_sum)(store *s, const char *account, store_usage_kind kind,
                   int64_t from_ms, int64_t to_ms, double *seconds,
                   char *err, size_t errlen);
} store_ops;

/* What every implementation's handle starts with. */
struct store {
  const store_ops *ops;
};

/* Opens (creating if needed) the SQLite database at path and migrates it
 * to the current schema; NULL with a message on failure. */
store *store_open_sqlite(const char *path, char *err, size_t errlen);

void store_close(store *s);
int store_migrate(store *s, char *err, size_t errlen);
int store_schema_version(store *s, int *version, char *err, size_t errlen);

/* Accounts. create: STORE_CONFLICT when the name is taken. get, set_*:
 * STORE_NOTFOUND for an unknown account. */
int store_account_create(store *s, const store_account *a, char *err,
                         size_t errlen);
int store_account_get(store *s, const char *name, store_account *out,
                      char *err, size_t errlen);
int store_account_set_plan(store *s, const char *name, const char *plan,
                           char *err, size_t errlen);
int store_account_set_limits(store *s, const char *name,
                             const plans_limits *limits, char *err,
                             size_t errlen);

/* Keys. find_hash: active keys only, STORE_NOTFOUND for unknown or
 * revoked. list: every key, oldest first, hashes left empty; free *out.
 * revoke: STORE_NOTFOUND when no active key has that id. touch: records
 * last use. */
int store_key_create(store *s, const store_key *k, char *err, size_t errlen);
int store_key_find_hash(store *s, const char *hash, store_key *out,
                        char *err, size_t errlen);
int store_key_list(store *s, store_key **out, size_t *n, char *err,
                   size_t errlen);
int store_key_revoke(store *s, const char *id, int64_t now_ms, char *err,
                     size_t errlen);
int store_key_touch(store *s, const char *id, int64_t now_ms, char *err,
                    size_t errlen);

/* Jobs. insert: STORE_CONFLICT for a taken id or (account, idem_key).
 * update: writes state, timestamps, best energy, result and error.
 * get, find_idem: STORE_NOTFOUND when absent; store_job_clear the result.
 * list: newest first (submitted, then id), without params and result;
 * store_jobs_free the array. count: jobs in state (NULL: any) submitted in
 * [from_ms, to_ms). */
int store_job_insert(store *s, const store_job *j, char *err, size_t errlen);
int store_job_update(store *s, const store_job *j, char *err, size_t errlen);
int store_job_get(store *s, const char *id, store_job *out, char *err,
                  size_t errlen);
int store_job_find_idem(store *s, const char *account, const char *idem_key,
                        store_job *out, char *err, size_t errlen);
int store_job_list(store *s, const store_job_query *q, store_job **out,
                   size_t *n, char *err, size_t errlen);
int store_job_count(store *s, const char *account, const char *state,
                    int64_t from_ms, int64_t to_ms, int64_t *count,
                    char *err, size_t errlen);
/* Jobs of every account still queued or running, oldest first (submitted,
 * then id), at most limit (<= 0 or over STORE_PAGE_MAX: STORE_PAGE_MAX),
 * without params and result; store_jobs_free the array. For restart
 * recovery (host/server/srv_recover.h). */
int store_job_list_unfinished(store *s, int64_t limit, store_job **out,
                              size_t *n, char *err, size_t errlen);
void store_job_clear(store_job *j);
void store_jobs_free(store_job *jobs, size_t n);

/* Job events: append gives the event the job's next seq; list returns up
 * to limit events with seq > after_seq in order; store_events_free. */
int store_event_append(store *s, const char *job_id, const char *type,
                       const char *data_json, int64_t at_ms, int64_t *seq,
                       char *err, size_t errlen);
int store_event_list(store *s, const char *job_id, int64_t after_seq,
                     int64_t limit, store_event **out, size_t *n, char *err,
                     size_t errlen);
void store_events_free(store_event *events, size_t n);

/* Usage ledger: seconds of GPU or CPU time by account and job; sum over
 * entries recorded in [from_ms, to_ms). A job is billed once: a second
 * entry for the same job_id is refused with STORE_CONFLICT. */
int store_usage_append(store *s, const char *account, const char *job_id,
                       store_usage_kind kind, double seconds, int64_t at_ms,
                       char *err, size_t errlen);
int store_usage_sum(store *s, const char *account, store_usage_kind kind,
                    int64_t from_ms, int64_t to_ms, double *seconds,
                    char *err, size_t errlen);

/* Current time in Unix milliseconds. */
int64_t store_now_ms(void);

#endif
