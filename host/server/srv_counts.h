/* Counts by name (an account's live jobs, its open event streams): a
 * hash table of integers behind one mutex. */
#ifndef NEROX_SRV_COUNTS_H
#define NEROX_SRV_COUNTS_H

#include <stdint.h>

#include "server/store.h"

typedef struct srv_counts srv_counts;

srv_counts *srv_counts_new(void);
void srv_counts_free(srv_counts *c);

/* Adds delta to name's count and returns the new count; out of memory,
 * the count reads 0 and stays so. */
int64_t srv_counts_add(srv_counts *c, const char *name, int64_t delta);

/* Adds 1 unless the count is already max (max < 0: no cap); returns 1
 * when it did. */
int srv_counts_take(srv_counts *c, const char *name, int64_t max);

#endif
