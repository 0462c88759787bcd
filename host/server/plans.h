/* Plans and their limits: one table (plans.c) with the production guide's
 * numbers, which `nerox serve --config` may override once at startup
 * (plans_override). Enterprise limits are set per account; until they
 * are, the enterprise row's numbers apply. Any account may carry its own
 * limits (`nerox keys limits`), which then replace its plan's. */
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

/* The numbers of a plans_limits, as bits: which ones an override sets. */
enum {
  PLANS_SET_JOBS_PER_MONTH = 1u << 0,
  PLANS_SET_REQUESTS_PER_MINUTE = 1u << 1,
  PLANS_SET_CONCURRENT_JOBS = 1u << 2,
  PLANS_SET_INCLUDED_GPU_SECONDS = 1u << 3,
  PLANS_SET_OVERAGE = 1u << 4,
  PLANS_SET_ALL = (1u << 5) - 1
};

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

/* Copies the numbers of src that mask selects (PLANS_SET_*) into dst. */
void plans_merge(plans_limits *dst, const plans_limits *src, unsigned mask);

/* Replaces the numbers that mask selects of the plan called name with
 * those of limits. Not thread-safe: call it at startup, before any thread
 * reads the table. -1 with a message for an unknown plan or a number out
 * of range (plans_check). */
int plans_override(const char *name, const plans_limits *limits,
                   unsigned mask, char *err, size_t errlen);

/* Puts back the built-in numbers of every plan (tests). */
void plans_reset(void);

/* Checks the numbers that mask selects: jobs_per_month >= 1 or
 * PLANS_UNLIMITED, requests_per_minute and concurrent_jobs >= 1,
 * included_gpu_seconds >= 0, overage_usd_per_gpu_hour a finite number
 * >= 0. -1 with "FIELD: expected ..." for the first bad one. */
int plans_check(const plans_limits *limits, unsigned mask, char *err,
                size_t errlen);

/* The name of the number that bit selects ("requests_per_minute") and
 * what it accepts ("an integer >= 1"), or NULL; plans_field_bit is the
 * reverse of the name (0 for an unknown name). plans_field_names lists
 * every name, comma-separated. */
const char *plans_field_name(unsigned bit);
const char *plans_field_expect(unsigned bit);
unsigned plans_field_bit(const char *name);
const char *plans_field_names(void);

/* Parses "requests_per_minute=100,jobs_per_month=unlimited,..." (any
 * subset of the five names, each once; jobs_per_month also takes
 * "unlimited", overage_usd_per_gpu_hour a decimal) into *limits and the
 * bits of the names given into *mask. -1 with a message naming the bad
 * entry. */
int plans_parse_limits(const char *list, plans_limits *limits,
                       unsigned *mask, char *err, size_t errlen);

/* Formats all five numbers in the form plans_parse_limits reads. */
const char *plans_format_limits(const plans_limits *limits, char *buf,
                                size_t cap);

#endif
