/* Errors of the HTTP service: an HTTP status, a type for the JSON error
 * body and a message (and, for bad input, the field at fault). Every
 * layer fills one of these; http.c alone turns it into a response. */
#ifndef NEROX_SRV_ERROR_H
#define NEROX_SRV_ERROR_H

#include <stdint.h>

#include <stddef.h>

#define SRV_ERROR_TYPE_MAX 32
#define SRV_ERROR_MSG_MAX 512
#define SRV_ERROR_FIELD_MAX 128

/* A rate limit an answer reports on (X-RateLimit-* headers). */
typedef struct srv_rate {
  const char *limit;     /* "requests_per_minute", ...; NULL: none */
  int64_t max;           /* the limit */
  int64_t remaining;
  int64_t reset_s;       /* Unix seconds */
  int64_t retry_after_s; /* 429 only: >= 1 */
} srv_rate;

typedef struct srv_error {
  int status;                       /* 400, 401, ..., 500 */
  char type[SRV_ERROR_TYPE_MAX];    /* "invalid_request", ... */
  char message[SRV_ERROR_MSG_MAX];
  char field[SRV_ERROR_FIELD_MAX];  /* empty: none */
  srv_rate rate;                    /* 429: the limit that was hit */
} srv_error;

/* Fills e with status, the status's default type and a formatted
 * message; returns -1 so callers can `return srv_fail(...)`. */
int srv_fail(srv_error *e, int status, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* A 429 for the limit in rate (copied into e); returns -1. */
int srv_fail_rate(srv_error *e, const srv_rate *rate, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* The default error type of an HTTP status ("not_found" for 404). */
const char *srv_error_type(int status);

#endif
