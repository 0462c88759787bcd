/* Compute pipelines built from embedded SPIR-V and cached by name, the
 * descriptor bindings that tie buffers to them, and dispatches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "vk/vk_internal.h"

const nvk_shader *nvk_shader_find(const char *name)
{
  for (const nvk_shader *s = nvk_shaders; s->name; s++)
    if (strcmp(s->name, name) == 0)
      return s;
  return NULL;
}

/* ---- pipelines ----------------------------------------------------------- */

static void nvk_pipeline_free(nvk_pipeline *p)
{
  VkDevice dev = nvk_ctx.device;
  if (p->pipeline) {
    vkDestroyPipeline(dev, p->pipeline, NULL);
    LOG_D("vk", "destroyed VkPipeline 0x%llx '%s'", NVK_HANDLE(p->pipeline),
          p->name);
  }
  if (p->layout) {
    vkDestroyPipelineLayout(dev, p->layout, NULL);
    LOG_D("vk", "destroyed VkPipelineLayout 0x%llx '%s'",
          NVK_HANDLE(p->layout), p->name);
  }
  if (p->set_layout) {
    vkDestroyDescriptorSetLayout(dev, p->set_layout, NULL);
    LOG_D("vk", "destroyed VkDescriptorSetLayout 0x%llx '%s'",
          NVK_HANDLE(p->set_layout), p->name);
  }
  if (p->module) {
    vkDestroyShaderModule(dev, p->module, NULL);
    LOG_D("vk", "destroyed VkShaderModule 0x%llx '%s'",
          NVK_HANDLE(p->module), p->name);
  }
  free(p);
}

void nvk_pipelines_free_locked(void)
{
  while (nvk_ctx.pipelines) {
    nvk_pipeline *p = nvk_ctx.pipelines;
    nvk_ctx.pipelines = p->next;
    nvk_pipeline_free(p);
  }
}

static int nvk_make_module(nvk_pipeline *p, const nvk_shader *s, char *err,
                           size_t errlen)
{
  VkShaderModuleCreateInfo ci = {
    .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
    .codeSize = s->size,
    .pCode = s->code,
  };
  VkResult r = vkCreateShaderModule(nvk_ctx.device, &ci, NULL, &p->module);
  if (r != VK_SUCCESS)
    return nvk_vkfail(err, errlen, r, "vkCreateShaderModule");
  LOG_D("vk", "created VkShaderModule 0x%llx '%s' (%zu bytes)",
        NVK_HANDLE(p->module), p->name, s->size);
  return 0;
}

static int nvk_make_layouts(nvk_pipeline *p, char *err, size_t errlen)
{
  VkDescriptorSetLayoutBinding b[NVK_MAX_BUFFERS];
  for (uint32_t i = 0; i < p->n_buffers; i++)
    b[i] = (VkDescriptorSetLayoutBinding){
      .binding = i,
      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .descriptorCount = 1,
      .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    };
  VkDescriptorSetLayoutCreateInfo si = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
    .bindingCount = p->n_buffers,
    .pBindings = b,
  };
  VkResult r = vkCreateDescriptorSetLayout(nvk_ctx.device, &si, NULL,
                                           &p->set_layout);
  if (r != VK_SUCCESS)
    return nvk_vkfail(err, errlen, r, "vkCreateDescriptorSetLayout");
  LOG_D("vk", "created VkDescriptorSetLayout 0x%llx '%s' (%u buffers)",
        NVK_HANDLE(p->set_layout), p->name, p->n_buffers);

  VkPushConstantRange pr = {
    .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    .size = p->push_size,
  };
  VkPipelineLayoutCreateInfo li = {
    .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
    .setLayoutCount = 1,
    .pSetLayouts = &p->set_layout,
    .pushConstantRangeCount = p->push_size ? 1 : 0,
    .pPushConstantRanges = &pr,
  };
  r = vkCreatePipelineLayout(nvk_ctx.device, &li, NULL, &p->layout);
  if (r != VK_SUCCESS)
    return nvk_vkfail(err, errlen, r, "vkCreatePipelineLayout");
  LOG_D("vk", "created VkPipelineLayout 0x%llx '%s' (%u push bytes)",
        NVK_HANDLE(p->layout), p->name, p->push_size);
  return 0;
}

static int nvk_make_pipeline(nvk_pipeline *p, char *err, size_t errlen)
{
  VkComputePipelineCreateInfo ci = {
    .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
    .stage = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
      .stage = VK_SHADER_STAGE_COMPUTE_BIT,
      .module = p->module,
      .pName = "main",
    },
    .layout = p->layout,
  };
  VkResult r = vkCreateComputePipelines(nvk_ctx.device, VK_NULL_HANDLE, 1,
                                        &ci, NULL, &p->pipeline);
  if (r != VK_SUCCESS)
    return nvk_vkfail(err, errlen, r, "vkCreateComputePipelines");
  LOG_D("vk", "created VkPipeline 0x%llx '%s'", NVK_HANDLE(p->pipeline),
        p->name);
  return 0;
}

static nvk_pipeline *nvk_pipeline_build_locked(const nvk_shader *s,
                                               uint32_t n_buffers,
                                               uint32_t push_size,
                                               char *err, size_t errlen)
{
  nvk_pipeline *p = calloc(1, sizeof *p);
  if (!p) {
    nvk_errorf(err, errlen, "out of memory");
    return NULL;
  }
  snprintf(p->name, sizeof p->name, "%s", s->name);
  p->n_buffers = n_buffers;
  p->push_size = push_size;
  if (nvk_make_module(p, s, err, errlen) != 0
      || nvk_make_layouts(p, err, errlen) != 0
      || nvk_make_pipeline(p, err, errlen) != 0) {
    nvk_pipeline_free(p);
    return NULL;
  }
  p->next = nvk_ctx.pipelines;
  nvk_ctx.pipelines = p;
  return p;
}

static nvk_pipeline *nvk_pipeline_get_locked(const char *name,
                                             uint32_t n_buffers,
                                             uint32_t push_size, char *err,
                                             size_t errlen)
{
  for (nvk_pipeline *p = nvk_ctx.pipelines; p; p = p->next) {
    if (strcmp(p->name, name) != 0)
      continue;
    if (p->n_buffers == n_buffers && p->push_size == push_size)
      return p;
    nvk_errorf(err, errlen,
               "pipeline '%s' exists with %u buffers and %u push bytes, "
               "not %u and %u", name, p->n_buffers, p->push_size,
               n_buffers, push_size);
    return NULL;
  }
  const nvk_shader *s = nvk_shader_find(name);
  if (!s) {
    nvk_errorf(err, errlen, "no shader '%s' is built into nerox", name);
    return NULL;
  }
  uint32_t push_max = nvk_ctx.devs[nvk_ctx.picked].max_push_constants;
  if (push_size % 4 != 0 || push_size > push_max) {
    nvk_errorf(err, errlen,
               "pipeline '%s': %u push bytes (a multiple of 4 up to %u)",
               name, push_size, push_max);
    return NULL;
  }
  return nvk_pipeline_build_locked(s, n_buffers, push_size, err, errlen);
}

nvk_pipeline *nvk_pipeline_get(const char *name, uint32_t n_buffers,
                               uint32_t push_size, char *err, size_t errlen)
{
  if (n_buffers > NVK_MAX_BUFFERS) {
    nvk_errorf(err, errlen, "pipeline '%s': %u buffers (at most %d)", name,
               n_buffers, NVK_MAX_BUFFERS);
    return NULL;
  }
  nvk_pipeline *p = NULL;
  pthread_mutex_lock(&nvk_lock);
  if (nvk_ready_locked(err, errlen) == 0)
    p = nvk_pipeline_get_locked(name, n_buffers, push_size, err, errlen);
  pthread_mutex_unlock(&nvk_lock);
  return p;
}

VkPipeline nvk_pipeline_handle(const nvk_pipeline *p)
{
  return p->pipeline;
}

/* ---- bindings ------------------------------------------------------------ */

static void nvk_binding_free_handles(nvk_binding *b)
{
  if (b->pool) {
    vkDestroyDescriptorPool(nvk_ctx.device, b->pool, NULL);
    LOG_D("vk", "destroyed VkDescriptorPool 0x%llx", NVK_HANDLE(b->pool));
  }
  b->pool = VK_NULL_HANDLE;
  b->set = VK_NULL_HANDLE;
}

void nvk_bindings_free_locked(void)
{
  while (nvk_ctx.bindings) {
    nvk_binding *b = nvk_ctx.bindings;
    nvk_ctx.bindings = b->next;
    nvk_binding_free_handles(b);
    b->gen = 0;
    if (b->released)
      free(b);
  }
}

static int nvk_binding_check_locked(nvk_pipeline *p, nvk_buffer *const *bufs,
                                    uint32_t n, char *err, size_t errlen)
{
  if (n != p->n_buffers)
    return nvk_errorf(err, errlen, "pipeline '%s' binds %u buffers, not %u",
                      p->name, p->n_buffers, n);
  uint32_t range = nvk_ctx.devs[nvk_ctx.picked].max_storage_buffer_range;
  for (uint32_t i = 0; i < n; i++) {
    if (!bufs[i] || bufs[i]->gen != nvk_ctx.gen || bufs[i]->released)
      return nvk_errorf(err, errlen, "'%s' binding %u: not a live buffer",
                        p->name, i);
    if (bufs[i]->size > range)
      return nvk_errorf(err, errlen,
                        "'%s' binding %u: %llu bytes, over the device's "
                        "maxStorageBufferRange of %u", p->name, i,
                        (unsigned long long)bufs[i]->size, range);
  }
  return 0;
}

static int nvk_binding_alloc_locked(nvk_binding *b, char *err,
                                    size_t errlen)
{
  nvk_pipeline *p = b->pipeline;
  VkDescriptorPoolSize size = {
    .type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
    .descriptorCount = p->n_buffers,
  };
  VkDescriptorPoolCreateInfo pi = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
    .maxSets = 1,
    .poolSizeCount = p->n_buffers ? 1 : 0,
    .pPoolSizes = &size,
  };
  VkResult r = vkCreateDescriptorPool(nvk_ctx.device, &pi, NULL, &b->pool);
  if (r != VK_SUCCESS)
    return nvk_vkfail(err, errlen, r, "vkCreateDescriptorPool");
  LOG_D("vk", "created VkDescriptorPool 0x%llx for '%s'",
        NVK_HANDLE(b->pool), p->name);
  VkDescriptorSetAllocateInfo ai = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
    .descriptorPool = b->pool,
    .descriptorSetCount = 1,
    .pSetLayouts = &p->set_layout,
  };
  r = vkAllocateDescriptorSets(nvk_ctx.device, &ai, &b->set);
  if (r != VK_SUCCESS)
    return nvk_vkfail(err, errlen, r, "vkAllocateDescriptorSets");
  return 0;
}

static void nvk_binding_write_locked(nvk_binding *b, nvk_buffer *const *bufs,
                                     uint32_t n)
{
  VkDescriptorBufferInfo info[NVK_MAX_BUFFERS];
  VkWriteDescriptorSet w[NVK_MAX_BUFFERS];
  for (uint32_t i = 0; i < n; i++) {
    info[i] = (VkDescriptorBufferInfo){ bufs[i]->buffer, 0, VK_WHOLE_SIZE };
    w[i] = (VkWriteDescriptorSet){
      .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
      .dstSet = b->set,
      .dstBinding = i,
      .descriptorCount = 1,
      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .pBufferInfo = &info[i],
    };
  }
  vkUpdateDescriptorSets(nvk_ctx.device, n, w, 0, NULL);
}

static nvk_binding *nvk_binding_create_locked(nvk_pipeline *p,
                                              nvk_buffer *const *bufs,
                                              uint32_t n, char *err,
                                              size_t errlen)
{
  if (nvk_binding_check_locked(p, bufs, n, err, errlen) != 0)
    return NULL;
  nvk_binding *b = calloc(1, sizeof *b);
  if (!b) {
    nvk_errorf(err, errlen, "out of memory");
    return NULL;
  }
  b->pipeline = p;
  if (nvk_binding_alloc_locked(b, err, errlen) != 0) {
    nvk_binding_free_handles(b);
    free(b);
    return NULL;
  }
  nvk_binding_write_locked(b, bufs, n);
  b->gen = nvk_ctx.gen;
  b->next = nvk_ctx.bindings;
  nvk_ctx.bindings = b;
  return b;
}

nvk_binding *nvk_binding_create(nvk_pipeline *p, nvk_buffer *const *bufs,
                                uint32_t n, char *err, size_t errlen)
{
  nvk_binding *b = NULL;
  pthread_mutex_lock(&nvk_lock);
  if (nvk_ready_locked(err, errlen) == 0)
    b = nvk_binding_create_locked(p, bufs, n, err, errlen);
  pthread_mutex_unlock(&nvk_lock);
  return b;
}

void nvk_binding_destroy(nvk_binding *b)
{
  if (!b)
    return;
  pthread_mutex_lock(&nvk_lock);
  if (b->gen != nvk_ctx.gen || !b->gen) {
    free(b);                    /* orphaned by a shutdown */
  } else if (nvk_ctx.lost) {
    b->released = 1;            /* the GPU may still read it */
  } else {
    nvk_binding **at = &nvk_ctx.bindings;
    while (*at != b)
      at = &(*at)->next;
    *at = b->next;
    nvk_binding_free_handles(b);
    free(b);
  }
  pthread_mutex_unlock(&nvk_lock);
}

/* ---- dispatch ------------------------------------------------------------ */

typedef struct nvk_dispatch_job {
  const nvk_step *steps;
  uint32_t n;
} nvk_dispatch_job;

static int nvk_step_check_locked(const nvk_step *s, uint32_t i, char *err,
                                 size_t errlen)
{
  const nvk_binding *b = s->binding;
  if (!b || b->gen != nvk_ctx.gen || b->released)
    return nvk_errorf(err, errlen, "dispatch step %u: not a live binding",
                      i);
  if (b->pipeline->push_size && !s->push)
    return nvk_errorf(err, errlen, "dispatch step %u ('%s'): no push data",
                      i, b->pipeline->name);
  const uint32_t *max = nvk_ctx.devs[nvk_ctx.picked].max_group_count;
  for (int d = 0; d < 3; d++)
    if (s->groups[d] > max[d])
      return nvk_errorf(err, errlen,
                        "dispatch step %u ('%s'): %u groups in dimension "
                        "%d, over the device's %u", i, b->pipeline->name,
                        s->groups[d], d, max[d]);
  return 0;
}

static int nvk_record_steps(VkCommandBuffer cb, void *arg, char *err,
                            size_t errlen)
{
  const nvk_dispatch_job *job = arg;
  for (uint32_t i = 0; i < job->n; i++) {
    const nvk_step *s = &job->steps[i];
    if (nvk_step_check_locked(s, i, err, errlen) != 0)
      return -1;
    const nvk_pipeline *p = s->binding->pipeline;
    if (i > 0)
      nvk_barrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                  VK_ACCESS_SHADER_WRITE_BIT,
                  VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                  VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
    vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout,
                            0, 1, &s->binding->set, 0, NULL);
    if (p->push_size)
      vkCmdPushConstants(cb, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                         p->push_size, s->push);
    vkCmdDispatch(cb, s->groups[0], s->groups[1], s->groups[2]);
  }
  return 0;
}

int nvk_dispatch(const nvk_step *steps, uint32_t n, uint32_t timeout_ms,
                 char *err, size_t errlen)
{
  if (n == 0 || n > NVK_MAX_STEPS)
    return nvk_errorf(err, errlen, "dispatch of %u steps (1 to %d)", n,
                      NVK_MAX_STEPS);
  nvk_dispatch_job job = { steps, n };
  return nvk_submit(nvk_record_steps, &job, timeout_ms, err, errlen);
}
