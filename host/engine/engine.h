/* The local engine: jobs, a FIFO queue, a pool of worker threads, and each
 * job's event log, readable by any number of consumers while it runs.
 *
 * A job goes queued -> running -> succeeded | failed | cancelled |
 * timed_out. Queue time is not run time: started_at is set when a worker
 * takes the job. Cancel takes effect at the kernel's next sweep batch and
 * keeps the best tour found so far. */
#ifndef NEROX_ENGINE_H
#define NEROX_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/model.h"

/* Every job has a time limit; this caps it and is the default when a job
 * sets only sweeps or a target. */
#define ENGINE_MAX_TIME_LIMIT_S 86400.0
#define ENGINE_DEFAULT_TIME_CAP_S 3600.0
/* A progress event is published at least this often while a job runs. */
#define ENGINE_PROGRESS_INTERVAL_S 0.1
/* Waits longer than this (about 31 years) wait forever: a deadline that
 * far out does not fit the clock. */
#define ENGINE_MAX_WAIT_S 1e9
/* Worker threads when NEROX_WORKERS is unset. */
#define ENGINE_DEFAULT_WORKERS 2
#define ENGINE_MAX_WORKERS 64
/* Longest device description kept in a result. */
#define ENGINE_DEVICE_MAX 300

typedef enum job_state {
  JOB_QUEUED = 0,
  JOB_RUNNING,
  JOB_SUCCEEDED,
  JOB_FAILED,
  JOB_CANCELLED,
  JOB_TIMED_OUT
} job_state;

typedef enum job_solver {
  JOB_SOLVER_CPU = 0,
  JOB_SOLVER_GPU,
  JOB_SOLVER_AUTO
} job_solver;

typedef struct job_params {
  job_solver solver;
  uint64_t seed;
  int replicas;       /* 0 = kernel default */
  int64_t sweeps;     /* 0 = none */
  double time_limit;  /* seconds; 0 = none given */
  int has_target;
  int64_t target_energy;
  int threads;        /* 0 = all cores */
} job_params;

typedef struct job_event {
  int64_t seq;        /* 1, 2, ... */
  int final;          /* 0 = progress, else `state` is the final state */
  job_state state;
  int64_t best_energy;
  int64_t energy;
  int64_t sweep;
  double elapsed_s;
  int replicas;
} job_event;

typedef struct job_result {
  job_state state;
  const int32_t *tour;   /* owned by the job; NULL if none was found */
  int n;
  int64_t energy;
  int64_t sweeps;
  int replicas;
  uint64_t seed;
  uint64_t proposals;
  double queued_s;
  double run_s;
  const char *solver;    /* the backend that ran it: "cpu" or "gpu" */
  const char *device;
  const char *solver_reason; /* why "auto" chose the solver, else NULL */
  const char *stop;      /* "sweeps", "time", "target", "cancel", "" */
  const char *error;     /* message when failed, else NULL */
} job_result;

typedef struct job job;

/* Queue a job on the model (the job keeps a reference). On success *out
 * holds one reference for the caller. */
int engine_submit(nx_model *m, const job_params *p, job **out,
                  char *err, size_t errlen);
/* Cancel every job and stop the workers; called at process exit. */
void engine_shutdown(void);
/* The CPU device's description, e.g. "cpu: AMD EPYC 7B13 (2 threads)". */
const char *engine_cpu_device(void);
/* The backend solver "auto" runs on: decided once per process (see
 * engine_auto.c), JOB_SOLVER_CPU or JOB_SOLVER_GPU. */
job_solver engine_auto_solver(void);
/* Why engine_auto_solver chose what it did, for logs and results. */
const char *engine_auto_reason(void);

/* Who submits the jobs this thread submits from now on (an account of
 * `nerox serve`; NULL or "": nobody in particular). Queued jobs are served
 * round-robin between owners, oldest first within each, so one owner's
 * backlog never holds up another's jobs for long. At most
 * ENGINE_OWNER_MAX - 1 bytes are kept. */
#define ENGINE_OWNER_MAX 65
void engine_set_owner(const char *owner);

/* Job ids are a prefix ("job-" by default) and a counter of this
 * process ("job-000001"). A server, whose ids outlive the process, sets a
 * prefix of its own before the first job: 0, or -1 when it is
 * ENGINE_ID_PREFIX_MAX bytes or longer. */
#define ENGINE_ID_PREFIX_MAX 20
int engine_set_id_prefix(const char *prefix);

void job_retain(job *j);
void job_release(job *j);
const char *job_id(const job *j);
job_state job_get_state(job *j);
const char *job_state_name(job_state s);
nx_model *job_model(job *j);

/* Wait up to timeout_s (< 0, NaN or > ENGINE_MAX_WAIT_S: forever) for an
 * event with seq > after.
 * Returns 1 with *ev filled, 0 on timeout, -1 when the job has finished
 * and no event follows `after`. */
int job_next_event(job *j, int64_t after, double timeout_s, job_event *ev);
/* Copy up to max events with seq > after; returns how many. */
size_t job_events_since(job *j, int64_t after, job_event *buf, size_t max);
/* Returns 1 if the job was queued or running and is now being cancelled. */
int job_cancel(job *j);
/* Returns 1 once finished, 0 on timeout (as for job_next_event). Never
 * cancels. */
int job_wait(job *j, double timeout_s);
/* Returns 0 with *r filled once finished, -1 while queued or running.
 * Pointers in *r stay valid while the caller holds its reference. */
int job_get_result(job *j, job_result *r);

/* Listeners told after every new event or state change of any job, with
 * the job: the Lua event loop (host/lua/loop.c) wakes on it instead of
 * polling, and the server records jobs (host/server/srv_record.c). The
 * call comes from a worker thread with that job's lock held, so a
 * listener must be quick and must not call into the engine (job_id is
 * safe: it reads a field that never changes). */
#define ENGINE_MAX_LISTENERS 8
typedef void (*engine_listener)(void *arg, job *j);
/* Returns 0, or -1 when ENGINE_MAX_LISTENERS are registered. */
int engine_listen(engine_listener fn, void *arg);
/* Removes a listener; once it returns, fn is no longer running. */
void engine_unlisten(engine_listener fn, void *arg);

#endif
