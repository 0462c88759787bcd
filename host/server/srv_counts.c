/* Counts by name (see srv_counts.h). */
#include "server/srv_counts.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNTS_BUCKETS 1024

typedef struct counts_entry {
  struct counts_entry *next;
  char name[STORE_NAME_MAX];
  int64_t n;
} counts_entry;

struct srv_counts {
  pthread_mutex_t mu;
  counts_entry *buckets[COUNTS_BUCKETS];
};

srv_counts *srv_counts_new(void)
{
  srv_counts *c = calloc(1, sizeof *c);
  if (c && pthread_mutex_init(&c->mu, NULL) != 0) {
    free(c);
    c = NULL;
  }
  return c;
}

void srv_counts_free(srv_counts *c)
{
  if (!c)
    return;
  for (size_t b = 0; b < COUNTS_BUCKETS; b++) {
    counts_entry *e = c->buckets[b];
    while (e) {
      counts_entry *next = e->next;
      free(e);
      e = next;
    }
  }
  pthread_mutex_destroy(&c->mu);
  free(c);
}

/* name's entry, created at 0; NULL when out of memory. c->mu held. */
static counts_entry *counts_entry_of(srv_counts *c, const char *name)
{
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (const char *p = name; *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ull;
  counts_entry **head = &c->buckets[h % COUNTS_BUCKETS];
  for (counts_entry *e = *head; e; e = e->next)
    if (strcmp(e->name, name) == 0)
      return e;
  counts_entry *e = calloc(1, sizeof *e);
  if (e) {
    snprintf(e->name, sizeof e->name, "%s", name);
    e->next = *head;
    *head = e;
  }
  return e;
}

int64_t srv_counts_add(srv_counts *c, const char *name, int64_t delta)
{
  pthread_mutex_lock(&c->mu);
  counts_entry *e = counts_entry_of(c, name);
  int64_t n = 0;
  if (e) {
    e->n += delta;
    n = e->n;
  }
  pthread_mutex_unlock(&c->mu);
  return n;
}

int srv_counts_take(srv_counts *c, const char *name, int64_t max)
{
  pthread_mutex_lock(&c->mu);
  counts_entry *e = counts_entry_of(c, name);
  int took = e && (max < 0 || e->n < max);
  if (took)
    e->n++;
  pthread_mutex_unlock(&c->mu);
  return took;
}
