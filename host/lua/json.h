/* JSON (jansson values) <-> Lua values, in one place: the SDK's
 * `nerox.json` module (json.c) and the server's Lua bridge
 * (server/srv_lua.c) both convert through here.
 *
 * JSON -> Lua: objects become tables with string keys (a null member is
 * left out), arrays sequences, integers Lua integers and reals floats.
 * Lua -> JSON: a table whose keys are exactly 1..n (or none) is an array,
 * any other an object; integers and floats stay apart. */
#ifndef NEROX_LUA_JSON_H
#define NEROX_LUA_JSON_H

#include <limits.h>
#include <stddef.h>

#include <jansson.h>
#include <lua.h>

/* No nesting limit of our own (jansson's parser has one). */
#define JSON_LUA_ANY_DEPTH INT_MAX

/* How values cross. */
typedef struct json_lua_opts {
  int max_depth;      /* deeper nesting fails */
  /* 1 (the SDK): what JSON cannot hold fails the conversion (a function,
   * inf, a string not UTF-8, a key neither string nor number); number
   * keys of objects are written as Lua writes them. 0 (the server): such
   * values become null, strings "(not UTF-8)", and keys that are not
   * strings are left out. */
  int strict;
  /* 1: null in an array is pushed as the json.null sentinel; 0: nil. */
  int null_sentinel;
} json_lua_opts;

/* Pushes v; raises a Lua error when it nests deeper than o->max_depth
 * or memory runs out. */
void json_lua_push(lua_State *L, json_t *v, const json_lua_opts *o);

/* The Lua value at idx as a new JSON value, or NULL with the reason in
 * err. Never raises. */
json_t *json_lua_value(lua_State *L, int idx, const json_lua_opts *o,
                       char *err, size_t errlen);

#endif
