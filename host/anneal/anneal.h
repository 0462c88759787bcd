/* What every annealing kernel shares: run parameters, progress reports,
 * stopping reasons and results. The `perm` (TSP) and `binary` (QUBO,
 * Ising) kernels, on the CPU and through Vulkan, all take and give these,
 * so the engine drives every kernel and backend the same way. Energies are
 * integers in kernel units; "best" means lowest. */
#ifndef NEROX_ANNEAL_H
#define NEROX_ANNEAL_H

#include <stddef.h>
#include <stdint.h>

typedef struct anneal_params {
  uint64_t seed;
  int replicas;       /* temperatures in the ladder; 0 = default */
  int64_t sweeps;     /* sweeps per replica; 0 = until time/cancel */
  double time_limit;  /* seconds; 0 = none (then sweeps must be set) */
  int threads;        /* 0 = all cores */
  int has_target;
  int64_t target_energy; /* stop as soon as best <= target */
} anneal_params;

typedef struct anneal_progress {
  int64_t sweep;        /* sweeps completed per replica */
  int64_t best_energy;  /* best energy seen so far */
  int64_t energy;       /* current energy of the coldest replica */
  double elapsed_s;
  int replicas;
  uint64_t proposals;   /* moves proposed so far, all replicas */
  const int32_t *best_tour; /* best state; valid during the callback */
} anneal_progress;

/* Called between sweep batches (about every 10 ms, always from the thread
 * that called the kernel).
 * Return nonzero to stop the run at this sweep boundary. */
typedef int (*anneal_progress_fn)(void *ud, const anneal_progress *p);

typedef enum anneal_stop {
  ANNEAL_STOP_SWEEPS = 0,  /* ran the requested sweeps */
  ANNEAL_STOP_TIME,        /* time limit reached */
  ANNEAL_STOP_TARGET,      /* best <= target_energy */
  ANNEAL_STOP_CALLBACK     /* the progress callback asked to stop */
} anneal_stop;

/* Whether a run under p has spent its budget: 1 with *why when best
 * (in the caller's energy, offset included) reached the target, the
 * sweeps are done or the time is up, in that order; else 0. Every
 * kernel and backend stops by this one rule. */
static inline int anneal_budget_spent(const anneal_params *p, int64_t best,
                                      int64_t sweeps_done, double elapsed_s,
                                      anneal_stop *why)
{
  if (p->has_target && best <= p->target_energy)
    *why = ANNEAL_STOP_TARGET;
  else if (p->sweeps > 0 && sweeps_done >= p->sweeps)
    *why = ANNEAL_STOP_SWEEPS;
  else if (p->time_limit > 0 && elapsed_s >= p->time_limit)
    *why = ANNEAL_STOP_TIME;
  else
    return 0;
  return 1;
}

/* Sweeps in the next exchange round: round_sweeps, or what is left of
 * p->sweeps when that is less. */
static inline int64_t anneal_round_len(const anneal_params *p,
                                       int64_t round_sweeps,
                                       int64_t sweeps_done)
{
  if (p->sweeps > 0 && p->sweeps - sweeps_done < round_sweeps)
    return p->sweeps - sweeps_done;
  return round_sweeps;
}

typedef struct anneal_result {
  int32_t *tour;        /* best state, n entries, malloc'd; caller frees:
                         * a tour (perm) or 0/1 values (binary) */
  int64_t energy;       /* its energy, recomputed from the state */
  int64_t sweeps;       /* sweeps completed per replica */
  int replicas;
  uint64_t proposals;
  double elapsed_s;
  anneal_stop stop;
} anneal_result;

#endif
