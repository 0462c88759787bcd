/* The server's Lua bridge: one Lua state (host_new) guarded by a mutex,
 * running lua/nerox/server.lua, so HTTP submissions go through the same
 * validation and plugins as the Lua SDK. JSON crosses the bridge as
 * jansson values, converted by host/lua/json.h. */
#ifndef NEROX_SRV_LUA_H
#define NEROX_SRV_LUA_H

#include <stddef.h>

#include <jansson.h>

#include "engine/engine.h"
#include "server/srv_error.h"
#include "server/store.h"

/* Deepest nesting of tables converted to JSON. */
#define SRV_LUA_MAX_DEPTH 64

typedef struct srv_lua srv_lua;

/* A job accepted by the plugins and queued on the engine. */
typedef struct srv_submitted {
  job *j;                            /* one reference for the caller */
  char problem_type[STORE_TYPE_MAX];
  double scale;                      /* kernel units per caller unit */
  char *params_json;                 /* owned: the normalized parameters */
} srv_submitted;

srv_lua *srv_lua_new(char *err, size_t errlen);
void srv_lua_free(srv_lua *b);

/* Submits a JSON object through nerox.server.submit. Errors are the SDK's
 * error values mapped to HTTP (ValidationError: 400 naming the field). */
int srv_lua_submit(srv_lua *b, json_t *submission, srv_submitted *out,
                   srv_error *e);

/* The decoded result of finished job id as compact JSON text (owned by
 * the caller), then forgets the job's Lua object. */
int srv_lua_result(srv_lua *b, const char *id, char **json_text,
                   srv_error *e);

#endif
