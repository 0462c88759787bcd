/* The configuration file of `nerox serve` (see config.h): read whole,
 * parsed by jansson (duplicate keys refused), then checked key by key so
 * that each message names the file and the field path. */
#include "server/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/stat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* Largest configuration file read. */
#define CONFIG_FILE_MAX ((size_t)1 << 20)
#define CONFIG_PATH_MAX 128

static const char *const config_keys =
  "listen, db, max_body, grace_s, sse_heartbeat_s, keep_finished_s, plans";

/* What a field check reports: the file's name, the error buffer. */
typedef struct config_ctx {
  const char *name;
  char *err;
  size_t errlen;
} config_ctx;

static int config_fail(const config_ctx *x, const char *path,
                       const char *what)
{
  snprintf(x->err, x->errlen, "%s: %s: %s", x->name, path, what);
  return -1;
}

static int config_expect(const config_ctx *x, const char *path,
                         const char *expect)
{
  char what[128];

  snprintf(what, sizeof what, "expected %s", expect);
  return config_fail(x, path, what);
}

static int config_unknown_key(const config_ctx *x, const char *path,
                              const char *key, const char *known)
{
  if (path)
    snprintf(x->err, x->errlen, "%s: %s: unknown key '%s' (known: %s)",
             x->name, path, key, known);
  else
    snprintf(x->err, x->errlen, "%s: unknown key '%s' (known: %s)",
             x->name, key, known);
  return -1;
}

int config_parse_listen(const char *s, char *addr, size_t cap,
                        unsigned *port)
{
  const char *colon = strrchr(s, ':');
  char *end;
  unsigned long p;

  if (!colon || colon == s || (size_t)(colon - s) >= cap)
    return -1;
  char ip[INET_ADDRSTRLEN + 1];
  struct in_addr in;
  if ((size_t)(colon - s) >= sizeof ip)
    return -1;
  memcpy(ip, s, (size_t)(colon - s));
  ip[colon - s] = '\0';
  if (inet_pton(AF_INET, ip, &in) != 1) /* an IPv4 address, not a name */
    return -1;
  errno = 0;
  p = strtoul(colon + 1, &end, 10);
  if (errno || end == colon + 1 || *end || p > 65535 || colon[1] == '-' ||
      colon[1] == '+' || colon[1] == ' ')
    return -1;
  memcpy(addr, s, (size_t)(colon - s));
  addr[colon - s] = '\0';
  *port = (unsigned)p;
  return 0;
}

/* A JSON number as a double, integers included; -1 when v is none. */
static int config_number(const json_t *v, double *out)
{
  if (!json_is_number(v))
    return -1;
  *out = json_number_value(v);
  return isfinite(*out) ? 0 : -1;
}

/* ---- plans --------------------------------------------------------------- */

/* Reads one number of a plan into l; path names it in messages. */
static int config_plan_field(const config_ctx *x, const char *path,
                             unsigned bit, const json_t *v,
                             plans_limits *l)
{
  char err[128];
  json_int_t n = json_integer_value(v);

  if (bit == PLANS_SET_OVERAGE) {
    if (config_number(v, &l->overage_usd_per_gpu_hour) != 0)
      return config_expect(x, path, plans_field_expect(bit));
  } else if (bit == PLANS_SET_JOBS_PER_MONTH) {
    if (!json_is_null(v) && (!json_is_integer(v) || n < 1))
      return config_expect(x, path, "an integer >= 1 or null (unlimited)");
    l->jobs_per_month = json_is_null(v) ? PLANS_UNLIMITED : n;
  } else {
    if (!json_is_integer(v))
      return config_expect(x, path, plans_field_expect(bit));
    if (bit == PLANS_SET_REQUESTS_PER_MINUTE)
      l->requests_per_minute = n;
    else if (bit == PLANS_SET_CONCURRENT_JOBS)
      l->concurrent_jobs = n;
    else
      l->included_gpu_seconds = n;
  }
  if (plans_check(l, bit, err, sizeof err) != 0)
    return config_expect(x, path, plans_field_expect(bit));
  return 0;
}

static int config_read_plan(const config_ctx *x, const char *name,
                            const json_t *obj, config_plan *p)
{
  char path[CONFIG_PATH_MAX], fpath[CONFIG_PATH_MAX + 32];
  const char *key;
  json_t *v;

  snprintf(path, sizeof path, "plans.%s", name);
  if (!json_is_object(obj))
    return config_expect(x, path, "an object of numbers");
  snprintf(p->name, sizeof p->name, "%s", name);
  json_object_foreach((json_t *)obj, key, v) {
    unsigned bit = plans_field_bit(key);
    if (!bit)
      return config_unknown_key(x, path, key, plans_field_names());
    snprintf(fpath, sizeof fpath, "%s.%s", path, key);
    if (config_plan_field(x, fpath, bit, v, &p->limits) != 0)
      return -1;
    p->mask |= bit;
  }
  return 0;
}

static int config_plans(const config_ctx *x, const json_t *obj, config *c)
{
  char err[256], what[300];
  const char *name;
  json_t *v;

  if (!json_is_object(obj))
    return config_expect(x, "plans", "an object of plans");
  json_object_foreach((json_t *)obj, name, v) {
    if (!plans_find(name, err, sizeof err)) {
      snprintf(what, sizeof what, "%s", err);
      return config_fail(x, "plans", what);
    }
    if (c->nplans >= CONFIG_PLANS_MAX)
      return config_fail(x, "plans", "too many plans");
    if (config_read_plan(x, name, v, &c->plans[c->nplans]) != 0)
      return -1;
    c->nplans++;
  }
  return 0;
}

/* ---- settings ------------------------------------------------------------ */

static int config_listen(const config_ctx *x, const json_t *v, config *c)
{
  const char *s = json_string_value(v);

  if (!s || config_parse_listen(s, c->addr, sizeof c->addr, &c->port))
    return config_expect(x, "listen",
                         "a string \"IPV4-ADDRESS:PORT\"");
  return 0;
}

static int config_db(const config_ctx *x, const json_t *v, config *c)
{
  const char *s = json_string_value(v);

  if (!s || !*s)
    return config_expect(x, "db", "a non-empty string (a file path)");
  if (!(c->db = strdup(s)))
    return config_fail(x, "db", "out of memory");
  return 0;
}

static int config_max_body(const config_ctx *x, const json_t *v, config *c)
{
  if (!json_is_integer(v) || json_integer_value(v) < 1)
    return config_expect(x, "max_body", "an integer >= 1 (bytes)");
  c->max_body = (size_t)json_integer_value(v);
  return 0;
}

/* A number of seconds in [lo, hi]; lo_open: lo itself refused. */
static int config_seconds(const config_ctx *x, const char *key,
                          const json_t *v, double lo, int lo_open,
                          double hi, double *out)
{
  char expect[96];
  double d;

  if (config_number(v, &d) != 0 || d < lo || (lo_open && d == lo) ||
      d > hi) {
    snprintf(expect, sizeof expect, "a number of seconds %s %g and <= %g",
             lo_open ? ">" : ">=", lo, hi);
    return config_expect(x, key, expect);
  }
  *out = d;
  return 0;
}

static int config_key(const config_ctx *x, const char *key, const json_t *v,
                      config *c)
{
  unsigned bit;
  int rc;

  if (strcmp(key, "plans") == 0)
    return config_plans(x, v, c);
  if (strcmp(key, "listen") == 0) {
    bit = CONFIG_SET_LISTEN;
    rc = config_listen(x, v, c);
  } else if (strcmp(key, "db") == 0) {
    bit = CONFIG_SET_DB;
    rc = config_db(x, v, c);
  } else if (strcmp(key, "max_body") == 0) {
    bit = CONFIG_SET_MAX_BODY;
    rc = config_max_body(x, v, c);
  } else if (strcmp(key, "grace_s") == 0) {
    bit = CONFIG_SET_GRACE;
    rc = config_seconds(x, key, v, 0, 0, CONFIG_MAX_GRACE_S, &c->grace_s);
  } else if (strcmp(key, "sse_heartbeat_s") == 0) {
    bit = CONFIG_SET_SSE_HEARTBEAT;
    rc = config_seconds(x, key, v, 0, 1, CONFIG_MAX_SSE_HEARTBEAT_S,
                        &c->sse_heartbeat_s);
  } else if (strcmp(key, "keep_finished_s") == 0) {
    bit = CONFIG_SET_KEEP_FINISHED;
    rc = config_seconds(x, key, v, 0, 0, CONFIG_MAX_KEEP_FINISHED_S,
                        &c->keep_finished_s);
  } else {
    return config_unknown_key(x, NULL, key, config_keys);
  }
  if (rc == 0)
    c->set |= bit;
  return rc;
}

/* Parses len bytes of text (NUL bytes are malformed JSON) and checks
 * every key. */
static int config_load_buf(const char *text, size_t len, const char *name,
                           config *c, char *err, size_t errlen)
{
  config_ctx x = { name, err, errlen };
  json_error_t jerr;
  const char *key;
  json_t *root, *v;
  int rc = 0;

  memset(c, 0, sizeof *c);
  root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!root) {
    snprintf(err, errlen, "%s:%d:%d: %s", name, jerr.line, jerr.column,
             jerr.text);
    return -1;
  }
  if (!json_is_object(root)) {
    snprintf(err, errlen, "%s: expected a JSON object at the top level",
             name);
    json_decref(root);
    return -1;
  }
  json_object_foreach(root, key, v) {
    if ((rc = config_key(&x, key, v, c)) != 0)
      break;
  }
  json_decref(root);
  return rc;
}

int config_load_string(const char *text, const char *name, config *c,
                       char *err, size_t errlen)
{
  return config_load_buf(text, strlen(text), name, c, err, errlen);
}

/* Reads the whole file into a NUL-terminated buffer of *len bytes (free
 * it); NULL with a message naming the file. */
static char *config_read(const char *path, size_t *len, char *err,
                         size_t errlen)
{
  struct stat sb;
  if (stat(path, &sb) != 0) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return NULL;
  }
  if (!S_ISREG(sb.st_mode)) {
    snprintf(err, errlen, "%s: not a regular file", path);
    return NULL;
  }
  FILE *f = fopen(path, "rb");
  char *buf;
  size_t n;

  if (!f) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return NULL;
  }
  if (!(buf = malloc(CONFIG_FILE_MAX + 1))) {
    snprintf(err, errlen, "%s: out of memory", path);
    fclose(f);
    return NULL;
  }
  n = fread(buf, 1, CONFIG_FILE_MAX + 1, f);
  if (ferror(f) || n > CONFIG_FILE_MAX) {
    if (ferror(f))
      snprintf(err, errlen, "%s: cannot read the file", path);
    else
      snprintf(err, errlen, "%s: larger than %zu bytes", path,
               CONFIG_FILE_MAX);
    free(buf);
    buf = NULL;
  } else {
    buf[n] = '\0';
    *len = n;
  }
  fclose(f);
  return buf;
}

int config_load_file(const char *path, config *c, char *err, size_t errlen)
{
  size_t len;
  char *text;
  int rc;

  memset(c, 0, sizeof *c);
  if (!(text = config_read(path, &len, err, errlen)))
    return -1;
  rc = config_load_buf(text, len, path, c, err, errlen);
  free(text);
  return rc;
}

void config_clear(config *c)
{
  free(c->db);
  memset(c, 0, sizeof *c);
}

int config_apply_plans(const config *c, char *err, size_t errlen)
{
  char why[256];

  for (size_t i = 0; i < c->nplans; i++) {
    const config_plan *p = &c->plans[i];
    if (plans_override(p->name, &p->limits, p->mask, why,
                       sizeof why) != 0) {
      snprintf(err, errlen, "plans.%s: %s", p->name, why);
      return -1;
    }
  }
  return 0;
}
