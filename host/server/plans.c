/* The plans table. Numbers from the production guide (docs/server.md):
 * jobs a month, requests a minute, concurrent jobs; the included
 * GPU-seconds and the overage price are nerox's documented defaults.
 * plans_override changes them at startup (`nerox serve --config`). */
#include "server/plans.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOUR 3600

/* The built-in rows, once: the table in use starts as a copy. */
#define PLANS_ROWS \
  { "starter", 0, { 20, 10, 1, 1 * HOUR, 3.00 } }, \
  { "pro", 0, { 2000, 60, 5, 20 * HOUR, 2.50 } }, \
  { "business", 0, { PLANS_UNLIMITED, 300, 20, 200 * HOUR, 2.00 } }, \
  { "enterprise", 1, { PLANS_UNLIMITED, 300, 20, 200 * HOUR, 2.00 } }

static const plans_plan plans_builtin[] = { PLANS_ROWS };

#define PLANS_N (sizeof plans_builtin / sizeof plans_builtin[0])

/* The table in use: the built-in rows with any overrides applied. */
static plans_plan plans_table[PLANS_N] = { PLANS_ROWS };

/* The numbers of a plan, by bit: name, and the least value accepted
 * (jobs_per_month also takes PLANS_UNLIMITED). */
typedef struct plans_field {
  unsigned bit;
  const char *name;
  const char *expect;
  int64_t min;
} plans_field;

static const plans_field plans_fields[] = {
  { PLANS_SET_JOBS_PER_MONTH, "jobs_per_month",
    "an integer >= 1 or unlimited", 1 },
  { PLANS_SET_REQUESTS_PER_MINUTE, "requests_per_minute",
    "an integer >= 1", 1 },
  { PLANS_SET_CONCURRENT_JOBS, "concurrent_jobs", "an integer >= 1", 1 },
  { PLANS_SET_INCLUDED_GPU_SECONDS, "included_gpu_seconds",
    "an integer >= 0", 0 },
  { PLANS_SET_OVERAGE, "overage_usd_per_gpu_hour", "a number >= 0", 0 },
};

#define PLANS_NFIELDS (sizeof plans_fields / sizeof plans_fields[0])

size_t plans_count(void)
{
  return PLANS_N;
}

const plans_plan *plans_at(size_t i)
{
  return i < PLANS_N ? &plans_table[i] : NULL;
}

const plans_plan *plans_find(const char *name, char *err, size_t errlen)
{
  for (size_t i = 0; i < PLANS_N; i++)
    if (name && strcmp(plans_table[i].name, name) == 0)
      return &plans_table[i];
  snprintf(err, errlen,
           "unknown plan '%s' (known: starter, pro, business, enterprise)",
           name ? name : "");
  return NULL;
}

const char *plans_format_count(int64_t n, char *buf, size_t cap)
{
  if (n == PLANS_UNLIMITED)
    snprintf(buf, cap, "unlimited");
  else
    snprintf(buf, cap, "%" PRId64, n);
  return buf;
}

void plans_merge(plans_limits *dst, const plans_limits *src, unsigned mask)
{
  if (mask & PLANS_SET_JOBS_PER_MONTH)
    dst->jobs_per_month = src->jobs_per_month;
  if (mask & PLANS_SET_REQUESTS_PER_MINUTE)
    dst->requests_per_minute = src->requests_per_minute;
  if (mask & PLANS_SET_CONCURRENT_JOBS)
    dst->concurrent_jobs = src->concurrent_jobs;
  if (mask & PLANS_SET_INCLUDED_GPU_SECONDS)
    dst->included_gpu_seconds = src->included_gpu_seconds;
  if (mask & PLANS_SET_OVERAGE)
    dst->overage_usd_per_gpu_hour = src->overage_usd_per_gpu_hour;
}

static const plans_field *plans_field_of(unsigned bit)
{
  for (size_t i = 0; i < PLANS_NFIELDS; i++)
    if (plans_fields[i].bit == bit)
      return &plans_fields[i];
  return NULL;
}

const char *plans_field_name(unsigned bit)
{
  const plans_field *f = plans_field_of(bit);
  return f ? f->name : NULL;
}

const char *plans_field_expect(unsigned bit)
{
  const plans_field *f = plans_field_of(bit);
  return f ? f->expect : NULL;
}

unsigned plans_field_bit(const char *name)
{
  for (size_t i = 0; name && i < PLANS_NFIELDS; i++)
    if (strcmp(plans_fields[i].name, name) == 0)
      return plans_fields[i].bit;
  return 0;
}

const char *plans_field_names(void)
{
  return "jobs_per_month, requests_per_minute, concurrent_jobs, "
         "included_gpu_seconds, overage_usd_per_gpu_hour";
}

/* 1 when the number that f describes is acceptable in l. */
static int plans_field_ok(const plans_field *f, const plans_limits *l)
{
  switch (f->bit) {
  case PLANS_SET_JOBS_PER_MONTH:
    return l->jobs_per_month == PLANS_UNLIMITED ||
           l->jobs_per_month >= f->min;
  case PLANS_SET_REQUESTS_PER_MINUTE:
    return l->requests_per_minute >= f->min;
  case PLANS_SET_CONCURRENT_JOBS:
    return l->concurrent_jobs >= f->min;
  case PLANS_SET_INCLUDED_GPU_SECONDS:
    return l->included_gpu_seconds >= f->min;
  default:
    return isfinite(l->overage_usd_per_gpu_hour) &&
           l->overage_usd_per_gpu_hour >= 0;
  }
}

int plans_check(const plans_limits *limits, unsigned mask, char *err,
                size_t errlen)
{
  for (size_t i = 0; i < PLANS_NFIELDS; i++) {
    const plans_field *f = &plans_fields[i];
    if ((mask & f->bit) && !plans_field_ok(f, limits)) {
      snprintf(err, errlen, "%s: expected %s", f->name, f->expect);
      return -1;
    }
  }
  return 0;
}

int plans_override(const char *name, const plans_limits *limits,
                   unsigned mask, char *err, size_t errlen)
{
  const plans_plan *p = plans_find(name, err, errlen);

  if (!p || plans_check(limits, mask, err, errlen) != 0)
    return -1;
  plans_merge(&plans_table[p - plans_table].limits, limits, mask);
  return 0;
}

void plans_reset(void)
{
  memcpy(plans_table, plans_builtin, sizeof plans_table);
}

/* Longest "name=value" entry of a limits list. */
#define PLANS_ENTRY_MAX 96

/* Reads the value of the number that bit selects into l; -1 if it does
 * not parse (the range is checked by plans_check). */
static int plans_parse_value(unsigned bit, const char *v, plans_limits *l)
{
  char *end;
  long long n;
  double d;

  errno = 0;
  if (bit == PLANS_SET_OVERAGE) {
    d = strtod(v, &end);
    if (errno || end == v || *end)
      return -1;
    l->overage_usd_per_gpu_hour = d;
    return 0;
  }
  if (bit == PLANS_SET_JOBS_PER_MONTH && strcmp(v, "unlimited") == 0) {
    l->jobs_per_month = PLANS_UNLIMITED;
    return 0;
  }
  n = strtoll(v, &end, 10);
  if (errno || end == v || *end)
    return -1;
  if (n == PLANS_UNLIMITED) /* only "unlimited" means unlimited */
    n = PLANS_UNLIMITED - 1;
  if (bit == PLANS_SET_JOBS_PER_MONTH)
    l->jobs_per_month = n;
  else if (bit == PLANS_SET_REQUESTS_PER_MINUTE)
    l->requests_per_minute = n;
  else if (bit == PLANS_SET_CONCURRENT_JOBS)
    l->concurrent_jobs = n;
  else
    l->included_gpu_seconds = n;
  return 0;
}

/* One "name=value" entry of a list. */
static int plans_parse_entry(const char *entry, plans_limits *l,
                             unsigned *mask, char *err, size_t errlen)
{
  char name[PLANS_ENTRY_MAX], why[128];
  const char *eq = strchr(entry, '=');
  unsigned bit;

  if (!eq || eq == entry || (size_t)(eq - entry) >= sizeof name) {
    snprintf(err, errlen, "'%s': expected NAME=VALUE", entry);
    return -1;
  }
  memcpy(name, entry, (size_t)(eq - entry));
  name[eq - entry] = '\0';
  if (!(bit = plans_field_bit(name))) {
    snprintf(err, errlen, "'%s': unknown limit '%s' (known: %s)", entry,
             name, plans_field_names());
    return -1;
  }
  if (*mask & bit) {
    snprintf(err, errlen, "'%s': %s given twice", entry, name);
    return -1;
  }
  if (plans_parse_value(bit, eq + 1, l) != 0 ||
      plans_check(l, bit, why, sizeof why) != 0) {
    snprintf(err, errlen, "'%s': %s: expected %s", entry, name,
             plans_field_expect(bit));
    return -1;
  }
  *mask |= bit;
  return 0;
}

int plans_parse_limits(const char *list, plans_limits *limits,
                       unsigned *mask, char *err, size_t errlen)
{
  char entry[PLANS_ENTRY_MAX];
  const char *p = list;

  *mask = 0;
  if (!list || !*list) {
    snprintf(err, errlen, "an empty list (expected NAME=VALUE,...)");
    return -1;
  }
  for (;;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (len >= sizeof entry) {
      snprintf(err, errlen, "'%.40s...': entry too long", p);
      return -1;
    }
    memcpy(entry, p, len);
    entry[len] = '\0';
    if (plans_parse_entry(entry, limits, mask, err, errlen) != 0)
      return -1;
    if (!comma)
      return 0;
    p = comma + 1;
  }
}

const char *plans_format_limits(const plans_limits *l, char *buf,
                                size_t cap)
{
  char jobs[32];

  snprintf(buf, cap, "jobs_per_month=%s,requests_per_minute=%" PRId64
           ",concurrent_jobs=%" PRId64 ",included_gpu_seconds=%" PRId64
           ",overage_usd_per_gpu_hour=%g",
           plans_format_count(l->jobs_per_month, jobs, sizeof jobs),
           l->requests_per_minute, l->concurrent_jobs,
           l->included_gpu_seconds, l->overage_usd_per_gpu_hour);
  return buf;
}
