/* What the files of host/vk share: the context and the objects' insides.
 *
 * Ownership: the context owns the instance, device, queue, command pool
 * and the cached pipelines. Buffers and bindings belong to their callers
 * but are also kept on the context's live lists, so nvk_shutdown() can
 * destroy their Vulkan handles (the caller's later destroy then frees only
 * the struct), and so a destroy after a device loss can be deferred until
 * the device is idle. */
#ifndef NEROX_VK_INTERNAL_H
#define NEROX_VK_INTERNAL_H

#include <pthread.h>

#include "vk/vk.h"

/* Longest pipeline (shader) name and buffer label kept. */
#define NVK_LABEL_MAX 64
/* Longest saved error: the reason a context was marked lost. */
#define NVK_REASON_MAX 256

struct nvk_pipeline {
  struct nvk_pipeline *next;
  char name[NVK_LABEL_MAX];
  uint32_t n_buffers, push_size;
  VkShaderModule module;
  VkDescriptorSetLayout set_layout;
  VkPipelineLayout layout;
  VkPipeline pipeline;
};

struct nvk_buffer {
  struct nvk_buffer *next;    /* context's live list */
  unsigned gen;               /* context generation; 0 once orphaned */
  int released;               /* owner destroyed it; freed at shutdown */
  char label[NVK_LABEL_MAX];
  nvk_memory memory;          /* HOST or DEVICE */
  VkDeviceSize size;
  VkBuffer buffer;
  VkDeviceMemory mem;
  void *map;                  /* HOST only */
};

struct nvk_binding {
  struct nvk_binding *next;   /* context's live list */
  unsigned gen;
  int released;
  nvk_pipeline *pipeline;
  VkDescriptorPool pool;
  VkDescriptorSet set;
};

typedef struct nvk_context {
  unsigned gen;               /* bumped by each device creation */
  /* instance part */
  VkInstance instance;
  uint32_t instance_api;
  VkDebugUtilsMessengerEXT messenger;
  uint32_t n_devices;
  VkPhysicalDevice *phys;
  nvk_device_info *devs;
  /* device part */
  int picked;
  VkPhysicalDevice pdev;
  VkPhysicalDeviceMemoryProperties mem_props;
  VkDevice device;
  uint32_t family;
  VkQueue queue;
  VkCommandPool pool;
  nvk_pipeline *pipelines;
  nvk_buffer *buffers;
  nvk_binding *bindings;
  VkFence *stuck;             /* fences of submissions never waited out */
  uint32_t n_stuck;
  int lost;
  char lost_reason[NVK_REASON_MAX];
} nvk_context;

/* The one context and the lock that guards it, the queue and the pool. */
extern nvk_context nvk_ctx;
extern pthread_mutex_t nvk_lock;

/* Handles in log lines, whatever their C type. */
#define NVK_HANDLE(h) ((unsigned long long)(uintptr_t)(h))

/* Writes the message to err; returns -1. */
int nvk_errorf(char *err, size_t errlen, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
/* "<what>: VK_ERROR_..."; returns -1. */
int nvk_vkfail(char *err, size_t errlen, VkResult r, const char *what);

/* With nvk_lock held: creates what is missing of the context and fails
 * when it is lost. */
int nvk_ready_locked(char *err, size_t errlen);
/* With nvk_lock held: marks the context lost for `reason`. */
void nvk_mark_lost_locked(const char *reason);

/* Records into a fresh command buffer (after a barrier that orders it
 * behind everything submitted before), submits, and waits up to
 * timeout_ms with nvk_lock released. `record` runs with the lock held.
 * A loss or timeout marks the context lost. Returns 0 or -1 with err. */
typedef int (*nvk_record_fn)(VkCommandBuffer cb, void *arg, char *err,
                             size_t errlen);
int nvk_submit(nvk_record_fn record, void *arg, uint32_t timeout_ms,
               char *err, size_t errlen);

/* A global memory barrier. */
void nvk_barrier(VkCommandBuffer cb, VkPipelineStageFlags src_stage,
                 VkAccessFlags src, VkPipelineStageFlags dst_stage,
                 VkAccessFlags dst);

/* With nvk_lock held, at shutdown: destroy every pipeline, buffer and
 * binding handle (vk_pipeline.c, vk_buffer.c). */
void nvk_pipelines_free_locked(void);
void nvk_bindings_free_locked(void);
void nvk_buffers_free_locked(void);

#endif
