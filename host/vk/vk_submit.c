/* Submissions: record a command buffer, submit it to the compute queue and
 * wait on its fence with a timeout. A device loss or a wait that times out
 * marks the context lost: the command buffer may still be running, so its
 * fence is kept until shutdown and later calls fail with the reason. */
#include <stdio.h>
#include <stdlib.h>

#include "util/log.h"
#include "vk/vk_internal.h"

/* Stages and accesses of everything we record: compute and copies. */
#define NVK_WORK_STAGES \
  (VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT)
#define NVK_WORK_WRITES \
  (VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT)
#define NVK_WORK_ACCESS \
  (NVK_WORK_WRITES | VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT)

void nvk_barrier(VkCommandBuffer cb, VkPipelineStageFlags src_stage,
                 VkAccessFlags src, VkPipelineStageFlags dst_stage,
                 VkAccessFlags dst)
{
  VkMemoryBarrier mb = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
    .srcAccessMask = src,
    .dstAccessMask = dst,
  };
  vkCmdPipelineBarrier(cb, src_stage, dst_stage, 0, 1, &mb, 0, NULL, 0,
                       NULL);
}

static int nvk_record_locked(nvk_record_fn record, void *arg,
                             VkCommandBuffer *out, char *err, size_t errlen)
{
  VkCommandBufferAllocateInfo ai = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
    .commandPool = nvk_ctx.pool,
    .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
    .commandBufferCount = 1,
  };
  VkResult r = vkAllocateCommandBuffers(nvk_ctx.device, &ai, out);
  if (r != VK_SUCCESS)
    return nvk_vkfail(err, errlen, r, "vkAllocateCommandBuffers");
  VkCommandBufferBeginInfo bi = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
    .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
  };
  r = vkBeginCommandBuffer(*out, &bi);
  if (r != VK_SUCCESS)
    return nvk_vkfail(err, errlen, r, "vkBeginCommandBuffer");
  /* Device writes of earlier submissions are not visible without this. */
  nvk_barrier(*out, NVK_WORK_STAGES, NVK_WORK_WRITES, NVK_WORK_STAGES,
              NVK_WORK_ACCESS);
  if (record(*out, arg, err, errlen) != 0)
    return -1;
  /* And the host reads what the last command wrote. */
  nvk_barrier(*out, NVK_WORK_STAGES, NVK_WORK_WRITES,
              VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
  r = vkEndCommandBuffer(*out);
  if (r != VK_SUCCESS)
    return nvk_vkfail(err, errlen, r, "vkEndCommandBuffer");
  return 0;
}

static int nvk_launch_locked(VkCommandBuffer cb, VkFence *fence, char *err,
                             size_t errlen)
{
  VkFenceCreateInfo fi = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
  VkResult r = vkCreateFence(nvk_ctx.device, &fi, NULL, fence);
  if (r != VK_SUCCESS)
    return nvk_vkfail(err, errlen, r, "vkCreateFence");
  VkSubmitInfo si = {
    .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
    .commandBufferCount = 1,
    .pCommandBuffers = &cb,
  };
  r = vkQueueSubmit(nvk_ctx.queue, 1, &si, *fence);
  if (r == VK_SUCCESS)
    return 0;
  if (r == VK_ERROR_DEVICE_LOST)
    nvk_mark_lost_locked("vkQueueSubmit: VK_ERROR_DEVICE_LOST");
  return nvk_vkfail(err, errlen, r, "vkQueueSubmit");
}

/* Waits without the lock. On failure the reason is in err. */
static VkResult nvk_wait(VkFence fence, uint32_t timeout_ms, char *err,
                         size_t errlen)
{
  uint64_t ns = (uint64_t)timeout_ms * 1000000u;
  VkResult r = vkWaitForFences(nvk_ctx.device, 1, &fence, VK_TRUE, ns);
  if (r == VK_TIMEOUT)
    nvk_errorf(err, errlen,
               "GPU work did not finish within %u ms (fence timeout)",
               timeout_ms);
  else if (r == VK_ERROR_DEVICE_LOST)
    nvk_errorf(err, errlen,
               "Vulkan device lost (VK_ERROR_DEVICE_LOST) while waiting "
               "for GPU work: the driver reset the GPU");
  else if (r != VK_SUCCESS)
    nvk_vkfail(err, errlen, r, "vkWaitForFences");
  return r;
}

/* After the wait: free what the GPU is done with, keep what it may not
 * be, and mark the context lost when the wait failed. */
static void nvk_finish_locked(VkCommandBuffer cb, VkFence fence, VkResult r,
                              const char *reason)
{
  if (r != VK_SUCCESS) {
    nvk_mark_lost_locked(reason);
    VkFence *grown = realloc(nvk_ctx.stuck,
                             (nvk_ctx.n_stuck + 1) * sizeof *grown);
    if (grown) {
      nvk_ctx.stuck = grown;
      nvk_ctx.stuck[nvk_ctx.n_stuck++] = fence;
    }
    return;
  }
  vkDestroyFence(nvk_ctx.device, fence, NULL);
  vkFreeCommandBuffers(nvk_ctx.device, nvk_ctx.pool, 1, &cb);
}

int nvk_submit(nvk_record_fn record, void *arg, uint32_t timeout_ms,
               char *err, size_t errlen)
{
  VkCommandBuffer cb = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;

  pthread_mutex_lock(&nvk_lock);
  int rc = nvk_ready_locked(err, errlen);
  if (rc == 0)
    rc = nvk_record_locked(record, arg, &cb, err, errlen);
  if (rc == 0)
    rc = nvk_launch_locked(cb, &fence, err, errlen);
  if (rc != 0) {
    /* Never submitted (or refused): nothing runs, free it all. */
    if (fence)
      vkDestroyFence(nvk_ctx.device, fence, NULL);
    if (cb)
      vkFreeCommandBuffers(nvk_ctx.device, nvk_ctx.pool, 1, &cb);
    pthread_mutex_unlock(&nvk_lock);
    return -1;
  }
  pthread_mutex_unlock(&nvk_lock);

  VkResult r = nvk_wait(fence, timeout_ms, err, errlen);

  pthread_mutex_lock(&nvk_lock);
  nvk_finish_locked(cb, fence, r, err);
  pthread_mutex_unlock(&nvk_lock);
  return r == VK_SUCCESS ? 0 : -1;
}
