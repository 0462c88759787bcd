/* Tests of the store's SQLite implementation: every operation on a temp
 * database file under $NEROX_TEST_TMP, persistence across close and open,
 * paging, order and filters, revocation, usage sums, idempotency lookups,
 * concurrent use from threads, and refusals of broken database files. */
#include "server/store.h"
#include "testutil.h"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#define ERRLEN 512
#define T0 1700000000000LL /* a fixed "now" in Unix ms */
#define NTHREADS 4
#define PER_THREAD 25

static char tmpdir[900];

static void temp_path(char *buf, size_t cap, const char *name)
{
  const char *tmp = getenv("NEROX_TEST_TMP");

  snprintf(tmpdir, sizeof tmpdir, "%s",
           tmp && *tmp ? tmp : "/tmp/nerox-tests");
  mkdir(tmpdir, 0755);
  snprintf(buf, cap, "%s/%s", tmpdir, name);
}

static void remove_db(const char *path)
{
  char side[1024];

  unlink(path);
  snprintf(side, sizeof side, "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", path);
  unlink(side);
}

static store *open_fresh(char *path, size_t cap, const char *name)
{
  char err[ERRLEN];
  store *s;

  temp_path(path, cap, name);
  remove_db(path);
  s = store_open_sqlite(path, err, sizeof err);
  if (!s)
    fprintf(stderr, "open %s: %s\n", path, err);
  return s;
}

static void make_account(store *s, const char *name, const char *plan)
{
  char err[ERRLEN];
  store_account a;

  memset(&a, 0, sizeof a);
  snprintf(a.name, sizeof a.name, "%s", name);
  snprintf(a.plan, sizeof a.plan, "%s", plan);
  a.created_ms = T0;
  CHECK_EQ_INT(store_account_create(s, &a, err, sizeof err), STORE_OK);
}

static void make_job(store_job *j, const char *id, const char *account,
                     const char *state, int64_t submitted)
{
  memset(j, 0, sizeof *j);
  snprintf(j->id, sizeof j->id, "%s", id);
  snprintf(j->account, sizeof j->account, "%s", account);
  snprintf(j->problem_type, sizeof j->problem_type, "tsp");
  snprintf(j->state, sizeof j->state, "%s", state);
  j->params_json = "{\"n\":5}";
  j->submitted_ms = submitted;
}

/* ---- accounts ---------------------------------------------------------- */

static void test_accounts(store *s)
{
  char err[ERRLEN];
  store_account a, b;
  plans_limits l = { 100, 50, 7, 3600, 1.5 };

  make_account(s, "acme", "pro");
  memset(&a, 0, sizeof a);
  snprintf(a.name, sizeof a.name, "acme");
  snprintf(a.plan, sizeof a.plan, "starter");
  CHECK_EQ_INT(store_account_create(s, &a, err, sizeof err), STORE_CONFLICT);
  CHECK_EQ_INT(store_account_get(s, "acme", &b, err, sizeof err), STORE_OK);
  CHECK(strcmp(b.plan, "pro") == 0 && !b.has_limits);
  CHECK_EQ_INT(b.created_ms, T0);
  CHECK_EQ_INT(store_account_get(s, "nobody", &b, err, sizeof err),
               STORE_NOTFOUND);

  make_account(s, "bigco", "enterprise");
  CHECK_EQ_INT(store_account_set_limits(s, "bigco", &l, err, sizeof err),
               STORE_OK);
  CHECK_EQ_INT(store_account_get(s, "bigco", &b, err, sizeof err), STORE_OK);
  CHECK(b.has_limits && b.limits.jobs_per_month == 100 &&
        b.limits.requests_per_minute == 50 && b.limits.concurrent_jobs == 7 &&
        b.limits.included_gpu_seconds == 3600 &&
        b.limits.overage_usd_per_gpu_hour == 1.5);
  CHECK_EQ_INT(store_account_set_limits(s, "bigco", NULL, err, sizeof err),
               STORE_OK);
  CHECK_EQ_INT(store_account_get(s, "bigco", &b, err, sizeof err), STORE_OK);
  CHECK(!b.has_limits);
  CHECK_EQ_INT(store_account_set_plan(s, "bigco", "business", err,
                                      sizeof err), STORE_OK);
  CHECK_EQ_INT(store_account_set_plan(s, "nobody", "pro", err, sizeof err),
               STORE_NOTFOUND);
  CHECK_EQ_INT(store_account_set_limits(s, "nobody", &l, err, sizeof err),
               STORE_NOTFOUND);
}

/* ---- keys ---------------------------------------------------------------- */

static void make_key(store *s, const char *id, const char *account,
                     const char *hash, int expect)
{
  char err[ERRLEN];
  store_key k;

  memset(&k, 0, sizeof k);
  snprintf(k.id, sizeof k.id, "%s", id);
  snprintf(k.account, sizeof k.account, "%s", account);
  snprintf(k.label, sizeof k.label, "label-%s", id);
  snprintf(k.scopes, sizeof k.scopes, "jobs:read");
  snprintf(k.hash, sizeof k.hash, "%s", hash);
  k.created_ms = T0;
  CHECK_EQ_INT(store_key_create(s, &k, err, sizeof err), expect);
}

static void test_keys(store *s)
{
  char err[ERRLEN];
  store_key k, *list = NULL;
  size_t n = 0;

  make_key(s, "key_a", "acme", "aaaa", STORE_OK);
  make_key(s, "key_b", "acme", "bbbb", STORE_OK);
  make_key(s, "key_a", "acme", "cccc", STORE_CONFLICT);
  make_key(s, "key_c", "acme", "aaaa", STORE_CONFLICT);
  make_key(s, "key_d", "nobody", "dddd", STORE_ERROR);

  CHECK_EQ_INT(store_key_find_hash(s, "bbbb", &k, err, sizeof err), STORE_OK);
  CHECK(strcmp(k.id, "key_b") == 0 && strcmp(k.plan, "pro") == 0);
  CHECK(strcmp(k.label, "label-key_b") == 0 && k.last_used_ms == 0);
  CHECK_EQ_INT(store_key_touch(s, "key_b", T0 + 5, err, sizeof err),
               STORE_OK);
  CHECK_EQ_INT(store_key_find_hash(s, "bbbb", &k, err, sizeof err), STORE_OK);
  CHECK_EQ_INT(k.last_used_ms, T0 + 5);
  CHECK_EQ_INT(store_key_find_hash(s, "zzzz", &k, err, sizeof err),
               STORE_NOTFOUND);

  CHECK_EQ_INT(store_key_revoke(s, "key_a", T0 + 9, err, sizeof err),
               STORE_OK);
  CHECK_EQ_INT(store_key_revoke(s, "key_a", T0 + 9, err, sizeof err),
               STORE_NOTFOUND);
  CHECK_EQ_INT(store_key_revoke(s, "key_x", T0, err, sizeof err),
               STORE_NOTFOUND);
  CHECK_EQ_INT(store_key_find_hash(s, "aaaa", &k, err, sizeof err),
               STORE_NOTFOUND);

  CHECK_EQ_INT(store_key_list(s, &list, &n, err, sizeof err), STORE_OK);
  CHECK_EQ_INT(n, 2);
  if (n == 2) {
    CHECK(strcmp(list[0].id, "key_a") == 0 && list[0].revoked_ms == T0 + 9);
    CHECK(strcmp(list[1].id, "key_b") == 0 && list[1].revoked_ms == 0);
    CHECK(list[0].hash[0] == '\0' && list[1].hash[0] == '\0');
  }
  free(list);
}

/* -------------------------------------------------------------------------- */

static void test_job_insert_get(store *s)
{
  char err[ERRLEN], id[16];
  store_job j, g;

  for (int i = 0; i < 7; i++) {
    snprintf(id, sizeof id, "job_%d", i);
    make_job(&j, id, "acme", i % 2 ? "queued" : "succeeded", T0 + i * 10);
    CHECK_EQ_INT(store_job_insert(s, &j, err, sizeof err), STORE_OK);
  }
  make_job(&j, "job_other", "bigco", "queued", T0 + 100);
  CHECK_EQ_INT(store_job_insert(s, &j, err, sizeof err), STORE_OK);
  CHECK_EQ_INT(store_job_insert(s, &j, err, sizeof err), STORE_CONFLICT);
  make_job(&j, "job_x", "nobody", "queued", T0);
  CHECK_EQ_INT(store_job_insert(s, &j, err, sizeof err), STORE_ERROR);
  CHECK_CONTAINS(err, "FOREIGN KEY");

  CHECK_EQ_INT(store_job_get(s, "job_3", &g, err, sizeof err), STORE_OK);
  CHECK(strcmp(g.state, "queued") == 0 && g.submitted_ms == T0 + 30);
  CHECK(g.params_json && strcmp(g.params_json, "{\"n\":5}") == 0);
  CHECK(!g.has_best && g.result_json == NULL && g.error == NULL);
  CHECK(g.started_ms == 0 && g.idem_key[0] == '\0');
  store_job_clear(&g);
  CHECK_EQ_INT(store_job_get(s, "job_404", &g, err, sizeof err),
               STORE_NOTFOUND);

  /* Update: running, then finished with a result. */
  make_job(&j, "job_3", "acme", "running", T0 + 30);
  j.started_ms = T0 + 40;
  j.has_best = 1;
  j.best_energy = -12.5;
  CHECK_EQ_INT(store_job_update(s, &j, err, sizeof err), STORE_OK);
  snprintf(j.state, sizeof j.state, "failed");
  j.finished_ms = T0 + 90;
  j.result_json = "{\"tour\":[0,1]}";
  j.error = "out of time";
  snprintf(j.usage_kind, sizeof j.usage_kind, "gpu");
  j.usage_s = 0.05;
  CHECK_EQ_INT(store_job_update(s, &j, err, sizeof err), STORE_OK);
  CHECK_EQ_INT(store_job_get(s, "job_3", &g, err, sizeof err), STORE_OK);
  CHECK(strcmp(g.usage_kind, "gpu") == 0 && g.usage_s == 0.05);
  CHECK(strcmp(g.state, "failed") == 0 && g.has_best &&
        g.best_energy == -12.5 && g.started_ms == T0 + 40 &&
        g.finished_ms == T0 + 90);
  CHECK(g.result_json && strcmp(g.result_json, "{\"tour\":[0,1]}") == 0);
  CHECK(g.error && strcmp(g.error, "out of time") == 0);
  store_job_clear(&g);
  make_job(&j, "job_404", "acme", "running", T0);
  CHECK_EQ_INT(store_job_update(s, &j, err, sizeof err), STORE_NOTFOUND);
}

static void test_job_list(store *s)
{
  char err[ERRLEN];
  store_job *jobs = NULL;
  size_t n = 0;
  store_job_query q = { "acme", NULL, 3, 0 };
  int64_t count = 0;

  CHECK_EQ_INT(store_job_list(s, &q, &jobs, &n, err, sizeof err), STORE_OK);
  CHECK_EQ_INT(n, 3);
  if (n == 3)
    CHECK(strcmp(jobs[0].id, "job_6") == 0 &&
          strcmp(jobs[2].id, "job_4") == 0 && jobs[0].params_json == NULL);
  store_jobs_free(jobs, n);
  q.offset = 6;
  CHECK_EQ_INT(store_job_list(s, &q, &jobs, &n, err, sizeof err), STORE_OK);
  CHECK_EQ_INT(n, 1);
  if (n == 1)
    CHECK(strcmp(jobs[0].id, "job_0") == 0);
  store_jobs_free(jobs, n);

  q.state = "queued"; /* job_1, job_5 (job_3 failed above) */
  q.offset = 0;
  q.limit = 10;
  CHECK_EQ_INT(store_job_list(s, &q, &jobs, &n, err, sizeof err), STORE_OK);
  CHECK_EQ_INT(n, 2);
  if (n == 2)
    CHECK(strcmp(jobs[0].id, "job_5") == 0 && strcmp(jobs[1].id, "job_1") == 0);
  store_jobs_free(jobs, n);

  CHECK_EQ_INT(store_job_count(s, "acme", NULL, T0, T0 + 35, &count, err,
                               sizeof err), STORE_OK);
  CHECK_EQ_INT(count, 4);
  CHECK_EQ_INT(store_job_count(s, "acme", "succeeded", 0, T0 + 1000, &count,
                               err, sizeof err), STORE_OK);
  CHECK_EQ_INT(count, 4);
  CHECK_EQ_INT(store_job_count(s, "bigco", NULL, 0, T0 + 1000, &count, err,
                               sizeof err), STORE_OK);
  CHECK_EQ_INT(count, 1);
}

static void test_idempotency(store *s)
{
  char err[ERRLEN];
  store_job j, g;

  make_job(&j, "job_i1", "acme", "queued", T0 + 200);
  snprintf(j.idem_key, sizeof j.idem_key, "retry-1");
  snprintf(j.body_hash, sizeof j.body_hash, "h1");
  CHECK_EQ_INT(store_job_insert(s, &j, err, sizeof err), STORE_OK);
  make_job(&j, "job_i2", "acme", "queued", T0 + 201);
  snprintf(j.idem_key, sizeof j.idem_key, "retry-1");
  CHECK_EQ_INT(store_job_insert(s, &j, err, sizeof err), STORE_CONFLICT);
  make_job(&j, "job_i3", "bigco", "queued", T0 + 202); /* other account */
  snprintf(j.idem_key, sizeof j.idem_key, "retry-1");
  CHECK_EQ_INT(store_job_insert(s, &j, err, sizeof err), STORE_OK);

  CHECK_EQ_INT(store_job_find_idem(s, "acme", "retry-1", &g, err, sizeof err),
               STORE_OK);
  CHECK(strcmp(g.id, "job_i1") == 0 && strcmp(g.body_hash, "h1") == 0);
  store_job_clear(&g);
  CHECK_EQ_INT(store_job_find_idem(s, "acme", "retry-2", &g, err, sizeof err),
               STORE_NOTFOUND);
}

/* -------------------------------------------------------------------------- */

static void test_events(store *s)
{
  char err[ERRLEN];
  store_event *ev = NULL;
  size_t n = 0;
  int64_t seq = 0;

  for (int i = 1; i <= 5; i++) {
    CHECK_EQ_INT(store_event_append(s, "job_5", "progress", "{\"e\":1}",
                                    T0 + i, &seq, err, sizeof err), STORE_OK);
    CHECK_EQ_INT(seq, i);
  }
  CHECK_EQ_INT(store_event_append(s, "job_6", "state", NULL, T0, &seq, err,
                                  sizeof err), STORE_OK);
  CHECK_EQ_INT(seq, 1);
  CHECK_EQ_INT(store_event_append(s, "job_404", "state", "{}", T0, &seq,
                                  err, sizeof err), STORE_ERROR);
  CHECK_EQ_INT(store_event_list(s, "job_5", 2, 2, &ev, &n, err, sizeof err),
               STORE_OK);
  CHECK_EQ_INT(n, 2);
  if (n == 2)
    CHECK(ev[0].seq == 3 && ev[1].seq == 4 &&
          strcmp(ev[0].type, "progress") == 0 &&
          strcmp(ev[0].data_json, "{\"e\":1}") == 0 && ev[1].at_ms == T0 + 4);
  store_events_free(ev, n);
  CHECK_EQ_INT(store_event_list(s, "job_5", 5, 0, &ev, &n, err, sizeof err),
               STORE_OK);
  CHECK_EQ_INT(n, 0);
  store_events_free(ev, n);
}

static void test_usage(store *s)
{
  char err[ERRLEN];
  double sum = -1;

  CHECK_EQ_INT(store_usage_append(s, "acme", "job_1", STORE_USAGE_GPU, 1.5,
                                  T0 + 10, err, sizeof err), STORE_OK);
  CHECK_EQ_INT(store_usage_append(s, "acme", "job_2", STORE_USAGE_GPU, 2.25,
                                  T0 + 20, err, sizeof err), STORE_OK);
  CHECK_EQ_INT(store_usage_append(s, "acme", NULL, STORE_USAGE_CPU, 4.0,
                                  T0 + 20, err, sizeof err), STORE_OK);
  CHECK_EQ_INT(store_usage_append(s, "bigco", "job_other", STORE_USAGE_GPU,
                                  9.0, T0 + 20, err, sizeof err), STORE_OK);
  CHECK_EQ_INT(store_usage_append(s, "acme", NULL, STORE_USAGE_GPU, -1.0,
                                  T0, err, sizeof err), STORE_ERROR);
  /* A job is billed once. */
  CHECK_EQ_INT(store_usage_append(s, "acme", "job_1", STORE_USAGE_GPU, 1.5,
                                  T0 + 30, err, sizeof err), STORE_CONFLICT);
  CHECK_EQ_INT(store_usage_sum(s, "acme", STORE_USAGE_GPU, T0, T0 + 100,
                               &sum, err, sizeof err), STORE_OK);
  CHECK(sum == 3.75);
  CHECK_EQ_INT(store_usage_sum(s, "acme", STORE_USAGE_GPU, T0, T0 + 20,
                               &sum, err, sizeof err), STORE_OK);
  CHECK(sum == 1.5);
  CHECK_EQ_INT(store_usage_sum(s, "acme", STORE_USAGE_CPU, T0, T0 + 100,
                               &sum, err, sizeof err), STORE_OK);
  CHECK(sum == 4.0);
  CHECK_EQ_INT(store_usage_sum(s, "nobody", STORE_USAGE_GPU, 0, T0 + 100,
                               &sum, err, sizeof err), STORE_OK);
  CHECK(sum == 0.0);
}

/* -------------------------------------------------------------------------- */

static void test_persistence(const char *path)
{
  char err[ERRLEN];
  store *s = store_open_sqlite(path, err, sizeof err);
  store_job g;
  store_key k;
  int version = 0;
  double sum = 0;

  CHECK(s != NULL);
  if (!s)
    return;
  CHECK_EQ_INT(store_schema_version(s, &version, err, sizeof err), STORE_OK);
  CHECK_EQ_INT(version, 2);
  CHECK_EQ_INT(store_migrate(s, err, sizeof err), STORE_OK);
  CHECK_EQ_INT(store_job_get(s, "job_3", &g, err, sizeof err), STORE_OK);
  CHECK(strcmp(g.state, "failed") == 0 && g.best_energy == -12.5);
  store_job_clear(&g);
  CHECK_EQ_INT(store_key_find_hash(s, "bbbb", &k, err, sizeof err), STORE_OK);
  CHECK_EQ_INT(store_key_find_hash(s, "aaaa", &k, err, sizeof err),
               STORE_NOTFOUND);
  CHECK_EQ_INT(store_usage_sum(s, "acme", STORE_USAGE_GPU, 0, T0 + 100,
                               &sum, err, sizeof err), STORE_OK);
  CHECK(sum == 3.75);
  store_close(s);
}

typedef struct worker {
  store *s;
  int index;
  int failures;
} worker;

static void *worker_run(void *arg)
{
  worker *w = arg;
  char err[ERRLEN], id[32];
  store_job j;
  int64_t seq;

  for (int i = 0; i < PER_THREAD; i++) {
    snprintf(id, sizeof id, "t%d_%d", w->index, i);
    make_job(&j, id, "acme", "queued", T0 + 1000 + i);
    if (store_job_insert(w->s, &j, err, sizeof err) != STORE_OK ||
        store_event_append(w->s, "job_6", "tick", "{}", T0, &seq, err,
                           sizeof err) != STORE_OK)
      w->failures++;
  }
  return NULL;
}

static void test_threads(store *s)
{
  pthread_t th[NTHREADS];
  worker w[NTHREADS];
  char err[ERRLEN];
  store_event *ev = NULL;
  size_t n = 0;
  int64_t count = 0;

  for (int i = 0; i < NTHREADS; i++) {
    w[i] = (worker){ s, i, 0 };
    CHECK_EQ_INT(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
  }
  for (int i = 0; i < NTHREADS; i++) {
    pthread_join(th[i], NULL);
    CHECK_EQ_INT(w[i].failures, 0);
  }
  CHECK_EQ_INT(store_job_count(s, "acme", "queued", T0 + 1000, T0 + 2000,
                               &count, err, sizeof err), STORE_OK);
  CHECK_EQ_INT(count, NTHREADS * PER_THREAD);
  CHECK_EQ_INT(store_event_list(s, "job_6", 0, 0, &ev, &n, err, sizeof err),
               STORE_OK);
  CHECK_EQ_INT(n, 1 + NTHREADS * PER_THREAD); /* seqs unique, no gaps */
  if (n > 0)
    CHECK_EQ_INT(ev[n - 1].seq, (int64_t)n);
  store_events_free(ev, n);
}

static void test_broken_files(void)
{
  char path[1024], err[ERRLEN];
  FILE *f;
  store *s;

  temp_path(path, sizeof path, "corrupt.db");
  remove_db(path);
  f = fopen(path, "w");
  CHECK(f != NULL);
  if (f) {
    for (int i = 0; i < 512; i++)
      fputs("this is not a database, ", f);
    fclose(f);
  }
  s = store_open_sqlite(path, err, sizeof err);
  CHECK(s == NULL);
  if (!s)
    CHECK_CONTAINS(err, "not a database");
  store_close(s);

  s = store_open_sqlite("/nonexistent-dir/x/nerox.db", err, sizeof err);
  CHECK(s == NULL);
  if (!s)
    CHECK_CONTAINS(err, "/nonexistent-dir/x/nerox.db");
  store_close(s);
}

/* A read-only file is refused at open. Root writes through file modes, so
 * there the check cannot be made and is skipped with a note. */
static void test_read_only(void)
{
  char path[1024], err[ERRLEN];
  store *s = open_fresh(path, sizeof path, "readonly.db");

  store_close(s);
  if (geteuid() == 0) {
    printf("test_store: running as root, read-only file check skipped\n");
    return;
  }
  CHECK_EQ_INT(chmod(path, 0444), 0);
  s = store_open_sqlite(path, err, sizeof err);
  CHECK(s == NULL);
  if (!s)
    CHECK_CONTAINS(err, "read");
  store_close(s);
  chmod(path, 0644);
}

int main(void)
{
  char path[1024];
  store *s = open_fresh(path, sizeof path, "test_store.db");

  CHECK(s != NULL);
  if (!s)
    return test_report("test_store");
  test_accounts(s);
  test_keys(s);
  test_job_insert_get(s);
  test_job_list(s);
  test_idempotency(s);
  test_events(s);
  test_usage(s);
  store_close(s);
  test_persistence(path);
  s = store_open_sqlite(path, (char[ERRLEN]){ 0 }, ERRLEN);
  CHECK(s != NULL);
  if (s)
    test_threads(s);
  store_close(s);
  test_broken_files();
  test_read_only();
  return test_report("test_store");
}
