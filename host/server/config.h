/* The configuration file of `nerox serve` (`--config FILE`): one JSON
 * object, parsed with jansson, whose keys are the server's settings and
 * overrides of the plans' numbers:
 *
 *   {"listen": "127.0.0.1:8080", "db": "nerox.db", "max_body": 67108864,
 *    "grace_s": 30, "sse_heartbeat_s": 15,
 *    "plans": {"pro": {"requests_per_minute": 120, "jobs_per_month": null}}}
 *
 * Every key is optional; unknown keys, duplicate keys and values of the
 * wrong type or range are refused with a message naming the file and the
 * place (line and column for malformed JSON, the field path otherwise).
 * Command-line flags win over the file (host/cli/serve_cmd.c). */
#ifndef NEROX_CONFIG_H
#define NEROX_CONFIG_H

#include <stddef.h>

#include "server/plans.h"

#define CONFIG_ADDR_MAX 64
/* Seconds SIGTERM waits for running jobs before cancelling them. */
#define CONFIG_DEFAULT_GRACE_S 30.0
/* Longest grace accepted: a day. */
#define CONFIG_MAX_GRACE_S 86400.0
/* Longest SSE heartbeat interval accepted: an hour. */
#define CONFIG_MAX_SSE_HEARTBEAT_S 3600.0
/* The most seconds a finished job may stay in memory (keep_finished_s). */
#define CONFIG_MAX_KEEP_FINISHED_S 86400.0
/* Plans the file may override: one entry per built-in plan at most. */
#define CONFIG_PLANS_MAX 8

/* Which settings a config holds, as bits of config.set. */
enum {
  CONFIG_SET_LISTEN = 1u << 0,
  CONFIG_SET_DB = 1u << 1,
  CONFIG_SET_MAX_BODY = 1u << 2,
  CONFIG_SET_GRACE = 1u << 3,
  CONFIG_SET_SSE_HEARTBEAT = 1u << 4,
  CONFIG_SET_KEEP_FINISHED = 1u << 5
};

/* One plan's overrides: the numbers that mask (PLANS_SET_*) selects. */
typedef struct config_plan {
  char name[PLANS_NAME_MAX];
  unsigned mask;
  plans_limits limits;
} config_plan;

typedef struct config {
  unsigned set; /* CONFIG_SET_*: the settings given */
  char addr[CONFIG_ADDR_MAX];
  unsigned port;
  char *db; /* owned; NULL unless CONFIG_SET_DB */
  size_t max_body;
  double grace_s;
  double sse_heartbeat_s;
  double keep_finished_s;
  size_t nplans;
  config_plan plans[CONFIG_PLANS_MAX];
} config;

/* Reads and checks the file at path into *c (zeroed first). 0, or -1
 * with a message that starts with path: "PATH:LINE:COLUMN: ..." for
 * malformed JSON, "PATH: plans.pro.concurrent_jobs: expected ..." for a
 * bad value. config_clear the result either way. */
int config_load_file(const char *path, config *c, char *err, size_t errlen);
/* The same from text in memory; name stands for the path in messages. */
int config_load_string(const char *text, const char *name, config *c,
                       char *err, size_t errlen);
void config_clear(config *c);

/* Applies the plan overrides to the plans table (plans_override); call
 * once at startup, before any thread reads the table. */
int config_apply_plans(const config *c, char *err, size_t errlen);

/* Parses "ADDR:PORT" (port 0 to 65535) into addr and *port; -1 when
 * malformed. */
int config_parse_listen(const char *s, char *addr, size_t cap,
                        unsigned *port);

#endif
