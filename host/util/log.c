/* Leveled logging to stderr (see log.h). */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile int log_level_now = LOG_WARN;

static const char *const log_names[] = { "error", "warn", "info", "debug" };

void log_init_from_env(void)
{
  const char *s = getenv("NEROX_LOG");
  if (!s || !*s)
    return;
  for (int i = LOG_ERROR; i <= LOG_DEBUG; i++)
    if (strcmp(s, log_names[i]) == 0)
      log_level_now = i;
}

int log_enabled(log_level level)
{
  return (int)level <= log_level_now;
}

void log_library_debug(void *cls, const char *fmt, va_list ap)
{
  if (!log_enabled(LOG_DEBUG))
    return;
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  size_t n = strlen(msg);
  while (n > 0 && msg[n - 1] == '\n')
    msg[--n] = '\0';
  log_msg(LOG_DEBUG, cls ? (const char *)cls : "lib", "%s", msg);
}

void log_msg(log_level level, const char *module, const char *fmt, ...)
{
  if (!log_enabled(level))
    return;
  char line[1024];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  int off = snprintf(line, sizeof line,
                     "%02d:%02d:%02d.%03ld %-5s %s: ", tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000L, log_names[level],
                     module);
  va_list ap;
  va_start(ap, fmt);
  if (off > 0 && (size_t)off < sizeof line)
    vsnprintf(line + off, sizeof line - (size_t)off, fmt, ap);
  va_end(ap);
  fprintf(stderr, "%s\n", line);
}
