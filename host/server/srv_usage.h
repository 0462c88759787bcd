/* Usage: GPU- and CPU-seconds from the ledger, by calendar month (UTC),
 * against the account's included seconds; the overage is priced per
 * GPU-hour beyond them. GET /v1/usage answers srv_usage_get. */
#ifndef NEROX_SRV_USAGE_H
#define NEROX_SRV_USAGE_H

#include <stdint.h>

#include <jansson.h>

#include "server/plans.h"
#include "server/srv_error.h"
#include "server/store.h"

/* "2026-12-01T00:00:00Z" and its NUL. */
#define SRV_ISO_MAX 21

/* The calendar month (UTC) holding now_ms: [start, end) in Unix ms. */
void srv_month_bounds(int64_t now_ms, int64_t *start_ms, int64_t *end_ms);

/* Unix ms as ISO 8601 UTC, to the second. */
void srv_iso8601(int64_t ms, char out[SRV_ISO_MAX]);

/* The usage of account (on plan, under limits) this month:
 * {plan, period_start, period_end, used_gpu_seconds, used_cpu_seconds,
 *  included_gpu_seconds, overage_gpu_seconds, overage_usd,
 *  overage_usd_per_gpu_hour, jobs_this_period, jobs_limit}. */
int srv_usage_get(store *st, const char *account, const char *plan,
                  const plans_limits *limits, int64_t now_ms, json_t **out,
                  srv_error *e);

#endif
