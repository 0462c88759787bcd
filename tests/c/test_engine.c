/* Engine unit tests: job states, events, cancel, wait, time limits. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "testutil.h"

/* Random points on a 1000 x 1000 grid as a matrix model. */
static nx_model *random_model(int n, unsigned seed)
{
  double *xy = malloc((size_t)n * 2 * sizeof *xy);
  srand(seed);
  for (int i = 0; i < 2 * n; i++)
    xy[i] = rand() % 1000;
  char err[256];
  nx_model *m = model_from_coords(n, xy, 1.0, err, sizeof err);
  free(xy);
  if (!m)
    fprintf(stderr, "model: %s\n", err);
  return m;
}

static job *submit(nx_model *m, job_params p)
{
  job *j = NULL;
  char err[256];
  if (engine_submit(m, &p, &j, err, sizeof err) != 0)
    fprintf(stderr, "submit: %s\n", err);
  return j;
}

static void test_sweeps_job(nx_model *m)
{
  job *j = submit(m, (job_params){ .seed = 7, .sweeps = 2000 });
  CHECK(j != NULL);
  if (!j)
    return;
  job_event ev;
  int64_t seq = 0;
  int finals = 0;
  while (job_next_event(j, seq, 30.0, &ev) == 1) {
    CHECK_EQ_INT(ev.seq, seq + 1);
    seq = ev.seq;
    finals += ev.final;
  }
  CHECK_EQ_INT(finals, 1);
  CHECK_EQ_INT(job_get_state(j), JOB_SUCCEEDED);
  job_result r;
  CHECK_EQ_INT(job_get_result(j, &r), 0);
  CHECK(r.tour != NULL);
  CHECK_EQ_INT(r.sweeps, 2000);
  CHECK_EQ_INT(r.energy, perm_tour_length(model_perm(m), r.tour));
  CHECK(r.queued_s >= 0 && r.run_s >= 0);
  /* A late reader still sees every event, the final one last. */
  job_event all[4096];
  size_t k = job_events_since(j, 0, all, 4096);
  CHECK(k >= 1 && all[k - 1].final);
  job_release(j);
}

static void test_cancel_running(nx_model *m)
{
  job *j = submit(m, (job_params){ .seed = 1, .time_limit = 30 });
  job_event ev;
  CHECK_EQ_INT(job_next_event(j, 0, 10.0, &ev), 1);   /* it runs */
  CHECK_EQ_INT(job_wait(j, 0.05), 0);                 /* wait times out */
  CHECK_EQ_INT(job_get_state(j), JOB_RUNNING);        /* ...and keeps on */
  CHECK_EQ_INT(job_cancel(j), 1);
  CHECK_EQ_INT(job_wait(j, 5.0), 1);
  CHECK_EQ_INT(job_get_state(j), JOB_CANCELLED);
  job_result r;
  CHECK_EQ_INT(job_get_result(j, &r), 0);
  CHECK(r.tour != NULL);                              /* best is kept */
  CHECK_EQ_INT(job_cancel(j), 0);
  job_release(j);
}

static void test_time_limit(nx_model *m)
{
  job *budget = submit(m, (job_params){ .seed = 2, .time_limit = 0.3 });
  job *late = submit(m, (job_params){ .seed = 2, .time_limit = 0.3,
                                      .sweeps = INT64_MAX / 4 });
  CHECK_EQ_INT(job_wait(budget, 10.0), 1);
  CHECK_EQ_INT(job_wait(late, 10.0), 1);
  CHECK_EQ_INT(job_get_state(budget), JOB_SUCCEEDED);
  CHECK_EQ_INT(job_get_state(late), JOB_TIMED_OUT);
  job_result r;
  job_get_result(late, &r);
  CHECK(r.run_s < 2.0);
  job_release(budget);
  job_release(late);
}

static void test_cancel_queued(nx_model *m)
{
  /* Two workers busy, so the third job waits in the queue. */
  job *a = submit(m, (job_params){ .time_limit = 5 });
  job *b = submit(m, (job_params){ .time_limit = 5 });
  job *c = submit(m, (job_params){ .time_limit = 5 });
  CHECK_EQ_INT(job_get_state(c), JOB_QUEUED);
  CHECK_EQ_INT(job_cancel(c), 1);
  CHECK_EQ_INT(job_get_state(c), JOB_CANCELLED);
  job_result r;
  CHECK_EQ_INT(job_get_result(c, &r), 0);
  CHECK(r.tour == NULL);
  job_cancel(a);
  job_cancel(b);
  job_wait(a, 5.0);
  job_wait(b, 5.0);
  job_release(a);
  job_release(b);
  job_release(c);
}

/* Queued jobs are served round-robin between owners: B's one job starts
 * before A's backlog. */
static void test_owners_take_turns(nx_model *m)
{
  job *a[4], *b;
  engine_set_owner("A");
  for (int i = 0; i < 4; i++)
    a[i] = submit(m, (job_params){ .time_limit = 5 });
  engine_set_owner("B");
  b = submit(m, (job_params){ .time_limit = 5 });
  engine_set_owner(NULL);
  job_event ev;
  CHECK_EQ_INT(job_next_event(a[0], 0, 5.0, &ev), 1); /* A1 runs */
  CHECK_EQ_INT(job_get_state(a[2]), JOB_QUEUED);
  job_cancel(a[0]);
  job_wait(a[0], 5.0);
  CHECK_EQ_INT(job_next_event(b, 0, 5.0, &ev), 1);    /* B1 runs next */
  CHECK_EQ_INT(job_get_state(b), JOB_RUNNING);
  CHECK_EQ_INT(job_get_state(a[2]), JOB_QUEUED);
  for (int i = 0; i < 4; i++)
    job_cancel(a[i]);
  job_cancel(b);
  for (int i = 0; i < 4; i++) {
    job_wait(a[i], 5.0);
    job_release(a[i]);
  }
  job_wait(b, 5.0);
  job_release(b);
}

/* The same seed, sweeps and replicas give the same tour on both backends,
 * and results name the backend and device that ran them. */
static void test_backends_agree(nx_model *m)
{
  job_params p = { .seed = 3, .sweeps = 300, .replicas = 6 };
  p.solver = JOB_SOLVER_CPU;
  job *cpu = submit(m, p);
  p.solver = JOB_SOLVER_GPU;
  job *gpu = submit(m, p);
  p.solver = JOB_SOLVER_AUTO;
  job *any = submit(m, p);
  CHECK(cpu && gpu && any);
  if (!cpu || !gpu || !any)
    return;
  job_wait(cpu, 30.0);
  job_wait(gpu, 30.0);
  job_wait(any, 30.0);
  job_result rc, rg, ra;
  CHECK_EQ_INT(job_get_result(cpu, &rc), 0);
  CHECK_EQ_INT(job_get_result(gpu, &rg), 0);
  CHECK_EQ_INT(job_get_result(any, &ra), 0);
  CHECK_EQ_INT(rg.state, JOB_SUCCEEDED);
  CHECK(strcmp(rc.solver, "cpu") == 0 && strcmp(rg.solver, "gpu") == 0);
  CHECK(strncmp(rg.device, "gpu: ", 5) == 0);
  CHECK(rc.solver_reason == NULL && ra.solver_reason != NULL);
  CHECK_EQ_INT(rc.energy, rg.energy);
  CHECK(rc.tour && rg.tour &&
        memcmp(rc.tour, rg.tour, sizeof(int32_t) * (size_t)rc.n) == 0);
  CHECK_EQ_INT(ra.energy, rc.energy);
  job_release(cpu);
  job_release(gpu);
  job_release(any);
}

int main(void)
{
  setenv("NEROX_WORKERS", "2", 1);
  nx_model *m = random_model(60, 42);
  CHECK(m != NULL);
  if (!m)
    return test_report("test_engine");
  test_sweeps_job(m);
  test_cancel_running(m);
  test_time_limit(m);
  test_cancel_queued(m);
  test_owners_take_turns(m);
  test_backends_agree(m);
  engine_shutdown();
  model_release(m);
  return test_report("test_engine");
}
