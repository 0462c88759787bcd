/* Tests of the configuration file of `nerox serve` (server/config.h):
 * every key read, flags of presence, plan overrides applied to the plans
 * table, and each kind of bad file refused with its place named; and of
 * the plans' override and limits-list functions (server/plans.h). */
#include "server/config.h"
#include "server/plans.h"
#include "testutil.h"

#include <unistd.h>

#define ERRLEN 512

/* Loads text as "t.json"; returns the rc and leaves the message in err. */
static int load(const char *text, config *c, char *err)
{
  err[0] = '\0';
  return config_load_string(text, "t.json", c, err, ERRLEN);
}

static void test_full(void)
{
  char err[ERRLEN];
  config c;

  CHECK_EQ_INT(load("{\"listen\": \"0.0.0.0:9000\", \"db\": \"/tmp/x.db\","
                    " \"max_body\": 4096, \"grace_s\": 2.5,"
                    " \"sse_heartbeat_s\": 1, \"keep_finished_s\": 0,"
                    " \"plans\": {\"pro\": {\"requests_per_minute\": 120,"
                    " \"jobs_per_month\": null},"
                    " \"starter\": {\"overage_usd_per_gpu_hour\": 1.25}}}",
                    &c, err), 0);
  CHECK_EQ_INT(c.set, CONFIG_SET_LISTEN | CONFIG_SET_DB |
               CONFIG_SET_MAX_BODY | CONFIG_SET_GRACE |
               CONFIG_SET_SSE_HEARTBEAT | CONFIG_SET_KEEP_FINISHED);
  CHECK(c.keep_finished_s == 0.0);
  CHECK(strcmp(c.addr, "0.0.0.0") == 0);
  CHECK_EQ_INT(c.port, 9000);
  CHECK(c.db && strcmp(c.db, "/tmp/x.db") == 0);
  CHECK_EQ_INT(c.max_body, 4096);
  CHECK(c.grace_s == 2.5);
  CHECK(c.sse_heartbeat_s == 1.0);
  CHECK_EQ_INT(c.nplans, 2);
  CHECK(strcmp(c.plans[0].name, "pro") == 0);
  CHECK_EQ_INT(c.plans[0].mask, PLANS_SET_REQUESTS_PER_MINUTE |
               PLANS_SET_JOBS_PER_MONTH);
  CHECK_EQ_INT(c.plans[0].limits.requests_per_minute, 120);
  CHECK_EQ_INT(c.plans[0].limits.jobs_per_month, PLANS_UNLIMITED);
  CHECK_EQ_INT(c.plans[1].mask, PLANS_SET_OVERAGE);

  /* Applied: the named numbers change, the others stay. */
  CHECK_EQ_INT(config_apply_plans(&c, err, ERRLEN), 0);
  const plans_plan *pro = plans_find("pro", err, ERRLEN);
  CHECK(pro != NULL);
  if (pro) {
    CHECK_EQ_INT(pro->limits.requests_per_minute, 120);
    CHECK_EQ_INT(pro->limits.jobs_per_month, PLANS_UNLIMITED);
    CHECK_EQ_INT(pro->limits.concurrent_jobs, 5);
  }
  const plans_plan *st = plans_find("starter", err, ERRLEN);
  CHECK(st && st->limits.overage_usd_per_gpu_hour == 1.25);
  CHECK(st && st->limits.concurrent_jobs == 1);
  plans_reset();
  CHECK(pro && pro->limits.requests_per_minute == 60);
  CHECK(pro && pro->limits.jobs_per_month == 2000);
  config_clear(&c);
  CHECK(c.db == NULL);

  /* An empty object sets nothing. */
  CHECK_EQ_INT(load("{}", &c, err), 0);
  CHECK_EQ_INT(c.set, 0);
  CHECK_EQ_INT(c.nplans, 0);
  config_clear(&c);
}

/* Each bad text fails with a message containing want. */
static void check_bad(const char *text, const char *want)
{
  char err[ERRLEN];
  config c;

  CHECK_EQ_INT(load(text, &c, err), -1);
  CHECK_CONTAINS(err, want);
  config_clear(&c);
}

static void test_bad(void)
{
  check_bad("{\"listen\": \"x:1\",\n \"db\": }",
            "t.json:2:8: unexpected token");
  check_bad("{\"a\": 1", "t.json:1:");
  check_bad("", "t.json:");
  check_bad("[1, 2]", "t.json: expected a JSON object at the top level");
  check_bad("{\"db\": \"a\", \"db\": \"b\"}", "duplicate");
  check_bad("{\"port\": 80}", "t.json: unknown key 'port' (known: listen,");
  check_bad("{\"listen\": 8080}", "t.json: listen: expected a string");
  check_bad("{\"listen\": \"127.0.0.1:70000\"}", "listen: expected");
  check_bad("{\"listen\": \"nocolon\"}", "listen: expected");
  check_bad("{\"db\": \"\"}", "db: expected a non-empty string");
  check_bad("{\"max_body\": \"1k\"}", "max_body: expected an integer >= 1");
  check_bad("{\"max_body\": 0}", "max_body: expected an integer >= 1");
  check_bad("{\"max_body\": 1.5}", "max_body: expected an integer >= 1");
  check_bad("{\"grace_s\": -1}", "grace_s: expected a number of seconds");
  check_bad("{\"grace_s\": true}", "grace_s: expected");
  check_bad("{\"sse_heartbeat_s\": 0}", "sse_heartbeat_s: expected");
  check_bad("{\"keep_finished_s\": -1}", "keep_finished_s: expected");
  check_bad("{\"plans\": []}", "t.json: plans: expected an object");
  check_bad("{\"plans\": {\"gold\": {}}}",
            "t.json: plans: unknown plan 'gold' (known: starter, pro, "
            "business, enterprise)");
  check_bad("{\"plans\": {\"pro\": 5}}", "plans.pro: expected an object");
  check_bad("{\"plans\": {\"pro\": {\"requests_per_minute\": 0}}}",
            "t.json: plans.pro.requests_per_minute: expected an integer "
            ">= 1");
  check_bad("{\"plans\": {\"pro\": {\"concurrent_jobs\": \"5\"}}}",
            "plans.pro.concurrent_jobs: expected an integer >= 1");
  check_bad("{\"plans\": {\"pro\": {\"jobs_per_month\": -1}}}",
            "plans.pro.jobs_per_month: expected an integer >= 1 or null");
  check_bad("{\"plans\": {\"pro\": {\"jobs_per_month\": 2.5}}}",
            "plans.pro.jobs_per_month: expected");
  check_bad("{\"plans\": {\"pro\": {\"included_gpu_seconds\": -5}}}",
            "plans.pro.included_gpu_seconds: expected an integer >= 0");
  check_bad("{\"plans\": {\"pro\": {\"overage_usd_per_gpu_hour\": \"1\"}}}",
            "plans.pro.overage_usd_per_gpu_hour: expected a number >= 0");
  check_bad("{\"plans\": {\"business\": {\"rpm\": 1}}}",
            "t.json: plans.business: unknown key 'rpm' (known: "
            "jobs_per_month,");
}

static void test_file(void)
{
  char path[] = "/tmp/nerox-test-config-XXXXXX", err[ERRLEN];
  const char *text = "{\n  \"max_body\": 10,\n  \"grace_s\": 1,,\n}\n";
  config c;
  int fd = mkstemp(path);

  CHECK(fd >= 0);
  if (fd < 0)
    return;
  CHECK_EQ_INT(write(fd, text, strlen(text)), (long long)strlen(text));
  close(fd);
  CHECK_EQ_INT(config_load_file(path, &c, err, ERRLEN), -1);
  CHECK(strncmp(err, path, strlen(path)) == 0);
  CHECK_CONTAINS(err, ":3:");
  config_clear(&c);
  unlink(path);
  CHECK_EQ_INT(config_load_file(path, &c, err, ERRLEN), -1);
  CHECK_CONTAINS(err, path);
  CHECK_CONTAINS(err, "No such file");
  config_clear(&c);
}

static void test_listen(void)
{
  char addr[CONFIG_ADDR_MAX];
  unsigned port = 1;

  CHECK_EQ_INT(config_parse_listen("127.0.0.1:0", addr, sizeof addr, &port),
               0);
  CHECK(strcmp(addr, "127.0.0.1") == 0);
  CHECK_EQ_INT(port, 0);
  CHECK_EQ_INT(config_parse_listen(":80", addr, sizeof addr, &port), -1);
  CHECK_EQ_INT(config_parse_listen("a:", addr, sizeof addr, &port), -1);
  CHECK_EQ_INT(config_parse_listen("a:-1", addr, sizeof addr, &port), -1);
  CHECK_EQ_INT(config_parse_listen("a:65536", addr, sizeof addr, &port), -1);
}

static void test_plans_override(void)
{
  char err[ERRLEN];
  plans_limits l = { 0, 0, 0, 0, 0 };

  l.concurrent_jobs = 3;
  CHECK_EQ_INT(plans_override("starter", &l, PLANS_SET_CONCURRENT_JOBS, err,
                              ERRLEN), 0);
  CHECK_EQ_INT(plans_find("starter", err, ERRLEN)->limits.concurrent_jobs,
               3);
  CHECK_EQ_INT(plans_find("starter", err, ERRLEN)->limits.jobs_per_month,
               20);
  CHECK_EQ_INT(plans_override("gold", &l, PLANS_SET_CONCURRENT_JOBS, err,
                              ERRLEN), -1);
  CHECK_CONTAINS(err, "unknown plan 'gold'");
  l.concurrent_jobs = 0;
  CHECK_EQ_INT(plans_override("starter", &l, PLANS_SET_CONCURRENT_JOBS, err,
                              ERRLEN), -1);
  CHECK_CONTAINS(err, "concurrent_jobs: expected an integer >= 1");
  CHECK_EQ_INT(plans_find("starter", err, ERRLEN)->limits.concurrent_jobs,
               3);
  plans_reset();
  CHECK_EQ_INT(plans_find("starter", err, ERRLEN)->limits.concurrent_jobs,
               1);
}

static void check_bad_list(const char *list, const char *want)
{
  char err[ERRLEN] = "";
  plans_limits l;
  unsigned mask;

  CHECK_EQ_INT(plans_parse_limits(list, &l, &mask, err, ERRLEN), -1);
  CHECK_CONTAINS(err, want);
}

static void test_limits_list(void)
{
  char err[ERRLEN], buf[256];
  plans_limits l = plans_find("pro", err, ERRLEN)->limits;
  unsigned mask = 0;

  CHECK_EQ_INT(plans_parse_limits("requests_per_minute=100,jobs_per_month="
                                  "unlimited,overage_usd_per_gpu_hour=1.5",
                                  &l, &mask, err, ERRLEN), 0);
  CHECK_EQ_INT(mask, PLANS_SET_REQUESTS_PER_MINUTE |
               PLANS_SET_JOBS_PER_MONTH | PLANS_SET_OVERAGE);
  CHECK_EQ_INT(l.requests_per_minute, 100);
  CHECK_EQ_INT(l.jobs_per_month, PLANS_UNLIMITED);
  CHECK(l.overage_usd_per_gpu_hour == 1.5);
  CHECK_EQ_INT(l.concurrent_jobs, 5);
  plans_format_limits(&l, buf, sizeof buf);
  CHECK(strcmp(buf, "jobs_per_month=unlimited,requests_per_minute=100,"
                    "concurrent_jobs=5,included_gpu_seconds=72000,"
                    "overage_usd_per_gpu_hour=1.5") == 0);

  /* The formatted list reads back to the same numbers. */
  plans_limits back = { 0, 0, 0, 0, 0 };
  CHECK_EQ_INT(plans_parse_limits(buf, &back, &mask, err, ERRLEN), 0);
  CHECK_EQ_INT(mask, PLANS_SET_ALL);
  CHECK(memcmp(&back, &l, sizeof l) == 0);

  check_bad_list("", "empty list");
  check_bad_list("rpm=5", "'rpm=5': unknown limit 'rpm' (known:");
  check_bad_list("concurrent_jobs", "'concurrent_jobs': expected NAME=VALUE");
  check_bad_list("concurrent_jobs=0",
                 "'concurrent_jobs=0': concurrent_jobs: expected an "
                 "integer >= 1");
  check_bad_list("concurrent_jobs=2,concurrent_jobs=3", "given twice");
  check_bad_list("jobs_per_month=-1", "jobs_per_month: expected");
  check_bad_list("requests_per_minute=10x", "requests_per_minute: expected");
  check_bad_list("overage_usd_per_gpu_hour=nan", "expected a number >= 0");
  check_bad_list("included_gpu_seconds=5,", "'': expected NAME=VALUE");
}

int main(void)
{
  test_full();
  test_bad();
  test_file();
  test_listen();
  test_plans_override();
  test_limits_list();
  return test_report("test_config");
}
