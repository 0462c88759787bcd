/* The process-wide Vulkan context: instance and validation messenger,
 * device enumeration and choice, the logical device with its compute queue
 * and command pool, loss, and shutdown. */
#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "vk/vk_internal.h"

#define NVK_VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"

nvk_context nvk_ctx = { .picked = -1 };
pthread_mutex_t nvk_lock = PTHREAD_MUTEX_INITIALIZER;

static atomic_uint nvk_validation_errors;
static atomic_uint nvk_validation_warnings;

/* ---- validation messages ---------------------------------------------- */

/* Validation and performance messages are counted (errors and warnings
 * apart) and logged at their level; general ones, from the loader, are
 * only logged at debug: its failures also come back as VkResults. */
static VKAPI_ATTR VkBool32 VKAPI_CALL nvk_on_message(
  VkDebugUtilsMessageSeverityFlagBitsEXT severity,
  VkDebugUtilsMessageTypeFlagsEXT types,
  const VkDebugUtilsMessengerCallbackDataEXT *data, void *user)
{
  (void)user;
  const char *msg = data && data->pMessage ? data->pMessage : "";
  VkDebugUtilsMessageTypeFlagsEXT counted =
    VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT
    | VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  if (!(types & counted)) {
    LOG_D("vk", "loader: %s", msg);
  } else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
    atomic_fetch_add(&nvk_validation_errors, 1);
    LOG_E("vk", "validation: %s", msg);
  } else {
    atomic_fetch_add(&nvk_validation_warnings, 1);
    LOG_W("vk", "validation: %s", msg);
  }
  return VK_FALSE;
}

void nvk_validation_counts(unsigned *errors, unsigned *warnings)
{
  if (errors)
    *errors = atomic_load(&nvk_validation_errors);
  if (warnings)
    *warnings = atomic_load(&nvk_validation_warnings);
}

static VkDebugUtilsMessengerCreateInfoEXT nvk_messenger_info(void)
{
  VkDebugUtilsMessengerCreateInfoEXT mi = {
    .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
    .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT
                       | VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT,
    .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT
                   | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT
                   | VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
    .pfnUserCallback = nvk_on_message,
  };
  return mi;
}

static int nvk_validation_wanted(void)
{
  const char *v = getenv("NEROX_VK_VALIDATION");
  return v && strcmp(v, "1") == 0;
}

/* ---- instance ------------------------------------------------------------ */

static int nvk_has_layer(const char *name)
{
  uint32_t n = 0;
  if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || !n)
    return 0;
  VkLayerProperties *props = calloc(n, sizeof *props);
  int found = 0;
  if (props && vkEnumerateInstanceLayerProperties(&n, props) == VK_SUCCESS)
    for (uint32_t i = 0; i < n && !found; i++)
      found = strcmp(props[i].layerName, name) == 0;
  free(props);
  return found;
}

static int nvk_has_instance_ext(const char *layer, const char *name)
{
  uint32_t n = 0;
  if (vkEnumerateInstanceExtensionProperties(layer, &n, NULL) != VK_SUCCESS
      || !n)
    return 0;
  VkExtensionProperties *props = calloc(n, sizeof *props);
  int found = 0;
  if (props
      && vkEnumerateInstanceExtensionProperties(layer, &n, props)
           == VK_SUCCESS)
    for (uint32_t i = 0; i < n && !found; i++)
      found = strcmp(props[i].extensionName, name) == 0;
  free(props);
  return found;
}

static int nvk_no_driver(char *err, size_t errlen, VkResult r)
{
  return nvk_errorf(err, errlen,
                    "no Vulkan device found (vkCreateInstance: %s: no "
                    "Vulkan driver is installed; on Debian, "
                    "mesa-vulkan-drivers provides lavapipe)",
                    nvk_result_name(r));
}

static VkResult nvk_create_messenger(void)
{
  PFN_vkCreateDebugUtilsMessengerEXT create =
    (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
      nvk_ctx.instance, "vkCreateDebugUtilsMessengerEXT");
  if (!create)
    return VK_ERROR_EXTENSION_NOT_PRESENT;
  VkDebugUtilsMessengerCreateInfoEXT mi = nvk_messenger_info();
  VkResult r = create(nvk_ctx.instance, &mi, NULL, &nvk_ctx.messenger);
  if (r == VK_SUCCESS)
    LOG_D("vk", "created VkDebugUtilsMessengerEXT 0x%llx",
          NVK_HANDLE(nvk_ctx.messenger));
  return r;
}

static void nvk_destroy_messenger(void)
{
  if (!nvk_ctx.messenger)
    return;
  PFN_vkDestroyDebugUtilsMessengerEXT destroy =
    (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
      nvk_ctx.instance, "vkDestroyDebugUtilsMessengerEXT");
  if (destroy)
    destroy(nvk_ctx.instance, nvk_ctx.messenger, NULL);
  LOG_D("vk", "destroyed VkDebugUtilsMessengerEXT 0x%llx",
        NVK_HANDLE(nvk_ctx.messenger));
  nvk_ctx.messenger = VK_NULL_HANDLE;
}

/* The API version we ask for: what the loader offers, at most 1.3. */
static uint32_t nvk_instance_version(void)
{
  uint32_t v = VK_API_VERSION_1_0;
  if (vkEnumerateInstanceVersion(&v) != VK_SUCCESS)
    v = VK_API_VERSION_1_0;
  return v < VK_API_VERSION_1_3 ? v : VK_API_VERSION_1_3;
}

/* What an instance is created with, filled by nvk_instance_setup. */
typedef struct nvk_instance_cfg {
  int validate;
  const char *exts[3];
  uint32_t n_ext;
  VkInstanceCreateFlags flags;
  VkValidationFeatureEnableEXT sync;
  VkValidationFeaturesEXT features;
  VkDebugUtilsMessengerCreateInfoEXT messenger;
} nvk_instance_cfg;

static void nvk_instance_setup(nvk_instance_cfg *c)
{
  if (c->validate) {
    c->exts[c->n_ext++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    /* The messenger sees instance creation too (pNext). */
    c->messenger = nvk_messenger_info();
  }
  /* Synchronization validation catches a missing barrier. */
  if (c->validate
      && nvk_has_instance_ext(NVK_VALIDATION_LAYER,
                              VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME)) {
    c->exts[c->n_ext++] = VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME;
    c->sync = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
    c->features = (VkValidationFeaturesEXT){
      .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
      .enabledValidationFeatureCount = 1,
      .pEnabledValidationFeatures = &c->sync,
    };
    c->messenger.pNext = &c->features;
  }
  /* Portability drivers (MoltenVK) are listed only when asked for. */
  if (nvk_has_instance_ext(NULL,
                           VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
    c->exts[c->n_ext++] = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
    c->flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
  }
}

static int nvk_create_instance(char *err, size_t errlen)
{
  nvk_instance_cfg cfg = { .validate = nvk_validation_wanted() };
  if (cfg.validate && !nvk_has_layer(NVK_VALIDATION_LAYER))
    return nvk_errorf(err, errlen,
                      "NEROX_VK_VALIDATION=1 but %s is not installed "
                      "(Debian: vulkan-validationlayers)",
                      NVK_VALIDATION_LAYER);
  nvk_ctx.instance_api = nvk_instance_version();
  if (nvk_ctx.instance_api < VK_API_VERSION_1_1)
    return nvk_errorf(err, errlen,
                      "no Vulkan device found (the Vulkan loader offers "
                      "1.0; nerox needs 1.1)");
  nvk_instance_setup(&cfg);

  const char *layers[] = { NVK_VALIDATION_LAYER };
  VkApplicationInfo app = {
    .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
    .pApplicationName = "nerox",
    .applicationVersion = VK_MAKE_API_VERSION(0, 0, 1, 0),
    .pEngineName = "nerox",
    .apiVersion = nvk_ctx.instance_api,
  };
  VkInstanceCreateInfo ci = {
    .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
    .pNext = cfg.validate ? &cfg.messenger : NULL,
    .flags = cfg.flags,
    .pApplicationInfo = &app,
    .enabledLayerCount = cfg.validate ? 1 : 0,
    .ppEnabledLayerNames = layers,
    .enabledExtensionCount = cfg.n_ext,
    .ppEnabledExtensionNames = cfg.exts,
  };
  VkResult r = vkCreateInstance(&ci, NULL, &nvk_ctx.instance);
  if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
    return nvk_no_driver(err, errlen, r);
  if (r != VK_SUCCESS)
    return nvk_vkfail(err, errlen, r, "vkCreateInstance");
  LOG_D("vk", "created VkInstance %p (API %u.%u, validation %s)",
        (void *)nvk_ctx.instance, VK_API_VERSION_MAJOR(app.apiVersion),
        VK_API_VERSION_MINOR(app.apiVersion), cfg.validate ? "on" : "off");

  if (cfg.validate && (r = nvk_create_messenger()) != VK_SUCCESS)
    return nvk_vkfail(err, errlen, r, "vkCreateDebugUtilsMessengerEXT");
  return 0;
}

/* ---- physical devices ---------------------------------------------------- */

const char *nvk_device_type_name(VkPhysicalDeviceType type)
{
  switch (type) {
  case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
  case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
  case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
  case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
  default: return "other";
  }
}

/* Preference order: lower is better. */
static int nvk_type_rank(VkPhysicalDeviceType type)
{
  switch (type) {
  case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
  case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
  case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
  case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
  default: return 4;
  }
}

/* The compute queue family: one without graphics if there is one. */
static int nvk_compute_family(VkPhysicalDevice pd, uint32_t *family)
{
  uint32_t n = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
  VkQueueFamilyProperties *q = calloc(n ? n : 1, sizeof *q);
  if (!q)
    return -1;
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, q);
  int best = -1;
  for (uint32_t i = 0; i < n; i++) {
    if (!(q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) || !q[i].queueCount)
      continue;
    if (best < 0 || !(q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))
      best = (int)i;
    if (!(q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))
      break;
  }
  free(q);
  if (best < 0)
    return -1;
  *family = (uint32_t)best;
  return 0;
}

static void nvk_copy_name(char *dst, const char *src)
{
  snprintf(dst, NVK_NAME_MAX, "%s", src);
}

static void nvk_describe(VkPhysicalDevice pd, uint32_t index,
                         nvk_device_info *d)
{
  VkPhysicalDeviceDriverProperties drv = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES,
  };
  VkPhysicalDeviceSubgroupProperties sg = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES,
  };
  VkPhysicalDeviceProperties2 p2 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
  };
  VkPhysicalDeviceProperties p1;
  VkPhysicalDeviceFeatures feats;
  vkGetPhysicalDeviceProperties(pd, &p1);
  vkGetPhysicalDeviceFeatures(pd, &feats);
  /* Driver properties are core in 1.2: ask only where both sides are. */
  int has_drv = p1.apiVersion >= VK_API_VERSION_1_2
                && nvk_ctx.instance_api >= VK_API_VERSION_1_2;
  /* Subgroup properties are core in 1.1, likewise. */
  int has_sg = p1.apiVersion >= VK_API_VERSION_1_1
               && nvk_ctx.instance_api >= VK_API_VERSION_1_1;
  if (has_drv)
    sg.pNext = &drv;
  p2.pNext = has_sg ? (void *)&sg : has_drv ? (void *)&drv : NULL;
  vkGetPhysicalDeviceProperties2(pd, &p2);
  const VkPhysicalDeviceProperties *p = &p2.properties;
  const VkPhysicalDeviceLimits *lim = &p->limits;

  memset(d, 0, sizeof *d);
  d->index = index;
  nvk_copy_name(d->name, p->deviceName);
  d->type = p->deviceType;
  d->api_version = p->apiVersion;
  d->vendor_id = p->vendorID;
  d->device_id = p->deviceID;
  d->driver_version = p->driverVersion;
  if (has_drv)
    snprintf(d->driver, sizeof d->driver, "%.120s (%.120s)",
             drv.driverName, drv.driverInfo);
  else
    snprintf(d->driver, sizeof d->driver, "driver version 0x%x",
             p->driverVersion);
  memcpy(d->max_group_count, lim->maxComputeWorkGroupCount,
         sizeof d->max_group_count);
  memcpy(d->max_group_size, lim->maxComputeWorkGroupSize,
         sizeof d->max_group_size);
  d->max_group_invocations = lim->maxComputeWorkGroupInvocations;
  d->max_storage_buffer_range = lim->maxStorageBufferRange;
  d->max_push_constants = lim->maxPushConstantsSize;
  d->subgroup_size = sg.subgroupSize;
  d->shader_int64 = feats.shaderInt64 == VK_TRUE;
  d->subgroup_arithmetic =
    (sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT)
    && (sg.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
  uint32_t family;
  d->usable = p->apiVersion >= VK_API_VERSION_1_1
              && nvk_compute_family(pd, &family) == 0;
}

static int nvk_enumerate(char *err, size_t errlen)
{
  uint32_t n = 0;
  VkResult r = vkEnumeratePhysicalDevices(nvk_ctx.instance, &n, NULL);
  if (r != VK_SUCCESS)
    return nvk_vkfail(err, errlen, r, "vkEnumeratePhysicalDevices");
  if (n == 0)
    return nvk_errorf(err, errlen,
                      "no Vulkan device found (the loader found no device "
                      "behind its drivers)");
  nvk_ctx.phys = calloc(n, sizeof *nvk_ctx.phys);
  nvk_ctx.devs = calloc(n, sizeof *nvk_ctx.devs);
  if (!nvk_ctx.phys || !nvk_ctx.devs)
    return nvk_errorf(err, errlen, "out of memory listing devices");
  r = vkEnumeratePhysicalDevices(nvk_ctx.instance, &n, nvk_ctx.phys);
  if (r != VK_SUCCESS && r != VK_INCOMPLETE)
    return nvk_vkfail(err, errlen, r, "vkEnumeratePhysicalDevices");
  nvk_ctx.n_devices = n;
  for (uint32_t i = 0; i < n; i++)
    nvk_describe(nvk_ctx.phys[i], i, &nvk_ctx.devs[i]);
  return 0;
}

static int nvk_name_matches(const char *name, const char *want)
{
  size_t nl = strlen(name), wl = strlen(want);
  for (size_t i = 0; i + wl <= nl; i++) {
    size_t k = 0;
    while (k < wl && tolower((unsigned char)name[i + k])
                       == tolower((unsigned char)want[k]))
      k++;
    if (k == wl)
      return 1;
  }
  return 0;
}

static int nvk_is_index(const char *s)
{
  if (!*s)
    return 0;
  for (; *s; s++)
    if (!isdigit((unsigned char)*s))
      return 0;
  return 1;
}

/* Best-ranked usable device among those `want` admits. */
static int nvk_best(const nvk_device_info *devs, uint32_t n,
                    const char *want)
{
  int best = -1;
  for (uint32_t i = 0; i < n; i++) {
    if (!devs[i].usable || (want && !nvk_name_matches(devs[i].name, want)))
      continue;
    if (best < 0
        || nvk_type_rank(devs[i].type) < nvk_type_rank(devs[best].type))
      best = (int)i;
  }
  return best;
}

int nvk_pick_device(const nvk_device_info *devs, uint32_t n,
                    const char *want, char *err, size_t errlen)
{
  if (n == 0)
    return nvk_errorf(err, errlen, "no Vulkan device found");
  if (want && *want && nvk_is_index(want)) {
    unsigned long idx = strtoul(want, NULL, 10);
    for (uint32_t i = 0; i < n; i++)
      if (devs[i].index == idx && devs[i].usable)
        return (int)i;
    return nvk_errorf(err, errlen,
                      "NEROX_DEVICE=%s: no usable Vulkan device has that "
                      "index (nerox devices lists them)", want);
  }
  int best = nvk_best(devs, n, want && *want ? want : NULL);
  if (best < 0 && want && *want)
    return nvk_errorf(err, errlen,
                      "NEROX_DEVICE=%s: no usable Vulkan device name "
                      "contains it (nerox devices lists them)", want);
  if (best < 0)
    return nvk_errorf(err, errlen,
                      "no Vulkan device found (%u found, none with Vulkan "
                      "1.1 and a compute queue)", n);
  return best;
}

/* The instance part, in reverse order of creation. */
static void nvk_instance_free_locked(void)
{
  nvk_destroy_messenger();
  free(nvk_ctx.phys);
  free(nvk_ctx.devs);
  nvk_ctx.phys = NULL;
  nvk_ctx.devs = NULL;
  nvk_ctx.n_devices = 0;
  if (nvk_ctx.instance) {
    vkDestroyInstance(nvk_ctx.instance, NULL);
    LOG_D("vk", "destroyed VkInstance %p", (void *)nvk_ctx.instance);
  }
  nvk_ctx.instance = VK_NULL_HANDLE;
}

static int nvk_instance_ready_locked(char *err, size_t errlen)
{
  if (nvk_ctx.instance)
    return 0;
  if (nvk_create_instance(err, errlen) == 0
      && nvk_enumerate(err, errlen) == 0)
    return 0;
  nvk_instance_free_locked();
  return -1;
}

int nvk_list_devices(nvk_device_info **devs, uint32_t *n, int *picked,
                     char *err, size_t errlen)
{
  *devs = NULL;
  *n = 0;
  *picked = -1;
  pthread_mutex_lock(&nvk_lock);
  int rc = nvk_instance_ready_locked(err, errlen);
  if (rc == 0) {
    *devs = malloc(nvk_ctx.n_devices * sizeof **devs);
    if (!*devs)
      rc = nvk_errorf(err, errlen, "out of memory listing devices");
  }
  if (rc == 0) {
    memcpy(*devs, nvk_ctx.devs, nvk_ctx.n_devices * sizeof **devs);
    *n = nvk_ctx.n_devices;
    *picked = nvk_pick_device(*devs, *n, getenv("NEROX_DEVICE"), err,
                              errlen);
  }
  pthread_mutex_unlock(&nvk_lock);
  return rc;
}

/* ---- logical device ------------------------------------------------------ */

static int nvk_has_device_ext(VkPhysicalDevice pd, const char *name)
{
  uint32_t n = 0;
  if (vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL)
        != VK_SUCCESS || !n)
    return 0;
  VkExtensionProperties *props = calloc(n, sizeof *props);
  int found = 0;
  if (props
      && vkEnumerateDeviceExtensionProperties(pd, NULL, &n, props)
           == VK_SUCCESS)
    for (uint32_t i = 0; i < n && !found; i++)
      found = strcmp(props[i].extensionName, name) == 0;
  free(props);
  return found;
}

static int nvk_create_device(char *err, size_t errlen)
{
  VkPhysicalDevice pd = nvk_ctx.pdev;
  if (nvk_compute_family(pd, &nvk_ctx.family) != 0)
    return nvk_errorf(err, errlen, "%s has no compute queue",
                      nvk_ctx.devs[nvk_ctx.picked].name);
  /* Portability drivers (MoltenVK) require their subset be enabled. */
  const char *portability = "VK_KHR_portability_subset";
  int n_ext = nvk_has_device_ext(pd, portability);
  float priority = 1.0f;
  /* 64-bit integers in shaders (the perm kernel's energies), if any. */
  VkPhysicalDeviceFeatures feats = {
    .shaderInt64 = nvk_ctx.devs[nvk_ctx.picked].shader_int64
                     ? VK_TRUE : VK_FALSE,
  };
  VkDeviceQueueCreateInfo qi = {
    .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
    .queueFamilyIndex = nvk_ctx.family,
    .queueCount = 1,
    .pQueuePriorities = &priority,
  };
  VkDeviceCreateInfo ci = {
    .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
    .queueCreateInfoCount = 1,
    .pQueueCreateInfos = &qi,
    .enabledExtensionCount = (uint32_t)n_ext,
    .ppEnabledExtensionNames = &portability,
    .pEnabledFeatures = &feats,
  };
  VkResult r = vkCreateDevice(pd, &ci, NULL, &nvk_ctx.device);
  if (r != VK_SUCCESS)
    return nvk_vkfail(err, errlen, r, "vkCreateDevice");
  LOG_D("vk", "created VkDevice %p on '%s' (queue family %u)",
        (void *)nvk_ctx.device, nvk_ctx.devs[nvk_ctx.picked].name,
        nvk_ctx.family);
  vkGetDeviceQueue(nvk_ctx.device, nvk_ctx.family, 0, &nvk_ctx.queue);
  vkGetPhysicalDeviceMemoryProperties(pd, &nvk_ctx.mem_props);
  return 0;
}

static int nvk_create_pool(char *err, size_t errlen)
{
  VkCommandPoolCreateInfo ci = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
    .flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
    .queueFamilyIndex = nvk_ctx.family,
  };
  VkResult r = vkCreateCommandPool(nvk_ctx.device, &ci, NULL, &nvk_ctx.pool);
  if (r != VK_SUCCESS)
    return nvk_vkfail(err, errlen, r, "vkCreateCommandPool");
  LOG_D("vk", "created VkCommandPool 0x%llx", NVK_HANDLE(nvk_ctx.pool));
  return 0;
}

/* The device part, in reverse order of creation, once the device is idle
 * (or lost). */
static void nvk_device_free_locked(void)
{
  if (nvk_ctx.device) {
    VkResult r = vkDeviceWaitIdle(nvk_ctx.device);
    if (r != VK_SUCCESS)
      LOG_W("vk", "vkDeviceWaitIdle at shutdown: %s", nvk_result_name(r));
    for (uint32_t i = 0; i < nvk_ctx.n_stuck; i++)
      vkDestroyFence(nvk_ctx.device, nvk_ctx.stuck[i], NULL);
    nvk_bindings_free_locked();
    nvk_buffers_free_locked();
    nvk_pipelines_free_locked();
  }
  free(nvk_ctx.stuck);
  nvk_ctx.stuck = NULL;
  nvk_ctx.n_stuck = 0;
  if (nvk_ctx.pool) {
    vkDestroyCommandPool(nvk_ctx.device, nvk_ctx.pool, NULL);
    LOG_D("vk", "destroyed VkCommandPool 0x%llx", NVK_HANDLE(nvk_ctx.pool));
  }
  if (nvk_ctx.device) {
    vkDestroyDevice(nvk_ctx.device, NULL);
    LOG_D("vk", "destroyed VkDevice %p", (void *)nvk_ctx.device);
  }
  nvk_ctx.pool = VK_NULL_HANDLE;
  nvk_ctx.device = VK_NULL_HANDLE;
  nvk_ctx.queue = VK_NULL_HANDLE;
  nvk_ctx.pdev = VK_NULL_HANDLE;
  nvk_ctx.picked = -1;
  nvk_ctx.lost = 0;
  nvk_ctx.lost_reason[0] = 0;
}

static int nvk_device_ready_locked(char *err, size_t errlen)
{
  if (nvk_ctx.device)
    return 0;
  nvk_ctx.picked = nvk_pick_device(nvk_ctx.devs, nvk_ctx.n_devices,
                                   getenv("NEROX_DEVICE"), err, errlen);
  if (nvk_ctx.picked < 0)
    return -1;
  nvk_ctx.pdev = nvk_ctx.phys[nvk_ctx.picked];
  if (nvk_create_device(err, errlen) == 0
      && nvk_create_pool(err, errlen) == 0) {
    nvk_ctx.gen++;
    LOG_I("vk", "using device %u: %s (%s)",
          nvk_ctx.devs[nvk_ctx.picked].index,
          nvk_ctx.devs[nvk_ctx.picked].name,
          nvk_device_type_name(nvk_ctx.devs[nvk_ctx.picked].type));
    return 0;
  }
  nvk_device_free_locked();
  return -1;
}

int nvk_ready_locked(char *err, size_t errlen)
{
  if (nvk_instance_ready_locked(err, errlen) != 0
      || nvk_device_ready_locked(err, errlen) != 0)
    return -1;
  if (nvk_ctx.lost)
    return nvk_errorf(err, errlen,
                      "Vulkan device unusable since an earlier failure "
                      "(%s); restart nerox", nvk_ctx.lost_reason);
  return 0;
}

void nvk_mark_lost_locked(const char *reason)
{
  if (nvk_ctx.lost)
    return;
  nvk_ctx.lost = 1;
  snprintf(nvk_ctx.lost_reason, sizeof nvk_ctx.lost_reason, "%s",
           reason && *reason ? reason : "a GPU wait failed");
  LOG_E("vk", "device marked lost: %s", reason);
}

int nvk_device(nvk_device_info *info, char *err, size_t errlen)
{
  pthread_mutex_lock(&nvk_lock);
  int rc = nvk_ready_locked(err, errlen);
  if (rc == 0)
    *info = nvk_ctx.devs[nvk_ctx.picked];
  pthread_mutex_unlock(&nvk_lock);
  return rc;
}

void nvk_shutdown(void)
{
  pthread_mutex_lock(&nvk_lock);
  nvk_device_free_locked();
  nvk_instance_free_locked();
  pthread_mutex_unlock(&nvk_lock);
}
