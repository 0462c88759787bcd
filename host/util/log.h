/* Leveled logging to stderr, one line an event. The level comes from
 * NEROX_LOG (error, warn, info, debug); the default is warn. */
#ifndef NEROX_LOG_H
#define NEROX_LOG_H

#include <stdarg.h>

typedef enum log_level {
  LOG_ERROR = 0,
  LOG_WARN,
  LOG_INFO,
  LOG_DEBUG
} log_level;

void log_init_from_env(void);
int log_enabled(log_level level);
void log_msg(log_level level, const char *module, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* A library's own messages (libmicrohttpd's error log, say) at debug
 * level under the module named by cls: the caller reports failures in
 * its own words, so these only help when debugging. */
void log_library_debug(void *cls, const char *fmt, va_list ap);

#define LOG_E(mod, ...) log_msg(LOG_ERROR, mod, __VA_ARGS__)
#define LOG_W(mod, ...) log_msg(LOG_WARN, mod, __VA_ARGS__)
#define LOG_I(mod, ...) log_msg(LOG_INFO, mod, __VA_ARGS__)
#define LOG_D(mod, ...) \
  do { if (log_enabled(LOG_DEBUG)) log_msg(LOG_DEBUG, mod, __VA_ARGS__); } \
  while (0)

#endif
