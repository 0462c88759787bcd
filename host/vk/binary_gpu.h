/* The `binary` kernel through Vulkan: the same algorithm as the CPU
 * reference (host/anneal/binary.c), run as the compute shaders
 * shaders/binary_*.comp, so the same model, seed, replicas and sweeps give
 * the same assignment and energy on both backends. */
#ifndef NEROX_BINARY_GPU_H
#define NEROX_BINARY_GPU_H

#include <stddef.h>

#include "anneal/binary.h"

/* Run the kernel on the Vulkan device that nvk picks (NEROX_DEVICE).
 * Same contract as binary_solve_cpu; `device` receives the device's name.
 * Returns 0 with *res filled, or -1 with err (bad model, no device,
 * device lost, model too large for the device, a dispatch cut short). */
int binary_solve_gpu(const binary_model *m, const anneal_params *p,
                     anneal_progress_fn progress, void *ud,
                     anneal_result *res, char *device, size_t devlen,
                     char *err, size_t errlen);

#endif
