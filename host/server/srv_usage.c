/* Usage by calendar month (see srv_usage.h). */
#include "server/srv_usage.h"

#include <math.h>
#include <stdio.h>

#define MS_PER_DAY 86400000LL

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t usage_days_from_civil(int64_t y, int m, int d)
{
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* The civil date of a day count since 1970-01-01. */
static void usage_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int64_t usage_floor_div(int64_t a, int64_t b)
{
  return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

void srv_month_bounds(int64_t now_ms, int64_t *start_ms, int64_t *end_ms)
{
  int64_t y;
  int m, d;
  usage_civil_from_days(usage_floor_div(now_ms, MS_PER_DAY), &y, &m, &d);
  *start_ms = usage_days_from_civil(y, m, 1) * MS_PER_DAY;
  *end_ms = usage_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1,
                                  1) * MS_PER_DAY;
}

void srv_iso8601(int64_t ms, char out[SRV_ISO_MAX])
{
  int64_t days = usage_floor_div(ms, MS_PER_DAY);
  unsigned sec = (unsigned)(usage_floor_div(ms, 1000) - days * 86400) %
                 86400u;
  int64_t y;
  int m, d;
  usage_civil_from_days(days, &y, &m, &d);
  snprintf(out, SRV_ISO_MAX, "%04u-%02u-%02uT%02u:%02u:%02uZ",
           (unsigned)(y % 10000), (unsigned)m % 13u, (unsigned)d % 32u,
           sec / 3600u, sec / 60u % 60u, sec % 60u);
}

/* Money rounded to the cent. */
static double usage_cents(double usd)
{
  return round(usd * 100.0) / 100.0;
}

int srv_usage_get(store *st, const char *account, const char *plan,
                  const plans_limits *limits, int64_t now_ms, json_t **out,
                  srv_error *e)
{
  int64_t from, to, jobs = 0;
  double gpu = 0, cpu = 0;
  char err[256];
  srv_month_bounds(now_ms, &from, &to);
  if (store_usage_sum(st, account, STORE_USAGE_GPU, from, to, &gpu, err,
                      sizeof err) != STORE_OK ||
      store_usage_sum(st, account, STORE_USAGE_CPU, from, to, &cpu, err,
                      sizeof err) != STORE_OK ||
      store_job_count(st, account, NULL, from, to, &jobs, err,
                      sizeof err) != STORE_OK)
    return srv_fail(e, 500, "reading usage: %s", err);
  double included = (double)limits->included_gpu_seconds;
  double over_s = gpu > included ? gpu - included : 0.0;
  double price = limits->overage_usd_per_gpu_hour;
  char start[SRV_ISO_MAX], end[SRV_ISO_MAX];
  srv_iso8601(from, start);
  srv_iso8601(to, end);
  json_t *jobs_limit = limits->jobs_per_month == PLANS_UNLIMITED
                         ? json_null()
                         : json_integer(limits->jobs_per_month);
  *out = json_pack("{s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:I, "
                   "s:o}", "plan", plan, "period_start", start,
                   "period_end", end, "used_gpu_seconds", gpu,
                   "used_cpu_seconds", cpu, "included_gpu_seconds",
                   included, "overage_gpu_seconds", over_s,
                   "overage_usd", usage_cents(over_s / 3600.0 * price),
                   "overage_usd_per_gpu_hour", price, "jobs_this_period",
                   (json_int_t)jobs, "jobs_limit", jobs_limit);
  return *out ? 0 : srv_fail(e, 500, "out of memory writing JSON");
}
