/* Storage buffers: host-visible and mapped, or device-local and filled
 * and read back through a staging buffer and a queue copy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "vk/vk_internal.h"

static const char *nvk_memory_name(nvk_memory m)
{
  return m == NVK_MEMORY_DEVICE ? "device" : "host";
}

/* A memory type allowed by `bits` with all of `want`, preferring one that
 * also has `prefer`; -1 when there is none. */
static int nvk_memory_type(uint32_t bits, VkMemoryPropertyFlags want,
                           VkMemoryPropertyFlags prefer)
{
  const VkPhysicalDeviceMemoryProperties *mp = &nvk_ctx.mem_props;
  int found = -1;
  for (uint32_t i = 0; i < mp->memoryTypeCount; i++) {
    VkMemoryPropertyFlags f = mp->memoryTypes[i].propertyFlags;
    if (!(bits & (1u << i)) || (f & want) != want)
      continue;
    if ((f & prefer) == prefer)
      return (int)i;
    if (found < 0)
      found = (int)i;
  }
  return found;
}

static void nvk_buffer_free_handles(nvk_buffer *b)
{
  VkDevice dev = nvk_ctx.device;
  if (b->map)
    vkUnmapMemory(dev, b->mem);
  if (b->buffer) {
    vkDestroyBuffer(dev, b->buffer, NULL);
    LOG_D("vk", "destroyed VkBuffer 0x%llx '%s'", NVK_HANDLE(b->buffer),
          b->label);
  }
  if (b->mem) {
    vkFreeMemory(dev, b->mem, NULL);
    LOG_D("vk", "freed VkDeviceMemory 0x%llx '%s'", NVK_HANDLE(b->mem),
          b->label);
  }
  b->map = NULL;
  b->buffer = VK_NULL_HANDLE;
  b->mem = VK_NULL_HANDLE;
}

void nvk_buffers_free_locked(void)
{
  while (nvk_ctx.buffers) {
    nvk_buffer *b = nvk_ctx.buffers;
    nvk_ctx.buffers = b->next;
    nvk_buffer_free_handles(b);
    b->gen = 0;
    if (b->released)
      free(b);
  }
}

static int nvk_buffer_alloc_locked(nvk_buffer *b, char *err, size_t errlen)
{
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(nvk_ctx.device, b->buffer, &req);
  VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
  VkMemoryPropertyFlags prefer = want;
  if (b->memory == NVK_MEMORY_HOST) {
    want = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT
           | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    prefer = want | VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
  }
  int type = nvk_memory_type(req.memoryTypeBits, want, prefer);
  if (type < 0)
    return nvk_errorf(err, errlen, "buffer '%s': no %s memory type",
                      b->label, nvk_memory_name(b->memory));
  VkMemoryAllocateInfo ai = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
    .allocationSize = req.size,
    .memoryTypeIndex = (uint32_t)type,
  };
  VkResult r = vkAllocateMemory(nvk_ctx.device, &ai, NULL, &b->mem);
  if (r != VK_SUCCESS)
    return nvk_vkfail(err, errlen, r, "vkAllocateMemory");
  LOG_D("vk", "allocated VkDeviceMemory 0x%llx '%s' (%llu bytes, type %d)",
        NVK_HANDLE(b->mem), b->label, (unsigned long long)req.size, type);
  r = vkBindBufferMemory(nvk_ctx.device, b->buffer, b->mem, 0);
  if (r != VK_SUCCESS)
    return nvk_vkfail(err, errlen, r, "vkBindBufferMemory");
  if (b->memory == NVK_MEMORY_HOST) {
    r = vkMapMemory(nvk_ctx.device, b->mem, 0, VK_WHOLE_SIZE, 0, &b->map);
    if (r != VK_SUCCESS)
      return nvk_vkfail(err, errlen, r, "vkMapMemory");
  }
  return 0;
}

static int nvk_buffer_make_locked(nvk_buffer *b, char *err, size_t errlen)
{
  VkBufferCreateInfo ci = {
    .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
    .size = b->size,
    .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT
             | VK_BUFFER_USAGE_TRANSFER_SRC_BIT
             | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
    .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
  };
  VkResult r = vkCreateBuffer(nvk_ctx.device, &ci, NULL, &b->buffer);
  if (r != VK_SUCCESS)
    return nvk_vkfail(err, errlen, r, "vkCreateBuffer");
  LOG_D("vk", "created VkBuffer 0x%llx '%s' (%llu bytes, %s memory)",
        NVK_HANDLE(b->buffer), b->label, (unsigned long long)b->size,
        nvk_memory_name(b->memory));
  return nvk_buffer_alloc_locked(b, err, errlen);
}

static nvk_buffer *nvk_buffer_create_locked(VkDeviceSize size,
                                            nvk_memory memory,
                                            const char *label, char *err,
                                            size_t errlen)
{
  nvk_buffer *b = calloc(1, sizeof *b);
  if (!b) {
    nvk_errorf(err, errlen, "out of memory");
    return NULL;
  }
  snprintf(b->label, sizeof b->label, "%s", label ? label : "buffer");
  b->size = size;
  b->memory = memory;
  if (memory == NVK_MEMORY_AUTO)
    b->memory = nvk_ctx.devs[nvk_ctx.picked].type
                    == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU
                  ? NVK_MEMORY_DEVICE : NVK_MEMORY_HOST;
  if (nvk_buffer_make_locked(b, err, errlen) != 0) {
    nvk_buffer_free_handles(b);
    free(b);
    return NULL;
  }
  b->gen = nvk_ctx.gen;
  b->next = nvk_ctx.buffers;
  nvk_ctx.buffers = b;
  return b;
}

nvk_buffer *nvk_buffer_create(VkDeviceSize size, nvk_memory memory,
                              const char *label, char *err, size_t errlen)
{
  if (size == 0) {
    nvk_errorf(err, errlen, "buffer '%s': size 0", label ? label : "");
    return NULL;
  }
  nvk_buffer *b = NULL;
  pthread_mutex_lock(&nvk_lock);
  if (nvk_ready_locked(err, errlen) == 0)
    b = nvk_buffer_create_locked(size, memory, label, err, errlen);
  pthread_mutex_unlock(&nvk_lock);
  return b;
}

void nvk_buffer_destroy(nvk_buffer *b)
{
  if (!b)
    return;
  pthread_mutex_lock(&nvk_lock);
  if (b->gen != nvk_ctx.gen || !b->gen) {
    free(b);                    /* orphaned by a shutdown */
  } else if (nvk_ctx.lost) {
    b->released = 1;            /* the GPU may still use it */
  } else {
    nvk_buffer **at = &nvk_ctx.buffers;
    while (*at != b)
      at = &(*at)->next;
    *at = b->next;
    nvk_buffer_free_handles(b);
    free(b);
  }
  pthread_mutex_unlock(&nvk_lock);
}

VkDeviceSize nvk_buffer_size(const nvk_buffer *b)
{
  return b->size;
}

nvk_memory nvk_buffer_memory(const nvk_buffer *b)
{
  return b->memory;
}

/* ---- reads and writes ---------------------------------------------------- */

typedef struct nvk_copy {
  nvk_buffer *src, *dst;
  VkDeviceSize src_off, dst_off, n;
} nvk_copy;

static int nvk_live_locked(const nvk_buffer *b, char *err, size_t errlen)
{
  if (b->gen != nvk_ctx.gen || !b->gen || b->released)
    return nvk_errorf(err, errlen,
                      "buffer '%s' is gone (its Vulkan context was shut "
                      "down)", b->label);
  return 0;
}

static int nvk_record_copy(VkCommandBuffer cb, void *arg, char *err,
                           size_t errlen)
{
  const nvk_copy *c = arg;
  if (nvk_live_locked(c->src, err, errlen) != 0
      || nvk_live_locked(c->dst, err, errlen) != 0)
    return -1;
  VkBufferCopy region = { c->src_off, c->dst_off, c->n };
  vkCmdCopyBuffer(cb, c->src->buffer, c->dst->buffer, 1, &region);
  return 0;
}

static int nvk_range_check(const nvk_buffer *b, VkDeviceSize off,
                           size_t n, char *err, size_t errlen)
{
  if (off > b->size || n > b->size - off)
    return nvk_errorf(err, errlen,
                      "buffer '%s': %zu bytes at %llu are past its %llu",
                      b->label, n, (unsigned long long)off,
                      (unsigned long long)b->size);
  return 0;
}

/* Copies between host memory and a mapped buffer, under the lock. */
static int nvk_mapped_copy(nvk_buffer *b, VkDeviceSize off, void *host,
                           size_t n, int to_buffer, char *err, size_t errlen)
{
  pthread_mutex_lock(&nvk_lock);
  int rc = nvk_live_locked(b, err, errlen);
  if (rc == 0 && to_buffer)
    memcpy((char *)b->map + off, host, n);
  else if (rc == 0)
    memcpy(host, (char *)b->map + off, n);
  pthread_mutex_unlock(&nvk_lock);
  return rc;
}

int nvk_buffer_write(nvk_buffer *b, VkDeviceSize offset, const void *src,
                     size_t n, char *err, size_t errlen)
{
  if (nvk_range_check(b, offset, n, err, errlen) != 0)
    return -1;
  if (n == 0)
    return 0;
  if (b->memory == NVK_MEMORY_HOST)
    return nvk_mapped_copy(b, offset, (void *)src, n, 1, err, errlen);

  nvk_buffer *st = nvk_buffer_create(n, NVK_MEMORY_HOST, "staging", err,
                                     errlen);
  if (!st)
    return -1;
  int rc = nvk_mapped_copy(st, 0, (void *)src, n, 1, err, errlen);
  nvk_copy c = { st, b, 0, offset, n };
  if (rc == 0)
    rc = nvk_submit(nvk_record_copy, &c, NVK_DEFAULT_TIMEOUT_MS, err,
                    errlen);
  nvk_buffer_destroy(st);
  return rc;
}

int nvk_buffer_read(nvk_buffer *b, VkDeviceSize offset, void *dst,
                    size_t n, char *err, size_t errlen)
{
  if (nvk_range_check(b, offset, n, err, errlen) != 0)
    return -1;
  if (n == 0)
    return 0;
  if (b->memory == NVK_MEMORY_HOST)
    return nvk_mapped_copy(b, offset, dst, n, 0, err, errlen);

  nvk_buffer *st = nvk_buffer_create(n, NVK_MEMORY_HOST, "staging", err,
                                     errlen);
  if (!st)
    return -1;
  nvk_copy c = { b, st, offset, 0, n };
  int rc = nvk_submit(nvk_record_copy, &c, NVK_DEFAULT_TIMEOUT_MS, err,
                      errlen);
  if (rc == 0)
    rc = nvk_mapped_copy(st, 0, dst, n, 0, err, errlen);
  nvk_buffer_destroy(st);
  return rc;
}
