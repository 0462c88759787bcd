/* `nerox.json`: JSON text <-> Lua values through jansson, for the remote
 * client. Unlike cjson it keeps integers and reals apart both ways (the
 * server writes 23 for an integer energy and 23.0 for a real one, and a
 * remote result must equal the local one), and numbers keep 17 digits.
 *
 *   json.encode(v)  -> text; tables with keys 1..n (or empty) are arrays
 *   json.decode(s)  -> value, or nil and "line L, column C: reason"
 *   json.null       -> stands for null inside arrays (objects drop it)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lauxlib.h>

#include "lua/core.h"

/* Deepest nesting either way. */
#define JSON_MAX_DEPTH 128

static int json_null_key;  /* address: the json.null sentinel */

static void json_push_null(lua_State *L)
{
  lua_pushlightuserdata(L, &json_null_key);
}

/* ---- decoding ------------------------------------------------------- */

static void json_push(lua_State *L, json_t *v, int depth)
{
  if (depth > JSON_MAX_DEPTH)
    luaL_error(L, "json: nested deeper than %d", JSON_MAX_DEPTH);
  luaL_checkstack(L, 4, "json: nested too deep");
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    const char *k;
    json_t *item;
    lua_createtable(L, 0, (int)json_object_size(v));
    json_object_foreach(v, k, item) {
      if (json_is_null(item))
        continue;
      json_push(L, item, depth + 1);
      lua_setfield(L, -2, k);
    }
    break;
  }
  case JSON_ARRAY: {
    size_t i;
    json_t *item;
    lua_createtable(L, (int)json_array_size(v), 0);
    json_array_foreach(v, i, item) {
      json_push(L, item, depth + 1);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    break;
  }
  case JSON_STRING:
    lua_pushlstring(L, json_string_value(v), json_string_length(v));
    break;
  case JSON_INTEGER:
    lua_pushinteger(L, (lua_Integer)json_integer_value(v));
    break;
  case JSON_REAL:
    lua_pushnumber(L, json_real_value(v));
    break;
  case JSON_TRUE:
  case JSON_FALSE:
    lua_pushboolean(L, json_is_true(v));
    break;
  case JSON_NULL:
    json_push_null(L);
    break;
  }
}

/* Pushing may raise (memory, depth): the parsed tree is freed by a
 * guard userdata's finalizer either way. */
static int json_tree_gc(lua_State *L)
{
  json_t **root = lua_touserdata(L, 1);
  if (root && *root) {
    json_decref(*root);
    *root = NULL;
  }
  return 0;
}

static int json_decode(lua_State *L)
{
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  json_error_t err;
  json_t **root = lua_newuserdatauv(L, sizeof *root, 0);
  *root = NULL;
  lua_newtable(L);
  lua_pushcfunction(L, json_tree_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  *root = json_loadb(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
  if (!*root) {
    luaL_pushfail(L);
    lua_pushfstring(L, "line %d, column %d: %s", err.line, err.column,
                    err.text);
    return 2;
  }
  json_push(L, *root, 0);
  json_decref(*root);
  *root = NULL;
  return 1;
}

/* ---- encoding ------------------------------------------------------- */

/* Each value is attached to its parent (or made the root) as soon as it
 * is made, so the guard's finalizer frees a half-built tree when a later
 * value raises. */
typedef struct json_out {
  json_t **root;
  json_t *parent;    /* NULL: the value is the root */
  const char *key;   /* in an object; NULL in an array */
} json_out;

static void json_attach(lua_State *L, const json_out *o, json_t *v)
{
  int rc = 0;
  if (!v)
    luaL_error(L, "json: out of memory or invalid UTF-8");
  if (!o->parent)
    *o->root = v;
  else if (o->key)
    rc = json_object_set_new(o->parent, o->key, v);
  else
    rc = json_array_append_new(o->parent, v);
  if (rc != 0)
    luaL_error(L, "json: out of memory");
}

static void json_add(lua_State *L, int idx, int depth, const json_out *o);

/* The table's length when its keys are exactly 1..n, else -1. */
static lua_Integer json_array_len(lua_State *L, int idx)
{
  lua_Integer n = 0, max = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1) {
      lua_pop(L, 1);
      return -1;
    }
    if (lua_tointeger(L, -1) > max)
      max = lua_tointeger(L, -1);
    n++;
  }
  return n == max ? n : -1;
}

static void json_add_table(lua_State *L, int idx, int depth,
                           const json_out *o)
{
  lua_Integer n = json_array_len(L, idx);
  json_t *c = n >= 0 ? json_array() : json_object();
  json_attach(L, o, c);
  json_out child = { o->root, c, NULL };
  if (n >= 0) {
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, idx, i);
      json_add(L, lua_gettop(L), depth + 1, &child);
      lua_pop(L, 1);
    }
    return;
  }
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int t = lua_type(L, -2);
    if (t != LUA_TSTRING && t != LUA_TNUMBER)
      luaL_error(L, "json: a %s key cannot be encoded", lua_typename(L, t));
    lua_pushvalue(L, -2);            /* a copy: lua_next needs the key */
    child.key = lua_tostring(L, -1);
    json_add(L, lua_gettop(L) - 1, depth + 1, &child);
    lua_pop(L, 2);
  }
}

static void json_add(lua_State *L, int idx, int depth, const json_out *o)
{
  if (depth > JSON_MAX_DEPTH)
    luaL_error(L, "json: nested deeper than %d (a cycle?)", JSON_MAX_DEPTH);
  luaL_checkstack(L, 4, "json: nested too deep");
  size_t len;
  const char *s;
  switch (lua_type(L, idx)) {
  case LUA_TNIL:
    json_attach(L, o, json_null());
    return;
  case LUA_TBOOLEAN:
    json_attach(L, o, json_boolean(lua_toboolean(L, idx)));
    return;
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) {
      json_attach(L, o, json_integer((json_int_t)lua_tointeger(L, idx)));
      return;
    }
    if (!isfinite(lua_tonumber(L, idx)))
      luaL_error(L, "json: %s cannot be encoded", lua_tostring(L, idx));
    json_attach(L, o, json_real(lua_tonumber(L, idx)));
    return;
  case LUA_TSTRING:
    s = lua_tolstring(L, idx, &len);
    json_attach(L, o, json_stringn(s, len));
    return;
  case LUA_TTABLE:
    json_add_table(L, idx, depth, o);
    return;
  case LUA_TLIGHTUSERDATA:
    if (lua_touserdata(L, idx) == &json_null_key) {
      json_attach(L, o, json_null());
      return;
    }
    /* fall through */
  default:
    luaL_error(L, "json: a %s cannot be encoded", luaL_typename(L, idx));
  }
}

static int json_encode(lua_State *L)
{
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  json_t **root = lua_newuserdatauv(L, sizeof *root, 0);
  *root = NULL;
  lua_newtable(L);
  lua_pushcfunction(L, json_tree_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  json_out top = { root, NULL, NULL };
  json_add(L, 1, 0, &top);
  char *text = json_dumps(*root, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS |
                                 JSON_REAL_PRECISION(17));
  json_decref(*root);
  *root = NULL;
  if (!text)
    return luaL_error(L, "json: out of memory");
  lua_pushstring(L, text);
  free(text);
  return 1;
}

static const luaL_Reg json_functions[] = {
  { "encode", json_encode },
  { "decode", json_decode },
  { NULL, NULL }
};

static int json_open(lua_State *L)
{
  luaL_newlib(L, json_functions);
  json_push_null(L);
  lua_setfield(L, -2, "null");
  return 1;
}

void json_preload(lua_State *L)
{
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, json_open);
  lua_setfield(L, -2, "nerox.json");
  lua_pop(L, 1);
}
