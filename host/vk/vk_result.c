/* VkResult names and the error helpers every file of host/vk uses. */
#include <stdarg.h>
#include <stdio.h>

#include "vk/vk_internal.h"

typedef struct nvk_result_entry {
  VkResult result;
  const char *name;
} nvk_result_entry;

#define NVK_RESULT(r) { r, #r }

/* Every VkResult of the core API up to 1.3 and the extensions we use. */
static const nvk_result_entry nvk_results[] = {
  NVK_RESULT(VK_SUCCESS),
  NVK_RESULT(VK_NOT_READY),
  NVK_RESULT(VK_TIMEOUT),
  NVK_RESULT(VK_EVENT_SET),
  NVK_RESULT(VK_EVENT_RESET),
  NVK_RESULT(VK_INCOMPLETE),
  NVK_RESULT(VK_ERROR_OUT_OF_HOST_MEMORY),
  NVK_RESULT(VK_ERROR_OUT_OF_DEVICE_MEMORY),
  NVK_RESULT(VK_ERROR_INITIALIZATION_FAILED),
  NVK_RESULT(VK_ERROR_DEVICE_LOST),
  NVK_RESULT(VK_ERROR_MEMORY_MAP_FAILED),
  NVK_RESULT(VK_ERROR_LAYER_NOT_PRESENT),
  NVK_RESULT(VK_ERROR_EXTENSION_NOT_PRESENT),
  NVK_RESULT(VK_ERROR_FEATURE_NOT_PRESENT),
  NVK_RESULT(VK_ERROR_INCOMPATIBLE_DRIVER),
  NVK_RESULT(VK_ERROR_TOO_MANY_OBJECTS),
  NVK_RESULT(VK_ERROR_FORMAT_NOT_SUPPORTED),
  NVK_RESULT(VK_ERROR_FRAGMENTED_POOL),
  NVK_RESULT(VK_ERROR_UNKNOWN),
  NVK_RESULT(VK_ERROR_OUT_OF_POOL_MEMORY),
  NVK_RESULT(VK_ERROR_INVALID_EXTERNAL_HANDLE),
  NVK_RESULT(VK_ERROR_FRAGMENTATION),
  NVK_RESULT(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS),
  NVK_RESULT(VK_PIPELINE_COMPILE_REQUIRED),
  NVK_RESULT(VK_ERROR_SURFACE_LOST_KHR),
  NVK_RESULT(VK_ERROR_NATIVE_WINDOW_IN_USE_KHR),
  NVK_RESULT(VK_SUBOPTIMAL_KHR),
  NVK_RESULT(VK_ERROR_OUT_OF_DATE_KHR),
  NVK_RESULT(VK_ERROR_INCOMPATIBLE_DISPLAY_KHR),
  NVK_RESULT(VK_ERROR_VALIDATION_FAILED_EXT),
  NVK_RESULT(VK_ERROR_INVALID_SHADER_NV),
  NVK_RESULT(VK_ERROR_NOT_PERMITTED_KHR),
  NVK_RESULT(VK_THREAD_IDLE_KHR),
  NVK_RESULT(VK_THREAD_DONE_KHR),
  NVK_RESULT(VK_OPERATION_DEFERRED_KHR),
  NVK_RESULT(VK_OPERATION_NOT_DEFERRED_KHR),
};

const char *nvk_result_name(VkResult r)
{
  static _Thread_local char unknown[32];
  size_t n = sizeof nvk_results / sizeof nvk_results[0];
  for (size_t i = 0; i < n; i++)
    if (nvk_results[i].result == r)
      return nvk_results[i].name;
  snprintf(unknown, sizeof unknown, "VkResult(%d)", (int)r);
  return unknown;
}

int nvk_errorf(char *err, size_t errlen, const char *fmt, ...)
{
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

int nvk_vkfail(char *err, size_t errlen, VkResult r, const char *what)
{
  return nvk_errorf(err, errlen, "%s: %s", what, nvk_result_name(r));
}
