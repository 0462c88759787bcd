/* Vulkan compute backend: one process-wide context, created on first use.
 *
 * The context holds the instance (with the Khronos validation layer and a
 * debug messenger when NEROX_VK_VALIDATION=1), the picked physical device
 * (NEROX_DEVICE, else discrete GPU first, then integrated, virtual, CPU),
 * one compute queue and a command pool. On top of it: storage buffers,
 * compute pipelines built once per process from SPIR-V embedded in the
 * binary (cmake/shaders.cmake) and cached by name, descriptor bindings,
 * and a dispatch that waits on a fence with a timeout.
 *
 * Every function that can fail returns -1 or NULL and writes a message to
 * err (errlen bytes); nothing here prints except through util/log.h
 * (NEROX_LOG=debug shows each Vulkan object created and destroyed).
 * Functions are thread-safe: one lock guards the context, the queue and the
 * pool, and is released while a dispatch waits. After a device loss or a
 * timed-out wait the context is marked lost and every later call fails
 * with that reason until nvk_shutdown().
 *
 * All names are nvk_ (Vulkan's own are vk). */
#ifndef NEROX_VK_H
#define NEROX_VK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <vulkan/vulkan.h>

/* Longest device or driver name kept. */
#define NVK_NAME_MAX 256
/* Fence timeout callers use unless they have a reason for another. */
#define NVK_DEFAULT_TIMEOUT_MS 10000u
/* Most storage buffers a pipeline binds (set 0, bindings 0..N-1). */
#define NVK_MAX_BUFFERS 16
/* Most dispatches recorded into one submission. */
#define NVK_MAX_STEPS 256

/* SPIR-V compiled into the binary; tables end with a zero entry. */
typedef struct nvk_shader {
  const char *name;      /* file name without .comp */
  const uint32_t *code;
  size_t size;           /* bytes */
} nvk_shader;

/* The shaders of shaders/, by file name (cmake/shaders.cmake). */
extern const nvk_shader nvk_shaders[];

/* NULL when no shader of that name is embedded. */
const nvk_shader *nvk_shader_find(const char *name);

/* What `nerox devices` shows of one physical device. */
typedef struct nvk_device_info {
  uint32_t index;                /* loader order; NEROX_DEVICE=index */
  char name[NVK_NAME_MAX];
  VkPhysicalDeviceType type;
  uint32_t api_version;
  uint32_t vendor_id, device_id;
  uint32_t driver_version;       /* vendor encoded */
  char driver[NVK_NAME_MAX];     /* "llvmpipe (Mesa 22.3.6 ...)" */
  uint32_t max_group_count[3];
  uint32_t max_group_size[3];
  uint32_t max_group_invocations;
  uint32_t max_storage_buffer_range;
  uint32_t max_push_constants;
  uint32_t subgroup_size;
  int shader_int64;              /* shaderInt64: enabled when present */
  int subgroup_arithmetic;       /* subgroup arithmetic in compute */
  int usable;                    /* Vulkan 1.1 and a compute queue */
} nvk_device_info;

/* "discrete", "integrated", "virtual", "cpu" or "other". */
const char *nvk_device_type_name(VkPhysicalDeviceType type);

/* Which device `want` (NEROX_DEVICE: an index, or a case-insensitive part
 * of the name; NULL or "" for the default order) picks among `n` devices.
 * Returns the position in `devs`, or -1 with err. Needs no Vulkan. */
int nvk_pick_device(const nvk_device_info *devs, uint32_t n,
                    const char *want, char *err, size_t errlen);

/* Every device the loader finds, in loader order (*devs is malloc'd; free
 * it), and in *picked the position NEROX_DEVICE and the default order
 * choose: -1, with the reason in err, when none can be picked. Returns -1
 * with err when there is no driver or no device. */
int nvk_list_devices(nvk_device_info **devs, uint32_t *n, int *picked,
                     char *err, size_t errlen);

/* `nerox devices`: prints every device, as text or JSON, marking the one
 * that would be picked. Returns 0, or -1 with err when none would be
 * (after printing what was found). */
int nvk_devices_print(FILE *out, int json, char *err, size_t errlen);

/* Creates the context now (it is otherwise created on first use) and
 * copies the picked device's description to *info. Returns 0 or -1. */
int nvk_device(nvk_device_info *info, char *err, size_t errlen);

/* Destroys the context and everything it still holds, after the device is
 * idle; the next call creates a fresh one (and reads the environment
 * again). Buffers and bindings still alive lose their Vulkan handles and
 * only await their destroy. Safe to call when nothing was created; call it
 * when no other thread uses the backend (at exit, or in tests). */
void nvk_shutdown(void);

/* Validation messages counted since the process started (0 unless
 * NEROX_VK_VALIDATION=1), so tests can fail on any. */
void nvk_validation_counts(unsigned *errors, unsigned *warnings);

/* "VK_ERROR_DEVICE_LOST" and so on; "VkResult(<n>)" when unknown. */
const char *nvk_result_name(VkResult r);

/* Storage buffers. HOST memory is host-visible, coherent and mapped: reads
 * and writes are copies. DEVICE memory is device-local and never mapped:
 * reads and writes go through a staging buffer and a queue copy. AUTO is
 * DEVICE on a discrete GPU, HOST elsewhere. */
typedef enum nvk_memory {
  NVK_MEMORY_AUTO = 0,
  NVK_MEMORY_HOST,
  NVK_MEMORY_DEVICE
} nvk_memory;

typedef struct nvk_buffer nvk_buffer;

nvk_buffer *nvk_buffer_create(VkDeviceSize size, nvk_memory memory,
                              const char *label, char *err, size_t errlen);
void nvk_buffer_destroy(nvk_buffer *b);
VkDeviceSize nvk_buffer_size(const nvk_buffer *b);
nvk_memory nvk_buffer_memory(const nvk_buffer *b); /* HOST or DEVICE */
int nvk_buffer_write(nvk_buffer *b, VkDeviceSize offset, const void *src,
                     size_t n, char *err, size_t errlen);
int nvk_buffer_read(nvk_buffer *b, VkDeviceSize offset, void *dst,
                    size_t n, char *err, size_t errlen);

/* A compute pipeline: the embedded shader `name`, `n_buffers` storage
 * buffers at set 0 bindings 0..n_buffers-1 and `push_size` bytes of push
 * constants (a multiple of 4). Built on first request and owned by the
 * context: later requests for the name return the same object, and a
 * request with another layout fails. */
typedef struct nvk_pipeline nvk_pipeline;

nvk_pipeline *nvk_pipeline_get(const char *name, uint32_t n_buffers,
                               uint32_t push_size, char *err, size_t errlen);
VkPipeline nvk_pipeline_handle(const nvk_pipeline *p);

/* Buffers bound to a pipeline's bindings (a descriptor set): made once per
 * job, used by any number of dispatches, destroyed before its buffers. */
typedef struct nvk_binding nvk_binding;

nvk_binding *nvk_binding_create(nvk_pipeline *p, nvk_buffer *const *bufs,
                                uint32_t n, char *err, size_t errlen);
void nvk_binding_destroy(nvk_binding *b);

/* One dispatch: its pipeline comes from the binding; push points to the
 * pipeline's push_size bytes. */
typedef struct nvk_step {
  nvk_binding *binding;
  const void *push;
  uint32_t groups[3];
} nvk_step;

/* Records `n` steps into one submission, with a barrier between them so
 * each sees the writes of the last, and waits for it up to timeout_ms.
 * A device loss or timeout marks the context lost. */
int nvk_dispatch(const nvk_step *steps, uint32_t n, uint32_t timeout_ms,
                 char *err, size_t errlen);

#endif
