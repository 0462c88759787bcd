/* The Lua SDK and plugins compiled into the binary (see
 * cmake/embed_lua.cmake), so nerox works from any folder. */
#ifndef NEROX_LUA_EMBEDDED_H
#define NEROX_LUA_EMBEDDED_H

#include <stddef.h>

typedef struct nerox_embedded_file {
  const char *module;          /* "nerox.job", "nerox.plugins.tsp" */
  const char *path;            /* path in the source tree */
  const unsigned char *bytes;
  size_t size;
} nerox_embedded_file;

/* Terminated by an entry whose module is NULL. */
extern const nerox_embedded_file nerox_embedded_files[];

#endif
