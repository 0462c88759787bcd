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
