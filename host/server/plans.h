/* Plans and their limits: one config table (plans.c) with the production
 * guide's numbers. Enterprise limits are set per account; until they are,
 * the enterprise row's numbers apply. */
#ifndef NEROX_PLANS_H
#define NEROX_PLANS_H

#include <stddef.h>
#include <stdint.h>

#define PLANS_UNLIMITED (-1) /* a count limit with no cap */
#define PLANS_NAME_MAX 32    /* longest plan name, with its NUL */

typedef struct plans_limits {
  int64_t jobs_per_month;       /* calendar month, UTC; or PLANS_UNLIMITED */
  int64_t requests_per_minute;
  int64_t concurrent_jobs;      /* queued plus running */
  int64_t included_gpu_seconds; /* per calendar month */
  double overage_usd_per_gpu_hour;
} plans_limits;

typedef struct plans_plan {
  const char *name;
  int per_account; /* 1: limits are set on each account (enterprise) */
  plans_limits limits;
} plans_plan;

/* The plan called name, or NULL with a message listing the known plans. */
const plans_plan *plans_find(const char *name, char *err, size_t errlen);

/* Number of plans in the table and the i-th one, for listings. */
size_t plans_count(void);
const plans_plan *plans_at(size_t i);

/* Formats a count limit: the number, or "unlimited". */
const char *plans_format_count(int64_t n, char *buf, size_t cap);

#endif
