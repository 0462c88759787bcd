/* The plans table. Numbers from the production guide (docs/server.md):
 * jobs a month, requests a minute, concurrent jobs; the included
 * GPU-seconds and the overage price are nerox's documented defaults. */
#include "server/plans.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define HOUR 3600

static const plans_plan plans_table[] = {
  { "starter", 0, { 20, 10, 1, 1 * HOUR, 3.00 } },
  { "pro", 0, { 2000, 60, 5, 20 * HOUR, 2.50 } },
  { "business", 0, { PLANS_UNLIMITED, 300, 20, 200 * HOUR, 2.00 } },
  { "enterprise", 1, { PLANS_UNLIMITED, 300, 20, 200 * HOUR, 2.00 } },
};

#define PLANS_N (sizeof plans_table / sizeof plans_table[0])

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
