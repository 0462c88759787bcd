/* `nerox devices`: what the Vulkan loader finds, as text or JSON. */
#include <stdio.h>
#include <stdlib.h>

#include "vk/vk.h"

static void nvk_version_str(uint32_t v, char *buf, size_t len)
{
  snprintf(buf, len, "%u.%u.%u", VK_API_VERSION_MAJOR(v),
           VK_API_VERSION_MINOR(v), VK_API_VERSION_PATCH(v));
}

static void nvk_json_string(FILE *out, const char *s)
{
  fputc('"', out);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(out, "\\%c", c);
    else if (c < 0x20)
      fprintf(out, "\\u%04x", c);
    else
      fputc(c, out);
  }
  fputc('"', out);
}

static void nvk_print_text(FILE *out, const nvk_device_info *d, int picked)
{
  char api[32];
  nvk_version_str(d->api_version, api, sizeof api);
  fprintf(out, "device %u: %s%s\n", d->index, d->name,
          picked ? "  [picked]" : d->usable ? "" : "  [unusable]");
  fprintf(out, "  type           %s\n", nvk_device_type_name(d->type));
  fprintf(out, "  api            %s\n", api);
  fprintf(out, "  driver         %s\n", d->driver);
  fprintf(out, "  group count    %u x %u x %u\n", d->max_group_count[0],
          d->max_group_count[1], d->max_group_count[2]);
  fprintf(out, "  group size     %u x %u x %u\n", d->max_group_size[0],
          d->max_group_size[1], d->max_group_size[2]);
  fprintf(out, "  invocations    %u per group\n", d->max_group_invocations);
  fprintf(out, "  storage range  %u bytes\n", d->max_storage_buffer_range);
}

static void nvk_print_json(FILE *out, const nvk_device_info *d, int picked)
{
  char api[32];
  nvk_version_str(d->api_version, api, sizeof api);
  fprintf(out, "{\"index\": %u, \"name\": ", d->index);
  nvk_json_string(out, d->name);
  fprintf(out, ", \"type\": \"%s\", \"api_version\": \"%s\", \"driver\": ",
          nvk_device_type_name(d->type), api);
  nvk_json_string(out, d->driver);
  fprintf(out,
          ", \"vendor_id\": %u, \"device_id\": %u"
          ", \"max_compute_work_group_count\": [%u, %u, %u]"
          ", \"max_compute_work_group_size\": [%u, %u, %u]"
          ", \"max_compute_work_group_invocations\": %u"
          ", \"max_storage_buffer_range\": %u"
          ", \"usable\": %s, \"picked\": %s}",
          d->vendor_id, d->device_id, d->max_group_count[0],
          d->max_group_count[1], d->max_group_count[2],
          d->max_group_size[0], d->max_group_size[1], d->max_group_size[2],
          d->max_group_invocations, d->max_storage_buffer_range,
          d->usable ? "true" : "false", picked ? "true" : "false");
}

static void nvk_print_all(FILE *out, int json, const nvk_device_info *devs,
                          uint32_t n, int picked, const char *error)
{
  if (json)
    fputs("{\"devices\": [", out);
  for (uint32_t i = 0; i < n; i++) {
    if (json) {
      fputs(i ? ",\n  " : "\n  ", out);
      nvk_print_json(out, &devs[i], (int)i == picked);
    } else {
      nvk_print_text(out, &devs[i], (int)i == picked);
    }
  }
  if (!json)
    return;
  if (picked >= 0)
    fprintf(out, "],\n \"picked\": %u}\n", devs[picked].index);
  else {
    fputs("],\n \"picked\": null, \"error\": ", out);
    nvk_json_string(out, error);
    fputs("}\n", out);
  }
}

/* Prints the devices to `out`; returns 0 when one would be picked, else
 * -1 with the reason in err (after printing what was found). */
int nvk_devices_print(FILE *out, int json, char *err, size_t errlen)
{
  nvk_device_info *devs = NULL;
  uint32_t n = 0;
  int picked = -1;
  if (nvk_list_devices(&devs, &n, &picked, err, errlen) != 0)
    n = 0;
  nvk_print_all(out, json, devs, n, picked, err);
  free(devs);
  return picked >= 0 ? 0 : -1;
}
