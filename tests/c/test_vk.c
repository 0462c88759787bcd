/* Vulkan backend tests, on the device the loader finds (lavapipe in CI):
 * device choice, buffers, the pipeline cache, dispatches, a timed-out wait,
 * and rng_test.comp against host/anneal/rng.h bit for bit. They run under
 * the validation layer (NEROX_VK_VALIDATION=1 unless set otherwise or
 * built with ASan) and fail on any validation message. No Vulkan device
 * fails the test, unless NEROX_SKIP_VULKAN=1. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anneal/rng.h"
#include "test_gpu.h"
#include "util/log.h"
#include "vk/vk_internal.h"

/* rng_test.comp: words written per item, and items per test. */
#define RNG_TEST_OUTPUTS 9
#define RNG_TEST_ITEMS (1u << 16)
#define GROUP_SIZE 64u

static char err[512];

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint32_t groups_for(uint32_t items)
{
  return (items + GROUP_SIZE - 1) / GROUP_SIZE;
}

/* ---- device choice, no Vulkan needed ------------------------------------- */

static nvk_device_info fake(uint32_t index, const char *name,
                            VkPhysicalDeviceType type, int usable)
{
  nvk_device_info d;
  memset(&d, 0, sizeof d);
  d.index = index;
  snprintf(d.name, sizeof d.name, "%s", name);
  d.type = type;
  d.usable = usable;
  return d;
}

static void test_pick_device(void)
{
  nvk_device_info devs[] = {
    fake(0, "llvmpipe (LLVM 15.0.6, 256 bits)",
         VK_PHYSICAL_DEVICE_TYPE_CPU, 1),
    fake(1, "Intel(R) UHD Graphics 770",
         VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU, 1),
    fake(2, "NVIDIA H200", VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 1),
    fake(3, "AMD Radeon (old)", VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 0),
    fake(4, "Virtio GPU", VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU, 1),
  };
  CHECK_EQ_INT(nvk_pick_device(devs, 5, NULL, err, sizeof err), 2);
  CHECK_EQ_INT(nvk_pick_device(devs, 5, "", err, sizeof err), 2);
  CHECK_EQ_INT(nvk_pick_device(devs, 5, "1", err, sizeof err), 1);
  CHECK_EQ_INT(nvk_pick_device(devs, 5, "0", err, sizeof err), 0);
  CHECK_EQ_INT(nvk_pick_device(devs, 5, "uhd GRAPHICS", err, sizeof err),
               1);
  CHECK_EQ_INT(nvk_pick_device(devs, 5, "LLVMpipe", err, sizeof err), 0);
  /* Several names match: the best type wins. */
  CHECK_EQ_INT(nvk_pick_device(devs, 5, "i", err, sizeof err), 2);
  /* Unusable devices are never picked. */
  CHECK_EQ_INT(nvk_pick_device(devs, 5, "3", err, sizeof err), -1);
  CHECK_CONTAINS(err, "NEROX_DEVICE=3");
  CHECK_EQ_INT(nvk_pick_device(devs, 5, "radeon", err, sizeof err), -1);
  CHECK_CONTAINS(err, "NEROX_DEVICE=radeon");
  CHECK_EQ_INT(nvk_pick_device(devs, 5, "9", err, sizeof err), -1);
  CHECK_EQ_INT(nvk_pick_device(devs, 5, "geforce", err, sizeof err), -1);
  CHECK_CONTAINS(err, "nerox devices");
  /* Without a GPU: virtual before CPU. */
  nvk_device_info two[] = { devs[0], devs[4] };
  CHECK_EQ_INT(nvk_pick_device(two, 2, NULL, err, sizeof err), 1);
  CHECK_EQ_INT(nvk_pick_device(devs, 0, NULL, err, sizeof err), -1);
  CHECK_CONTAINS(err, "no Vulkan device found");
  nvk_device_info bad[] = { devs[3] };
  CHECK_EQ_INT(nvk_pick_device(bad, 1, NULL, err, sizeof err), -1);
  CHECK_CONTAINS(err, "no Vulkan device found");
}

/* ---- environment helpers ------------------------------------------------- */

typedef struct saved_env {
  const char *name;
  char *value;
} saved_env;

static saved_env env_set(const char *name, const char *value)
{
  const char *old = getenv(name);
  saved_env s = { name, old ? strdup(old) : NULL };
  if (value)
    setenv(name, value, 1);
  else
    unsetenv(name);
  return s;
}

static void env_restore(saved_env s)
{
  if (s.value)
    setenv(s.name, s.value, 1);
  else
    unsetenv(s.name);
  free(s.value);
}

/* ---- device -------------------------------------------------------------- */

static void test_no_driver(void)
{
  nvk_shutdown();
  saved_env a = env_set("VK_ICD_FILENAMES", "/nonexistent/nerox_icd.json");
  saved_env b = env_set("VK_DRIVER_FILES", "/nonexistent/nerox_icd.json");
  nvk_device_info info;
  CHECK_EQ_INT(nvk_device(&info, err, sizeof err), -1);
  CHECK_CONTAINS(err, "no Vulkan device found");
  nvk_shutdown();
  env_restore(b);
  env_restore(a);
}

static void test_select(const char *want, const nvk_device_info *expect)
{
  saved_env s = env_set("NEROX_DEVICE", want);
  nvk_shutdown();
  nvk_device_info info;
  CHECK_EQ_INT(nvk_device(&info, err, sizeof err), 0);
  CHECK_EQ_INT(info.index, expect->index);
  CHECK(strcmp(info.name, expect->name) == 0);
  nvk_shutdown();
  env_restore(s);
}

static void test_selection(const nvk_device_info *dflt)
{
  char want[32];
  snprintf(want, sizeof want, "%u", dflt->index);
  test_select(want, dflt);

  /* A part of the name, upper-cased: the match ignores case. */
  char part[8] = { 0 };
  for (int i = 0; i < 6 && dflt->name[i]; i++)
    part[i] = (char)(dflt->name[i] >= 'a' && dflt->name[i] <= 'z'
                       ? dflt->name[i] - 32 : dflt->name[i]);
  test_select(part, dflt);

  saved_env s = env_set("NEROX_DEVICE", "no-such-device-anywhere");
  nvk_shutdown();
  nvk_device_info info;
  CHECK_EQ_INT(nvk_device(&info, err, sizeof err), -1);
  CHECK_CONTAINS(err, "NEROX_DEVICE=no-such-device-anywhere");
  nvk_shutdown();
  env_restore(s);
}

/* ---- buffers ------------------------------------------------------------- */

static void test_buffer(nvk_memory memory)
{
  const size_t n = 1u << 18;
  uint32_t *in = malloc(n * sizeof *in), *out = calloc(n, sizeof *out);
  nvk_buffer *b = nvk_buffer_create(n * sizeof *in, memory, "roundtrip",
                                    err, sizeof err);
  CHECK(b != NULL);
  if (!b || !in || !out)
    goto done;
  CHECK_EQ_INT(nvk_buffer_memory(b), memory);
  for (size_t i = 0; i < n; i++)
    in[i] = rng_mix((uint32_t)i);
  CHECK_EQ_INT(nvk_buffer_write(b, 0, in, n * sizeof *in, err, sizeof err),
               0);
  CHECK_EQ_INT(nvk_buffer_read(b, 0, out, n * sizeof *out, err, sizeof err),
               0);
  CHECK(memcmp(in, out, n * sizeof *in) == 0);

  /* Part of it, at an offset. */
  uint32_t part[3] = { 1, 2, 3 }, back[5];
  CHECK_EQ_INT(nvk_buffer_write(b, 40, part, sizeof part, err, sizeof err),
               0);
  CHECK_EQ_INT(nvk_buffer_read(b, 36, back, sizeof back, err, sizeof err),
               0);
  CHECK(back[0] == in[9] && back[1] == 1 && back[3] == 3
        && back[4] == in[13]);

  CHECK_EQ_INT(nvk_buffer_write(b, n * sizeof *in - 4, part, sizeof part,
                                err, sizeof err), -1);
  CHECK_CONTAINS(err, "past its");
done:
  nvk_buffer_destroy(b);
  free(in);
  free(out);
}

static void test_buffer_errors(void)
{
  CHECK(nvk_buffer_create(0, NVK_MEMORY_HOST, "empty", err, sizeof err)
        == NULL);
  CHECK_CONTAINS(err, "size 0");
}

/* ---- pipelines ----------------------------------------------------------- */

static void test_pipeline_cache(void)
{
  nvk_pipeline *a = nvk_pipeline_get("rng_test", 2, 4, err, sizeof err);
  nvk_pipeline *b = nvk_pipeline_get("rng_test", 2, 4, err, sizeof err);
  CHECK(a != NULL);
  CHECK(a == b);
  CHECK(a && b && nvk_pipeline_handle(a) == nvk_pipeline_handle(b));
  CHECK(nvk_pipeline_get("rng_test", 3, 4, err, sizeof err) == NULL);
  CHECK_CONTAINS(err, "exists with 2 buffers");
  CHECK(nvk_pipeline_get("no_such_shader", 1, 0, err, sizeof err) == NULL);
  CHECK_CONTAINS(err, "no shader 'no_such_shader'");
  CHECK(nvk_pipeline_get("spin_test", 1, 6, err, sizeof err) == NULL);
  CHECK_CONTAINS(err, "multiple of 4");
}

/* ---- rng_test.comp against rng.h ----------------------------------------- */

/* The same nine values as rng_test.comp, in the same order. */
static void rng_expect(const uint32_t v[4], uint32_t out[RNG_TEST_OUTPUTS])
{
  out[0] = rng_mix(v[0]);
  out[1] = rng_hash3(v[0], v[1], v[2]);
  out[2] = rng_mulhi(v[0], v[1]);
  out[3] = rng_mullo(v[0], v[1]);
  out[4] = rng_seed_key(v[0], v[1]);
  out[5] = rng_slot_key(v[0], v[1]);
  out[6] = rng_sweep_key(v[0], v[1], v[2]);
  out[7] = rng_draw(v[0], v[1], v[3] & 1u);
  out[8] = rng_exchange(v[0], v[1], v[2], v[3]);
}

/* Every combination of edge words first, then pseudo-random words, with
 * small ranges in odd items as the kernels use them. */
static void rng_inputs(uint32_t *in, uint32_t items)
{
  static const uint32_t edge[] = { 0u, 1u, 2u, 0x7fffffffu, 0x80000000u,
                                   0xfffffffeu, 0xffffffffu, 0x9e3779b9u };
  uint32_t x = 12345u;
  for (uint32_t i = 0; i < items; i++) {
    uint32_t *v = &in[4 * i];
    for (int k = 0; k < 4; k++) {
      x = rng_mix(x + 0x632be5abu);
      v[k] = i < 4096 ? edge[(i >> (3 * k)) & 7] : x;
    }
    if (i >= 4096 && (i & 1))
      v[1] = 1 + v[1] % 100000;
  }
}

static int rng_compare(const uint32_t *in, const uint32_t *got,
                       uint32_t items)
{
  int bad = 0;
  for (uint32_t i = 0; i < items; i++) {
    uint32_t want[RNG_TEST_OUTPUTS];
    rng_expect(&in[4 * i], want);
    for (int k = 0; k < RNG_TEST_OUTPUTS; k++) {
      if (got[i * RNG_TEST_OUTPUTS + k] == want[k] || bad++ >= 5)
        continue;
      fprintf(stderr, "item %u output %d: gpu 0x%08x, rng.h 0x%08x\n", i,
              k, got[i * RNG_TEST_OUTPUTS + k], want[k]);
    }
  }
  return bad;
}

static void test_rng(nvk_memory memory)
{
  const uint32_t items = RNG_TEST_ITEMS;
  size_t in_bytes = (size_t)items * 4 * sizeof(uint32_t);
  size_t out_bytes = (size_t)items * RNG_TEST_OUTPUTS * sizeof(uint32_t);
  uint32_t *in = malloc(in_bytes), *got = calloc(1, out_bytes);
  nvk_buffer *bufs[2] = { NULL, NULL };
  nvk_binding *bind = NULL;

  bufs[0] = nvk_buffer_create(in_bytes, memory, "rng in", err, sizeof err);
  bufs[1] = nvk_buffer_create(out_bytes, memory, "rng out", err,
                              sizeof err);
  nvk_pipeline *p = nvk_pipeline_get("rng_test", 2, 4, err, sizeof err);
  if (bufs[0] && bufs[1] && p)
    bind = nvk_binding_create(p, bufs, 2, err, sizeof err);
  CHECK(bind != NULL);
  if (!bind || !in || !got)
    goto done;

  rng_inputs(in, items);
  CHECK_EQ_INT(nvk_buffer_write(bufs[0], 0, in, in_bytes, err, sizeof err),
               0);
  nvk_step step = { bind, &items, { groups_for(items), 1, 1 } };
  CHECK_EQ_INT(nvk_dispatch(&step, 1, NVK_DEFAULT_TIMEOUT_MS, err,
                            sizeof err), 0);
  CHECK_EQ_INT(nvk_buffer_read(bufs[1], 0, got, out_bytes, err, sizeof err),
               0);
  CHECK_EQ_INT(rng_compare(in, got, items), 0);
done:
  nvk_binding_destroy(bind);
  nvk_buffer_destroy(bufs[1]);
  nvk_buffer_destroy(bufs[0]);
  free(got);
  free(in);
}

/* ---- several steps, timing, timeouts ------------------------------------- */

typedef struct spin_push {
  uint32_t count, rounds;
} spin_push;

/* What spin_test.comp makes of one word. */
static uint32_t spin_expect(uint32_t x, uint32_t rounds)
{
  for (uint32_t r = 0; r < rounds; r++)
    x = rng_mix(x + r);
  return x;
}

static nvk_binding *spin_setup(nvk_buffer **buf, uint32_t count, char *e,
                               size_t elen)
{
  nvk_pipeline *p = nvk_pipeline_get("spin_test", 1, sizeof(spin_push), e,
                                     elen);
  *buf = nvk_buffer_create(count * sizeof(uint32_t), NVK_MEMORY_AUTO,
                           "spin", e, elen);
  if (!p || !*buf)
    return NULL;
  return nvk_binding_create(p, buf, 1, e, elen);
}

/* Each step reads what the last wrote: the barriers between them hold. */
static void test_steps(void)
{
  enum { COUNT = 1000, STEPS = 5, ROUNDS = 3 };
  uint32_t words[COUNT];
  nvk_buffer *buf = NULL;
  nvk_binding *bind = spin_setup(&buf, COUNT, err, sizeof err);
  CHECK(bind != NULL);
  if (!bind)
    goto done;
  for (uint32_t i = 0; i < COUNT; i++)
    words[i] = i;
  CHECK_EQ_INT(nvk_buffer_write(buf, 0, words, sizeof words, err,
                                sizeof err), 0);
  spin_push push = { COUNT, ROUNDS };
  nvk_step steps[STEPS];
  for (int s = 0; s < STEPS; s++)
    steps[s] = (nvk_step){ bind, &push, { groups_for(COUNT), 1, 1 } };
  CHECK_EQ_INT(nvk_dispatch(steps, STEPS, NVK_DEFAULT_TIMEOUT_MS, err,
                            sizeof err), 0);
  CHECK_EQ_INT(nvk_buffer_read(buf, 0, words, sizeof words, err,
                               sizeof err), 0);
  int bad = 0;
  for (uint32_t i = 0; i < COUNT; i++) {
    uint32_t want = i;
    for (int s = 0; s < STEPS; s++)
      want = spin_expect(want, ROUNDS);
    bad += words[i] != want;
  }
  CHECK_EQ_INT(bad, 0);
done:
  nvk_binding_destroy(bind);
  nvk_buffer_destroy(buf);
}

/* Not a check: what one submission and one step cost on this device. */
static void measure_overhead(void)
{
  enum { RUNS = 200, STEPS = 200 };
  nvk_buffer *buf = NULL;
  nvk_binding *bind = spin_setup(&buf, GROUP_SIZE, err, sizeof err);
  CHECK(bind != NULL);
  if (!bind)
    goto done;
  spin_push push = { GROUP_SIZE, 1 };
  nvk_step steps[STEPS];
  for (int s = 0; s < STEPS; s++)
    steps[s] = (nvk_step){ bind, &push, { 1, 1, 1 } };
  double t0 = now_s();
  for (int r = 0; r < RUNS; r++)
    CHECK_EQ_INT(nvk_dispatch(steps, 1, NVK_DEFAULT_TIMEOUT_MS, err,
                              sizeof err), 0);
  double t1 = now_s();
  CHECK_EQ_INT(nvk_dispatch(steps, STEPS, NVK_DEFAULT_TIMEOUT_MS, err,
                            sizeof err), 0);
  double t2 = now_s();
  printf("dispatch and wait: %.1f us per submission of one step, "
         "%.1f us per step in a submission of %d\n",
         (t1 - t0) / RUNS * 1e6, (t2 - t1) / STEPS * 1e6, STEPS);
done:
  nvk_binding_destroy(bind);
  nvk_buffer_destroy(buf);
}

/* Jobs on several threads share the context, queue and pool. */
enum { THREADS = 4, THREAD_RUNS = 10, THREAD_WORDS = 4096 };

static void *thread_job(void *arg)
{
  uint32_t seed = (uint32_t)(uintptr_t)arg;
  static uint32_t words[THREADS][THREAD_WORDS];
  uint32_t *w = words[seed];
  char e[256];
  nvk_buffer *buf = NULL;
  nvk_binding *bind = spin_setup(&buf, THREAD_WORDS, e, sizeof e);
  int bad = !bind;
  for (int r = 0; r < THREAD_RUNS && !bad; r++) {
    for (uint32_t i = 0; i < THREAD_WORDS; i++)
      w[i] = rng_hash3(seed, (uint32_t)r, i);
    spin_push push = { THREAD_WORDS, 7 };
    nvk_step step = { bind, &push, { groups_for(THREAD_WORDS), 1, 1 } };
    bad = nvk_buffer_write(buf, 0, w, sizeof words[0], e, sizeof e) != 0
          || nvk_dispatch(&step, 1, NVK_DEFAULT_TIMEOUT_MS, e, sizeof e) != 0
          || nvk_buffer_read(buf, 0, w, sizeof words[0], e, sizeof e) != 0;
    for (uint32_t i = 0; i < THREAD_WORDS && !bad; i++)
      bad = w[i] != spin_expect(rng_hash3(seed, (uint32_t)r, i), 7);
  }
  if (bad)
    fprintf(stderr, "thread %u: %s\n", seed, bind ? e : "no binding");
  nvk_binding_destroy(bind);
  nvk_buffer_destroy(buf);
  return (void *)(uintptr_t)bad;
}

static void test_threads(void)
{
  pthread_t t[THREADS];
  for (uintptr_t i = 0; i < THREADS; i++)
    CHECK_EQ_INT(pthread_create(&t[i], NULL, thread_job, (void *)i), 0);
  for (int i = 0; i < THREADS; i++) {
    void *bad = NULL;
    CHECK_EQ_INT(pthread_join(t[i], &bad), 0);
    CHECK(bad == NULL);
  }
}

/* A wait that times out marks the context lost; later calls fail with the
 * reason; a shutdown waits the work out and a new context works. */
static void test_timeout(void)
{
  enum { COUNT = 1 << 16, ROUNDS = 5000 };
  nvk_buffer *buf = NULL;
  nvk_binding *bind = spin_setup(&buf, COUNT, err, sizeof err);
  CHECK(bind != NULL);
  if (!bind)
    goto done;
  spin_push push = { COUNT, ROUNDS };
  nvk_step step = { bind, &push, { groups_for(COUNT), 1, 1 } };
  fprintf(stderr, "test_vk: a 'device marked lost' error is expected\n");
  CHECK_EQ_INT(nvk_dispatch(&step, 1, 0, err, sizeof err), -1);
  CHECK_CONTAINS(err, "did not finish within 0 ms");
  CHECK_EQ_INT(nvk_dispatch(&step, 1, 1000, err, sizeof err), -1);
  CHECK_CONTAINS(err, "unusable since an earlier failure");
  CHECK(nvk_buffer_create(64, NVK_MEMORY_HOST, "late", err, sizeof err)
        == NULL);
  CHECK_CONTAINS(err, "did not finish");
done:
  nvk_binding_destroy(bind);
  nvk_buffer_destroy(buf);
  nvk_shutdown();
  nvk_device_info info;
  CHECK_EQ_INT(nvk_device(&info, err, sizeof err), 0);
}

/* Objects still alive at shutdown lose their handles, not their memory. */
static void test_orphans(void)
{
  nvk_buffer *b = nvk_buffer_create(64, NVK_MEMORY_HOST, "orphan", err,
                                    sizeof err);
  CHECK(b != NULL);
  nvk_shutdown();
  uint32_t w = 0;
  CHECK_EQ_INT(nvk_buffer_write(b, 0, &w, sizeof w, err, sizeof err), -1);
  CHECK_CONTAINS(err, "is gone");
  nvk_buffer_destroy(b);
}

/* The zero count means something: a deliberate error is counted. */
static void test_validation_counts(void)
{
  unsigned before, after;
  nvk_validation_counts(&before, NULL);
  pthread_mutex_lock(&nvk_lock);
  int ready = nvk_ready_locked(err, sizeof err) == 0;
  VkBuffer buf = VK_NULL_HANDLE;
  VkBufferCreateInfo ci = {
    .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
    .size = 0,                  /* invalid: VUID-VkBufferCreateInfo-size */
    .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
  };
  fprintf(stderr, "test_vk: one validation error expected next\n");
  if (ready && vkCreateBuffer(nvk_ctx.device, &ci, NULL, &buf) == VK_SUCCESS)
    vkDestroyBuffer(nvk_ctx.device, buf, NULL);
  pthread_mutex_unlock(&nvk_lock);
  nvk_validation_counts(&after, NULL);
  CHECK(ready);
  CHECK(after > before);
}

/* ---- main ---------------------------------------------------------------- */

static int run_device_tests(void)
{
  nvk_device_info info;
  if (nvk_device(&info, err, sizeof err) != 0) {
    fprintf(stderr, "test_vk: %s\n", err);
    fprintf(stderr, "test_vk: a Vulkan device is required (lavapipe: "
                    "scripts/setup.sh); NEROX_SKIP_VULKAN=1 skips\n");
    return -1;
  }
  printf("device %u: %s (%s)\n", info.index, info.name,
         nvk_device_type_name(info.type));
  test_selection(&info);
  test_buffer(NVK_MEMORY_HOST);
  test_buffer(NVK_MEMORY_DEVICE);
  test_buffer_errors();
  test_pipeline_cache();
  test_rng(NVK_MEMORY_HOST);
  test_rng(NVK_MEMORY_DEVICE);
  test_steps();
  measure_overhead();
  test_threads();
  test_timeout();
  test_orphans();
  test_no_driver();
  return 0;
}

int main(void)
{
  int validate = 0;
  log_init_from_env();
  test_pick_device();
  const char *skip = getenv("NEROX_SKIP_VULKAN");
  if (skip && strcmp(skip, "1") == 0) {
    printf("test_vk: NEROX_SKIP_VULKAN=1: device tests skipped\n");
    return test_report("test_vk");
  }
  setenv("NEROX_VK_VALIDATION", VALIDATION_DEFAULT, 0);
  validate = strcmp(getenv("NEROX_VK_VALIDATION"), "1") == 0;
  int ran = run_device_tests() == 0;
  CHECK(ran);

  unsigned errors, warnings;
  nvk_validation_counts(&errors, &warnings);
  printf("validation %s: %u errors, %u warnings\n", validate ? "on" : "off",
         errors, warnings);
  CHECK_EQ_INT(errors, 0);
  CHECK_EQ_INT(warnings, 0);
  if (validate && ran)
    test_validation_counts();
  nvk_shutdown();
  return test_report("test_vk");
}
