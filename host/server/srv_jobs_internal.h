/* Internals shared by the files of the server's jobs: srv_jobs.c (the
 * table and the operations), srv_record.c (recording jobs in the store as
 * they start and end, billing, evicting old entries) and srv_view.c (the
 * JSON views and events). */
#ifndef NEROX_SRV_JOBS_INTERNAL_H
#define NEROX_SRV_JOBS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "server/srv_counts.h"
#include "server/srv_jobs.h"

#define SRV_JOBS_BUCKETS 4096
/* Events read at a time from a job's log. */
#define SRV_EVENTS_BATCH 64
/* How often the recorder looks for entries to evict, in ms, at most. */
#define SRV_EVICT_EVERY_MS 5000
/* ... and at least this long apart. */
#define SRV_EVICT_MIN_MS 50
/* Job ids waiting for the recorder at most; past it the recorder checks
 * every entry once. */
#define SRV_NOTES_MAX 1000000

/* A job of this process. Entries are counted references: the table holds
 * one, and srv_get gives one to its caller (srv_put returns it). */
typedef struct srv_entry {
  struct srv_entry *next; /* in its bucket */
  struct srv_entry *prev_all, *next_all; /* in the list of every entry */
  struct srv_entry *next_done; /* in the list of recorded entries */
  int refs;               /* under the table's lock */
  char id[STORE_ID_MAX];
  char account[STORE_NAME_MAX];
  char problem_type[STORE_TYPE_MAX];
  char solver[STORE_KIND_MAX]; /* asked for: "gpu", "cpu" or "auto" */
  job *j;
  double scale;
  pthread_mutex_t mu; /* guards the fields below */
  char state[STORE_STATE_MAX];
  int64_t submitted_ms, started_ms, finished_ms;
  int64_t last_seq;  /* events read for the best energy */
  int64_t saved_seq; /* events written to the store */
  int has_best;
  double best; /* caller units */
  int final;
  int64_t recorded_ms; /* when final was recorded */
  char *result_json;
  char *error;
  char usage_kind[STORE_KIND_MAX]; /* set when final */
  double usage_s;
} srv_entry;

/* Job ids the engine named since the recorder last looked. */
typedef struct srv_notes {
  pthread_mutex_t mu;
  pthread_cond_t wake;
  char (*ids)[STORE_ID_MAX];
  size_t n, cap;
  int overflow; /* some were dropped: check every entry */
  int stop;
} srv_notes;

struct srv_jobs {
  store *st;
  srv_lua *lua;
  pthread_mutex_t mu;    /* guards the table, the list and the accounts */
  pthread_mutex_t admit; /* one submission at a time: limits, then insert */
  srv_entry *buckets[SRV_JOBS_BUCKETS];
  srv_entry *all;        /* newest first */
  srv_entry *done_head, *done_tail; /* recorded, oldest first */
  srv_counts *live;      /* jobs queued or running, by account */
  srv_metrics *metrics;
  srv_notes notes;
  atomic_llong keep_ms; /* finished entries stay this long */
  pthread_t recorder;
  int has_recorder;
};

/* srv_jobs.c */
srv_entry *srv_get(srv_jobs *s, const char *id);
void srv_put(srv_jobs *s, srv_entry *e);
int64_t srv_live_add(srv_jobs *s, const char *account, int delta);
/* The account's entry for id (a reference), or NULL. */
srv_entry *srv_owned(srv_jobs *s, const char *account, const char *id);
/* Adds a recorded entry to the end of the list srv_evict reads. */
void srv_done(srv_jobs *s, srv_entry *e);
/* Removes entries recorded before cutoff_ms from the table. */
void srv_evict(srv_jobs *s, int64_t cutoff_ms);

/* srv_record.c */
int srv_recorder_start(srv_jobs *s, char *err, size_t errlen);
void srv_recorder_stop(srv_jobs *s);
/* Asks the recorder to look at job id. */
void srv_note(srv_jobs *s, const char *id);
/* Records a finished job's result, usage and events once; does nothing
 * while it runs. */
void srv_finalize(srv_jobs *s, srv_entry *e);
/* Brings the best energy up to date from the job's events; e->mu held. */
void srv_refresh_best(srv_entry *e);

/* srv_view.c */
json_t *srv_energy(int has, double v);
json_t *srv_entry_view(srv_jobs *s, srv_entry *e);
json_t *srv_row_view(const store_job *j);
json_t *srv_event_json(const job_event *ev, double scale);
const char *srv_event_type(const job_event *ev);
int srv_out(json_t *v, json_t **out, srv_error *e);

#endif
