/* The local engine: job queue, worker pool and event logs (see engine.h). */
#include "engine/engine.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/log.h"
#include "vk/binary_gpu.h"
#include "vk/perm_gpu.h"
#include "vk/vk.h"

struct job {
  atomic_int refs;
  char id[32];
  nx_model *model;
  job_params params;
  atomic_int cancel_requested;
  job *next_queued;
  char owner[ENGINE_OWNER_MAX];

  pthread_mutex_t mu;          /* guards everything below */
  pthread_cond_t changed;      /* new event or state */
  job_state state;
  job_event *events;
  size_t n_events, cap_events;
  double submitted_at, started_at, finished_at;
  double last_event_at;
  int64_t last_best;
  int32_t *tour;
  int64_t energy;
  int64_t sweeps;
  int replicas;
  uint64_t proposals;
  const char *stop;
  char *error;
  const char *solver;          /* the backend that ran it: cpu or gpu */
  const char *solver_reason;   /* why, when the job asked for auto */
  char device[ENGINE_DEVICE_MAX];
};

typedef struct engine {
  pthread_mutex_t mu;
  pthread_cond_t work;
  int started;
  int shutting_down;
  int n_workers;
  pthread_t workers[ENGINE_MAX_WORKERS];
  job *running[ENGINE_MAX_WORKERS];
  struct engine_lane *lanes; /* owners with queued jobs, a ring */
  size_t queued;
  atomic_int next_id;
} engine;

/* One owner's queued jobs, oldest first. Lanes with jobs form a ring; a
 * worker takes the head job of the lane after the one served last. */
typedef struct engine_lane {
  struct engine_lane *next;
  char owner[ENGINE_OWNER_MAX];
  job *head, *tail;
} engine_lane;

static engine eng = {
  .mu = PTHREAD_MUTEX_INITIALIZER,
  .work = PTHREAD_COND_INITIALIZER,
};

static const char *const state_names[] = {
  "queued", "running", "succeeded", "failed", "cancelled", "timed_out"
};

const char *job_state_name(job_state s)
{
  return state_names[s];
}

static int job_is_final(job_state s)
{
  return s >= JOB_SUCCEEDED;
}

/* ---- job ids -------------------------------------------------------- */

static char engine_id_prefix[ENGINE_ID_PREFIX_MAX] = "job-";

int engine_set_id_prefix(const char *prefix)
{
  if (strlen(prefix) >= sizeof engine_id_prefix)
    return -1;
  snprintf(engine_id_prefix, sizeof engine_id_prefix, "%s", prefix);
  return 0;
}

/* ---- listeners ------------------------------------------------------ */

static pthread_mutex_t listeners_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
  engine_listener fn;
  void *arg;
} listeners[ENGINE_MAX_LISTENERS];

int engine_listen(engine_listener fn, void *arg)
{
  int rc = -1;
  pthread_mutex_lock(&listeners_mu);
  for (int i = 0; i < ENGINE_MAX_LISTENERS && rc != 0; i++)
    if (!listeners[i].fn) {
      listeners[i].fn = fn;
      listeners[i].arg = arg;
      rc = 0;
    }
  pthread_mutex_unlock(&listeners_mu);
  return rc;
}

void engine_unlisten(engine_listener fn, void *arg)
{
  pthread_mutex_lock(&listeners_mu);
  for (int i = 0; i < ENGINE_MAX_LISTENERS; i++)
    if (listeners[i].fn == fn && listeners[i].arg == arg)
      listeners[i].fn = NULL;
  pthread_mutex_unlock(&listeners_mu);
}

/* Tell the listeners that a job changed (job lock held: lock order is
 * job, then listeners). */
static void engine_notify(job *j)
{
  pthread_mutex_lock(&listeners_mu);
  for (int i = 0; i < ENGINE_MAX_LISTENERS; i++)
    if (listeners[i].fn)
      listeners[i].fn(listeners[i].arg, j);
  pthread_mutex_unlock(&listeners_mu);
}

/* ---- the CPU device name ------------------------------------------- */

static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;
static char cpu_device[160];

static void engine_read_cpu_name(void)
{
  char model[120] = "unknown cpu";
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[256];
  while (f && fgets(line, sizeof line, f)) {
    char *colon = strchr(line, ':');
    if (strncmp(line, "model name", 10) == 0 && colon) {
      snprintf(model, sizeof model, "%s", colon + 2);
      model[strcspn(model, "\n")] = '\0';
      break;
    }
  }
  if (f)
    fclose(f);
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  snprintf(cpu_device, sizeof cpu_device, "cpu: %s (%ld threads)", model,
           cores > 0 ? cores : 1);
}

const char *engine_cpu_device(void)
{
  pthread_once(&cpu_once, engine_read_cpu_name);
  return cpu_device;
}

/* ---- jobs ------------------------------------------------------------ */

void job_retain(job *j)
{
  atomic_fetch_add(&j->refs, 1);
}

void job_release(job *j)
{
  if (!j || atomic_fetch_sub(&j->refs, 1) != 1)
    return;
  LOG_D("engine", "%s freed", j->id);
  pthread_mutex_destroy(&j->mu);
  pthread_cond_destroy(&j->changed);
  model_release(j->model);
  free(j->events);
  free(j->tour);
  free(j->error);
  free(j);
}

const char *job_id(const job *j) { return j->id; }
nx_model *job_model(job *j) { return j->model; }

job_state job_get_state(job *j)
{
  pthread_mutex_lock(&j->mu);
  job_state s = j->state;
  pthread_mutex_unlock(&j->mu);
  return s;
}

/* Append an event; the caller holds j->mu. Out of memory drops the event;
 * readers still see the final state through job_get_state. */
static void job_push_event_locked(job *j, const job_event *ev)
{
  if (j->n_events == j->cap_events) {
    size_t cap = j->cap_events ? j->cap_events * 2 : 64;
    job_event *grown = realloc(j->events, cap * sizeof *grown);
    if (!grown) {
      LOG_W("engine", "%s: out of memory for events", j->id);
      return;
    }
    j->events = grown;
    j->cap_events = cap;
  }
  j->events[j->n_events] = *ev;
  j->events[j->n_events].seq = (int64_t)j->n_events + 1;
  j->n_events++;
  pthread_cond_broadcast(&j->changed);
  engine_notify(j);
}

static void job_set_state_locked(job *j, job_state s)
{
  LOG_D("engine", "%s %s -> %s", j->id, state_names[j->state],
        state_names[s]);
  j->state = s;
  pthread_cond_broadcast(&j->changed);
  engine_notify(j);
}

/* Move to a final state and publish the final event; holds j->mu. */
static void job_finish_locked(job *j, job_state s)
{
  j->finished_at = clock_mono_s();
  if (j->started_at == 0.0)
    j->started_at = j->finished_at;
  int64_t e = j->tour ? j->energy : INT64_MAX; /* none found */
  job_event ev = {
    .final = 1, .state = s, .best_energy = e, .energy = e,
    .sweep = j->sweeps, .replicas = j->replicas,
    .elapsed_s = j->finished_at - j->started_at,
  };
  job_push_event_locked(j, &ev);
  job_set_state_locked(j, s);
}

/* A timeout as job_next_event and job_wait take it: < 0 (forever) for
 * anything that has no deadline the clock can hold. */
static double job_timeout(double timeout_s)
{
  if (!(timeout_s >= 0) || timeout_s > ENGINE_MAX_WAIT_S)
    return -1.0;
  return timeout_s;
}

int job_next_event(job *j, int64_t after, double timeout_s, job_event *ev)
{
  timeout_s = job_timeout(timeout_s);
  struct timespec deadline = clock_deadline(timeout_s < 0 ? 0 : timeout_s);
  int rc = 0;
  pthread_mutex_lock(&j->mu);
  for (;;) {
    if (after < 0)
      after = 0;
    if ((size_t)after < j->n_events) {
      *ev = j->events[after];
      rc = 1;
      break;
    }
    if (job_is_final(j->state)) {
      rc = -1;
      break;
    }
    int w = timeout_s < 0
              ? pthread_cond_wait(&j->changed, &j->mu)
              : pthread_cond_timedwait(&j->changed, &j->mu, &deadline);
    if (w == ETIMEDOUT) {
      rc = 0;
      break;
    }
  }
  pthread_mutex_unlock(&j->mu);
  return rc;
}

size_t job_events_since(job *j, int64_t after, job_event *buf, size_t max)
{
  size_t k = 0;
  pthread_mutex_lock(&j->mu);
  for (size_t i = after < 0 ? 0 : (size_t)after;
       i < j->n_events && k < max; i++)
    buf[k++] = j->events[i];
  pthread_mutex_unlock(&j->mu);
  return k;
}

int job_cancel(job *j)
{
  int was_active = 0;
  pthread_mutex_lock(&j->mu);
  if (j->state == JOB_QUEUED) {
    j->stop = "cancel";
    job_finish_locked(j, JOB_CANCELLED);
    was_active = 1;
  } else if (j->state == JOB_RUNNING) {
    atomic_store(&j->cancel_requested, 1);
    was_active = 1;
  }
  pthread_mutex_unlock(&j->mu);
  if (was_active)
    LOG_D("engine", "%s cancel requested", j->id);
  return was_active;
}

int job_wait(job *j, double timeout_s)
{
  timeout_s = job_timeout(timeout_s);
  struct timespec deadline = clock_deadline(timeout_s < 0 ? 0 : timeout_s);
  int done;
  pthread_mutex_lock(&j->mu);
  while (!(done = job_is_final(j->state))) {
    int w = timeout_s < 0
              ? pthread_cond_wait(&j->changed, &j->mu)
              : pthread_cond_timedwait(&j->changed, &j->mu, &deadline);
    if (w == ETIMEDOUT) {
      done = job_is_final(j->state);
      break;
    }
  }
  pthread_mutex_unlock(&j->mu);
  return done;
}

int job_get_result(job *j, job_result *r)
{
  pthread_mutex_lock(&j->mu);
  int final = job_is_final(j->state);
  if (final) {
    *r = (job_result){
      .state = j->state, .tour = j->tour, .n = model_n(j->model),
      .energy = j->energy, .sweeps = j->sweeps, .replicas = j->replicas,
      .seed = j->params.seed, .proposals = j->proposals,
      .queued_s = j->started_at - j->submitted_at,
      .run_s = j->finished_at - j->started_at,
      .solver = j->solver ? j->solver : "none",
      .device = j->device[0] ? j->device : "none",
      .solver_reason = j->solver_reason,
      .stop = j->stop ? j->stop : "", .error = j->error,
    };
  }
  pthread_mutex_unlock(&j->mu);
  return final ? 0 : -1;
}

/* ---- running a job ------------------------------------------------- */

/* Kernel progress: publish an event when the best improves or the last
 * one is ENGINE_PROGRESS_INTERVAL_S old; ask the kernel to stop on cancel. */
static int job_on_progress(void *ud, const perm_progress *p)
{
  job *j = ud;
  double now = clock_mono_s();
  pthread_mutex_lock(&j->mu);
  if (p->best_energy < j->last_best ||
      now - j->last_event_at >= ENGINE_PROGRESS_INTERVAL_S) {
    job_event ev = {
      .best_energy = p->best_energy, .energy = p->energy,
      .sweep = p->sweep, .elapsed_s = p->elapsed_s,
      .replicas = p->replicas,
    };
    job_push_event_locked(j, &ev);
    j->last_best = p->best_energy;
    j->last_event_at = now;
  }
  pthread_mutex_unlock(&j->mu);
  return atomic_load(&j->cancel_requested);
}

static double job_time_limit(const job_params *p)
{
  if (p->time_limit > 0)
    return p->time_limit < ENGINE_MAX_TIME_LIMIT_S
             ? p->time_limit : ENGINE_MAX_TIME_LIMIT_S;
  return ENGINE_DEFAULT_TIME_CAP_S;
}

/* The state a finished kernel run ends in. Running out of time is success
 * when time was the budget; a timeout when sweeps or a target were the
 * goal. */
static job_state job_final_state(const job *j, perm_stop stop)
{
  const job_params *p = &j->params;
  switch (stop) {
  case PERM_STOP_CALLBACK:
    return JOB_CANCELLED;
  case PERM_STOP_TIME:
    if (p->sweeps > 0 || p->has_target || p->time_limit <= 0)
      return JOB_TIMED_OUT;
    return JOB_SUCCEEDED;
  default:
    return JOB_SUCCEEDED;
  }
}

static const char *const stop_names[] = { "sweeps", "time", "target",
                                          "cancel" };

/* Run the kernel on the job's backend; fills j->solver and j->device. */
static int job_solve(job *j, const perm_params *pp, perm_result *res,
                     char *err, size_t errlen)
{
  job_solver solver = j->params.solver;
  int binary = model_get_kind(j->model) == MODEL_BINARY;
  if (solver == JOB_SOLVER_AUTO) {
    solver = engine_auto_solver();
    j->solver_reason = engine_auto_reason();
  }
  if (solver == JOB_SOLVER_GPU) {
    j->solver = "gpu";
    char name[ENGINE_DEVICE_MAX - 8] = "";
    int rc = binary
             ? binary_solve_gpu(model_binary(j->model), pp, job_on_progress,
                                j, res, name, sizeof name, err, errlen)
             : perm_solve_gpu(model_perm(j->model), pp, job_on_progress, j,
                              res, name, sizeof name, err, errlen);
    snprintf(j->device, sizeof j->device, "gpu: %s", name[0] ? name : "?");
    return rc;
  }
  j->solver = "cpu";
  snprintf(j->device, sizeof j->device, "%s", engine_cpu_device());
  if (binary)
    return binary_solve_cpu(model_binary(j->model), pp, job_on_progress, j,
                            res, err, errlen);
  return perm_solve_cpu(model_perm(j->model), pp, job_on_progress, j,
                        res, err, errlen);
}

static void job_run(job *j)
{
  pthread_mutex_lock(&j->mu);
  j->started_at = clock_mono_s();
  j->last_event_at = j->started_at;
  job_set_state_locked(j, JOB_RUNNING);
  pthread_mutex_unlock(&j->mu);

  perm_params pp = {
    .seed = j->params.seed, .replicas = j->params.replicas,
    .sweeps = j->params.sweeps, .time_limit = job_time_limit(&j->params),
    .threads = j->params.threads, .has_target = j->params.has_target,
    .target_energy = j->params.target_energy,
  };
  perm_result res = { 0 };
  char err[512] = "";
  int rc = job_solve(j, &pp, &res, err, sizeof err);

  pthread_mutex_lock(&j->mu);
  if (rc != 0) {
    j->error = strdup(err[0] ? err : "the kernel failed");
    LOG_W("engine", "%s failed: %s", j->id, err);
    job_finish_locked(j, JOB_FAILED);
  } else {
    j->tour = res.tour;
    j->energy = res.energy;
    j->sweeps = res.sweeps;
    j->replicas = res.replicas;
    j->proposals = res.proposals;
    j->stop = stop_names[res.stop];
    job_finish_locked(j, job_final_state(j, res.stop));
  }
  pthread_mutex_unlock(&j->mu);
}

/* ---- the worker pool --------------------------------------------- */

/* The lane of owner in the ring, or NULL; eng.mu held. */
static engine_lane *engine_lane_of(const char *owner)
{
  engine_lane *l = eng.lanes;
  if (!l)
    return NULL;
  do {
    if (strcmp(l->owner, owner) == 0)
      return l;
    l = l->next;
  } while (l != eng.lanes);
  return NULL;
}

/* Queues j in its owner's lane; a new lane joins the ring as the one
 * served next (its owner had nothing waiting, the others have had their
 * turns). -1 when out of memory. eng.mu held. */
static int engine_push_locked(job *j)
{
  engine_lane *l = engine_lane_of(j->owner);
  if (!l) {
    l = calloc(1, sizeof *l);
    if (!l)
      return -1;
    memcpy(l->owner, j->owner, sizeof l->owner);
    if (!eng.lanes) {
      l->next = l;
      eng.lanes = l;
    } else {
      engine_lane *last = eng.lanes;
      while (last->next != eng.lanes)
        last = last->next;
      last->next = l;
      l->next = eng.lanes;
      eng.lanes = l;
    }
  }
  if (l->tail)
    l->tail->next_queued = j;
  else
    l->head = j;
  l->tail = j;
  eng.queued++;
  return 0;
}

/* The next job: the head of the lane eng.lanes points to, which then
 * moves on; an emptied lane leaves the ring. eng.mu held. */
static job *engine_pop_locked(void)
{
  engine_lane *l = eng.lanes;
  if (!l)
    return NULL;
  job *j = l->head;
  l->head = j->next_queued;
  j->next_queued = NULL;
  eng.queued--;
  if (l->head) {
    eng.lanes = l->next;
    return j;
  }
  /* Unlink the empty lane. */
  engine_lane *prev = l;
  while (prev->next != l)
    prev = prev->next;
  if (prev == l) {
    eng.lanes = NULL;
  } else {
    prev->next = l->next;
    eng.lanes = l->next;
  }
  free(l);
  return j;
}

static _Thread_local char engine_owner[ENGINE_OWNER_MAX];

void engine_set_owner(const char *owner)
{
  snprintf(engine_owner, sizeof engine_owner, "%s", owner ? owner : "");
}

static void *engine_worker(void *arg)
{
  int slot = (int)(intptr_t)arg;
  pthread_mutex_lock(&eng.mu);
  for (;;) {
    while (!eng.lanes && !eng.shutting_down)
      pthread_cond_wait(&eng.work, &eng.mu);
    if (eng.shutting_down)
      break;
    job *j = engine_pop_locked();
    eng.running[slot] = j;
    pthread_mutex_unlock(&eng.mu);
    if (job_get_state(j) == JOB_QUEUED)
      job_run(j);
    pthread_mutex_lock(&eng.mu);
    eng.running[slot] = NULL;
    job_release(j);   /* the queue's reference */
  }
  pthread_mutex_unlock(&eng.mu);
  return NULL;
}

static int engine_worker_count(void)
{
  const char *s = getenv("NEROX_WORKERS");
  int n = s && *s ? atoi(s) : ENGINE_DEFAULT_WORKERS;
  if (n < 1)
    n = 1;
  return n > ENGINE_MAX_WORKERS ? ENGINE_MAX_WORKERS : n;
}

/* Start the workers on first use; holds eng.mu. */
static int engine_start_locked(char *err, size_t errlen)
{
  if (eng.started)
    return 0;
  int want = engine_worker_count();
  for (int i = 0; i < want; i++) {
    int rc = pthread_create(&eng.workers[i], NULL, engine_worker,
                            (void *)(intptr_t)i);
    if (rc != 0) {
      if (i == 0) {
        snprintf(err, errlen, "cannot start a worker thread: %s",
                 strerror(rc));
        return -1;
      }
      LOG_W("engine", "started %d of %d workers: %s", i, want, strerror(rc));
      break;
    }
    eng.n_workers = i + 1;
  }
  eng.started = 1;
  LOG_D("engine", "%d workers started", eng.n_workers);
  return 0;
}

static job *job_create(nx_model *m, const job_params *p, char *err,
                       size_t errlen)
{
  job *j = calloc(1, sizeof *j);
  if (!j) {
    snprintf(err, errlen, "out of memory for a job");
    return NULL;
  }
  int rc = pthread_mutex_init(&j->mu, NULL);
  if (rc == 0 && (rc = pthread_cond_init(&j->changed, NULL)) != 0)
    pthread_mutex_destroy(&j->mu);
  if (rc != 0) {
    snprintf(err, errlen, "cannot create a job's lock: %s", strerror(rc));
    free(j);
    return NULL;
  }
  atomic_init(&j->refs, 1);
  atomic_init(&j->cancel_requested, 0);
  snprintf(j->id, sizeof j->id, "%s%06d", engine_id_prefix,
           atomic_fetch_add(&eng.next_id, 1) + 1);
  model_retain(m);
  j->model = m;
  j->params = *p;
  j->state = JOB_QUEUED;
  j->submitted_at = clock_mono_s();
  j->last_best = INT64_MAX;
  return j;
}

int engine_submit(nx_model *m, const job_params *p, job **out,
                  char *err, size_t errlen)
{
  job *j = job_create(m, p, err, errlen);
  if (!j)
    return -1;
  pthread_mutex_lock(&eng.mu);
  if (eng.shutting_down || engine_start_locked(err, errlen) != 0) {
    if (eng.shutting_down)
      snprintf(err, errlen, "the engine is shutting down");
    pthread_mutex_unlock(&eng.mu);
    job_release(j);
    return -1;
  }
  memcpy(j->owner, engine_owner, sizeof j->owner);
  if (engine_push_locked(j) != 0) {
    snprintf(err, errlen, "out of memory queueing a job");
    pthread_mutex_unlock(&eng.mu);
    job_release(j);
    return -1;
  }
  job_retain(j);   /* the queue's reference */
  LOG_D("engine", "%s queued (n=%d, seed=%llu)", j->id, model_n(m),
        (unsigned long long)p->seed);
  pthread_cond_signal(&eng.work);
  pthread_mutex_unlock(&eng.mu);
  *out = j;
  return 0;
}

void engine_shutdown(void)
{
  pthread_mutex_lock(&eng.mu);
  if (!eng.started || eng.shutting_down) {
    pthread_mutex_unlock(&eng.mu);
    return;
  }
  eng.shutting_down = 1;
  job *j;
  while ((j = engine_pop_locked()) != NULL) {
    job_cancel(j);
    job_release(j);
  }
  for (int i = 0; i < eng.n_workers; i++)
    if (eng.running[i])
      job_cancel(eng.running[i]);
  pthread_cond_broadcast(&eng.work);
  pthread_mutex_unlock(&eng.mu);
  for (int i = 0; i < eng.n_workers; i++) {
    int rc = pthread_join(eng.workers[i], NULL);
    if (rc != 0)
      LOG_W("engine", "joining worker %d: %s", i, strerror(rc));
  }
  nvk_shutdown();
  LOG_D("engine", "stopped");
}
