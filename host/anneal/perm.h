/* The `perm` kernel: simulated annealing over permutations (closed tours)
 * with an integer cost matrix, by parallel tempering. This is the CPU
 * reference; the Vulkan shader implements exactly the same algorithm.
 *
 * Determinism: every random number comes from a counter-based generator
 * keyed by (seed, replica, step) and acceptance is integer arithmetic on a
 * host-computed table, so the same model, seed, replicas and sweeps give the
 * same tour whatever the thread count or machine. */
#ifndef NEROX_PERM_H
#define NEROX_PERM_H

#include <stddef.h>
#include <stdint.h>

#include "anneal/anneal.h"
#include "formats/tsplib.h"

/* Smallest and largest number of cities the kernel accepts. */
#define PERM_MIN_N 3
#define PERM_MAX_N 100000
/* Largest replica count a caller may ask for. */
#define PERM_MAX_REPLICAS 256
/* Replicas used when params.replicas is 0 grow with sqrt(n) up to this. */
#define PERM_DEFAULT_MAX_REPLICAS 32
/* Replicas the Vulkan backend uses when params.replicas is 0: four full
 * workgroups of 8, so that every lane of every group works and the groups
 * split evenly between the threads of a CPU device (lavapipe) as between
 * compute units. With it the backend does 1.3 to 1.8 times the proposals
 * per second it does at the CPU's 13 (kroA100) or 18 (pcb442) replicas
 * (bench/results/perm_gpu_lavapipe.md). The same explicit replicas still
 * give the same tour on both backends. */
#define PERM_GPU_DEFAULT_REPLICAS 32
/* Most worker threads a run uses. */
#define PERM_MAX_THREADS 256
/* Up to this many cities the caller builds a full distance matrix; above
 * it the kernel reads coordinates (perm_wants_matrix decides). Measured on
 * 2 cores (bench/results/perm_cpu.md), M proposals/s matrix/coordinates:
 * random EUC_2D, computed inline: n = 200 90/78, 500 83/79, 1000 69/76,
 * 2000 54/71, 5000 29/55; ATT through tsplib_dist: n = 200 89/56,
 * 1000 69/55, 2000 55/52, 5000 28/38. */
#define PERM_MATRIX_MAX_N 1000
#define PERM_MATRIX_MAX_N_OTHER 3000

typedef struct perm_model {
  int n;
  /* Either a full n*n matrix (row-major, symmetric) ... */
  const int32_t *matrix;
  /* ... or coordinates with a TSPLIB metric, used when matrix is NULL. */
  const tsp_instance *instance;
} perm_model;

/* The shared types under the names the perm kernel was written with. */
typedef anneal_params perm_params;
typedef anneal_progress perm_progress;
typedef anneal_progress_fn perm_progress_fn;
typedef anneal_stop perm_stop;
typedef anneal_result perm_result;
#define PERM_STOP_SWEEPS ANNEAL_STOP_SWEEPS
#define PERM_STOP_TIME ANNEAL_STOP_TIME
#define PERM_STOP_TARGET ANNEAL_STOP_TARGET
#define PERM_STOP_CALLBACK ANNEAL_STOP_CALLBACK

/* Run the kernel on the CPU. Returns 0 with *res filled, or -1 with err. */
int perm_solve_cpu(const perm_model *m, const perm_params *p,
                   perm_progress_fn progress, void *ud,
                   perm_result *res, char *err, size_t errlen);

/* Whether the caller should build the matrix for this instance: always
 * for EXPLICIT; else n <= PERM_MATRIX_MAX_N for EUC_2D and
 * PERM_MATRIX_MAX_N_OTHER for the other metrics. */
int perm_wants_matrix(const tsp_instance *t);

/* Length of a closed tour under the model. */
int64_t perm_tour_length(const perm_model *m, const int32_t *tour);

#endif
