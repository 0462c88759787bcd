/* Errors of the HTTP service (see srv_error.h). */
#include "server/srv_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *srv_error_type(int status)
{
  switch (status) {
  case 400: return "invalid_request";
  case 401: return "unauthorized";
  case 403: return "forbidden";
  case 404: return "not_found";
  case 405: return "method_not_allowed";
  case 409: return "conflict";
  case 413: return "payload_too_large";
  case 429: return "rate_limited";
  case 503: return "unavailable";
  default: return "internal";
  }
}

int srv_fail(srv_error *e, int status, const char *fmt, ...)
{
  va_list ap;
  e->status = status;
  snprintf(e->type, sizeof e->type, "%s", srv_error_type(status));
  e->field[0] = '\0';
  memset(&e->rate, 0, sizeof e->rate);
  va_start(ap, fmt);
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
  return -1;
}

int srv_fail_rate(srv_error *e, const srv_rate *rate, const char *fmt, ...)
{
  va_list ap;
  srv_fail(e, 429, "%s", "");
  e->rate = *rate;
  va_start(ap, fmt);
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
  return -1;
}
