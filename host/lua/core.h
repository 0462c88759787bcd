/* Pieces of the `nerox.core` module shared by its source files. */
#ifndef NEROX_LUA_CORE_H
#define NEROX_LUA_CORE_H

#include <lauxlib.h>
#include <lua.h>

#include "engine/model.h"

#define CORE_MODEL "nerox.model"
#define CORE_JOB "nerox.job"

/* Push a model as a userdata; the userdata owns the reference. */
void core_push_model(lua_State *L, nx_model *m);
/* The open model at idx, or a Lua argument error. */
nx_model *core_check_model(lua_State *L, int idx);

/* t[key] as an integer within [lo, hi] (dflt when nil), or a Lua error
 * naming the key. */
lua_Integer core_opt_int(lua_State *L, int t, const char *key,
                         lua_Integer dflt, lua_Integer lo, lua_Integer hi);

/* core.binary_model{n = N, h = {...}, couplings = {i, j, w, ...},
 * offset = C}: a QUBO of the binary kernel (core_binary.c). */
int core_binary_model(lua_State *L);
/* model:energy(x): E(x) of a 0/1 assignment of a binary model. */
int core_model_energy(lua_State *L);

/* core.read_rudy(path), core.read_bqp(path, k): format readers
 * (core_formats.c). */
int core_read_rudy(lua_State *L);
int core_read_bqp(lua_State *L);
/* The same from a file's contents: core.read_rudy_text(text, label),
 * core.read_bqp_text(text, k, label), and core.tsplib_parse(text, label)
 * for a TSPLIB model; `label` (default "text") names the source in
 * errors. */
int core_read_rudy_text(lua_State *L);
int core_read_bqp_text(lua_State *L);
int core_tsplib_parse(lua_State *L);

/* Make the metatable `name` of a userdata class: __index the methods
 * (none when NULL), __gc the finalizer, and __metatable the name, so
 * getmetatable() hides __gc from scripts. */
void core_new_class(lua_State *L, const char *name,
                    const luaL_Reg *methods, lua_CFunction gc);

/* The host's C modules (lua_CFunctions for package.preload, registered
 * by host_new): `nerox.core` (core.c), `nerox.loop` (event loop and
 * libcurl transport, loop.c), `nerox.json` (json.c) and
 * `nerox.metrics_c` (metrics_lua.c). */
int core_open(lua_State *L);
int loop_open(lua_State *L);
int json_open(lua_State *L);
int metrics_lua_open(lua_State *L);

#endif
