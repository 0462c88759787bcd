/* The `perm` kernel through Vulkan: the same algorithm as the CPU
 * reference (host/anneal/perm.c), run as the compute shader
 * shaders/perm.comp, so the same model, seed, replicas and sweeps give the
 * same tour and energy on both backends. */
#ifndef NEROX_PERM_GPU_H
#define NEROX_PERM_GPU_H

#include <stddef.h>

#include "anneal/perm.h"

/* Run the kernel on the Vulkan device that nvk picks (NEROX_DEVICE).
 * Same contract as perm_solve_cpu; `device` receives the device's name.
 * Returns 0 with *res filled, or -1 with err (no device, device lost,
 * model too large for the device, a dispatch cut short). */
int perm_solve_gpu(const perm_model *m, const perm_params *p,
                   perm_progress_fn progress, void *ud, perm_result *res,
                   char *device, size_t devlen, char *err, size_t errlen);

#endif
