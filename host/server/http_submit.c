/* POST /v1/jobs (see http_internal.h): the body as JSON or as a TSPLIB
 * file with parameters in the query string, the Idempotency-Key and its
 * body hash, then srv_jobs_submit. */
#include "server/http_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/sha256.h"

/* Longest Idempotency-Key accepted. */
#define HTTP_IDEM_MAX (STORE_IDEM_MAX - 1)

/* The request body as a JSON object; 400 naming the position. */
static int http_body_json(http_ctx *x, json_t **out, srv_error *e)
{
  json_error_t je;
  *out = json_loadb(x->req->body ? x->req->body : "", x->req->len,
                    JSON_REJECT_DUPLICATES, &je);
  if (!*out)
    return srv_fail(e, 400, "malformed JSON at line %d, column %d: %s",
                    je.line, je.column, je.text);
  if (!json_is_object(*out)) {
    json_decref(*out);
    *out = NULL;
    return srv_fail(e, 400, "expected a JSON object {\"problem_type\": "
                    "..., ...}");
  }
  return 0;
}

/* Whether the request's Content-Type is one of the TSPLIB text types. */
static int http_is_tsplib(http_ctx *x)
{
  const char *ct = http_header(x, MHD_HTTP_HEADER_CONTENT_TYPE);
  static const char *const types[] = { "text/plain", "application/x-tsplib",
                                       "chemical/x-tsplib" };
  for (size_t i = 0; ct && i < sizeof types / sizeof *types; i++) {
    size_t n = strlen(types[i]);
    if (strncasecmp(ct, types[i], n) == 0 &&
        (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
      return 1;
  }
  return 0;
}

/* Whether v is a decimal number as JSON writes one (no hex, no inf or
 * nan, no spaces). */
static int http_is_decimal(const char *v)
{
  const char *p = v + (*v == '-');
  if (!(*p >= '0' && *p <= '9'))
    return 0;
  for (; *p; p++)
    if (!strchr("0123456789.eE+-", *p))
      return 0;
  return 1;
}

/* A query value as JSON: an integer, a finite number, true/false, or
 * text; NULL when it is a number out of range. */
static json_t *http_query_value(const char *v)
{
  if (http_is_decimal(v)) {
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (!*end && errno == 0)
      return json_integer(n);
    errno = 0;
    double d = strtod(v, &end);
    if (!*end && errno == 0 && isfinite(d))
      return json_real(d);
    return NULL;
  }
  if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
    return json_boolean(v[0] == 't');
  return json_string(v);
}

/* Collects query arguments into a submission; the first bad one stops. */
typedef struct http_query_acc {
  json_t *sub;
  srv_error *e;
  int failed;
} http_query_acc;

static enum MHD_Result http_add_query(void *cls, enum MHD_ValueKind kind,
                                      const char *key, size_t key_size,
                                      const char *value, size_t value_size)
{
  (void)kind;
  http_query_acc *acc = cls;
  const char *why = NULL;
  json_t *v = NULL;
  if (strlen(key) != key_size || (value && strlen(value) != value_size))
    why = "contains a NUL byte";
  else if (json_object_get(acc->sub, key))
    why = "is given twice";
  else if (!(v = http_query_value(value ? value : "")))
    why = "is not a finite number";
  if (!why && json_object_set_new(acc->sub, key, v) == 0)
    return MHD_YES;
  if (!why)
    srv_fail(acc->e, 500, "out of memory");
  else
    srv_fail(acc->e, 400, "query argument '%.64s' %s", key, why);
  snprintf(acc->e->field, sizeof acc->e->field, "%.64s", key);
  acc->failed = 1;
  return MHD_NO;
}

/* A TSPLIB file body as a tsp submission; job parameters come from the
 * query string (?solver=gpu&time_limit=30). */
static int http_body_tsplib(http_ctx *x, json_t **out, srv_error *e)
{
  json_t *text = json_stringn(x->req->body ? x->req->body : "",
                              x->req->len);
  if (!text)
    return srv_fail(e, 400, "the TSPLIB body is not UTF-8 text");
  json_t *sub = json_object();
  if (!sub || json_object_set_new(sub, "tsplib_text", text) != 0) {
    json_decref(sub);
    return srv_fail(e, 500, "out of memory");
  }
  http_query_acc acc = { sub, e, 0 };
  MHD_get_connection_values_n(x->c, MHD_GET_ARGUMENT_KIND, http_add_query,
                              &acc);
  if (acc.failed) {
    json_decref(sub);
    return -1;
  }
  json_t *type = json_object_get(sub, "problem_type");
  if (type && !(json_is_string(type) &&
                strcmp(json_string_value(type), "tsp") == 0)) {
    json_decref(sub);
    srv_fail(e, 400, "problem_type: a TSPLIB body is a tsp problem; send "
             "other problem types as JSON");
    snprintf(e->field, sizeof e->field, "problem_type");
    return -1;
  }
  if (!type)
    json_object_set_new(sub, "problem_type", json_string("tsp"));
  *out = sub;
  return 0;
}

/* The Idempotency-Key header: 0 with *key (NULL when absent), or 400. */
static int http_idem_key(http_ctx *x, const char **key, srv_error *e)
{
  *key = http_header(x, "Idempotency-Key");
  if (!*key)
    return 0;
  size_t n = strlen(*key);
  int ok = n >= 1 && n <= HTTP_IDEM_MAX;
  for (size_t i = 0; ok && i < n; i++)
    ok = (*key)[i] >= 0x21 && (*key)[i] <= 0x7e;
  if (ok)
    return 0;
  srv_fail(e, 400, "Idempotency-Key: expected 1 to %d printable ASCII "
           "characters without spaces", HTTP_IDEM_MAX);
  snprintf(e->field, sizeof e->field, "Idempotency-Key");
  return -1;
}

/* SHA-256 hex of the submission in a canonical form (sorted keys). */
static int http_body_hash(json_t *sub, char out[STORE_HASH_MAX],
                          srv_error *e)
{
  char *text = json_dumps(sub, JSON_COMPACT | JSON_SORT_KEYS);
  if (!text)
    return srv_fail(e, 500, "out of memory");
  sha256_ctx c;
  uint8_t d[SHA256_DIGEST_LEN];
  sha256_init(&c);
  sha256_update(&c, text, strlen(text));
  sha256_final(&c, d);
  free(text);
  for (int i = 0; i < SHA256_DIGEST_LEN; i++)
    snprintf(out + 2 * i, 3, "%02x", d[i]);
  return 0;
}

int http_submit(http_ctx *x, http_reply *r, srv_error *e)
{
  json_t *sub;
  const char *idem;
  char hash[STORE_HASH_MAX] = "";
  if (atomic_load(&x->h->draining))
    return srv_fail(e, 503, "the server is shutting down and accepts no "
                    "new jobs; submit again in a moment");
  if (http_idem_key(x, &idem, e) != 0)
    return -1;
  int rc = http_is_tsplib(x) ? http_body_tsplib(x, &sub, e)
                             : http_body_json(x, &sub, e);
  if (rc != 0)
    return -1;
  if (idem && http_body_hash(sub, hash, e) != 0) {
    json_decref(sub);
    return -1;
  }
  srv_submit_req rq = { x->who.account, &x->limits, idem, hash };
  rc = srv_jobs_submit(x->h->jobs, &rq, sub, &r->json, &r->replayed, e);
  json_decref(sub);
  r->status = r->replayed ? MHD_HTTP_OK : MHD_HTTP_ACCEPTED;
  return rc;
}

/* GET /metrics: Prometheus text. */
