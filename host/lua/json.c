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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lauxlib.h>

#include "lua/core.h"
#include "lua/json.h"

/* Deepest nesting either way. */
#define JSON_MAX_DEPTH 128

/* The SDK's conversions: strict, with json.null in arrays. */
static const json_lua_opts json_sdk = { JSON_MAX_DEPTH, 1, 1 };

static int json_null_key;  /* address: the json.null sentinel */

static void json_push_null(lua_State *L)
{
  lua_pushlightuserdata(L, &json_null_key);
}

/* ---- JSON -> Lua ---------------------------------------------------- */

static void json_lua_push_at(lua_State *L, json_t *v,
                             const json_lua_opts *o, int depth)
{
  if (depth > o->max_depth)
    luaL_error(L, "json: nested deeper than %d", o->max_depth);
  luaL_checkstack(L, 4, "json: nested too deep");
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    const char *k;
    json_t *item;
    lua_createtable(L, 0, (int)json_object_size(v));
    json_object_foreach(v, k, item) {
      if (json_is_null(item))
        continue;
      json_lua_push_at(L, item, o, depth + 1);
      lua_setfield(L, -2, k);
    }
    break;
  }
  case JSON_ARRAY: {
    size_t i;
    json_t *item;
    lua_createtable(L, (int)json_array_size(v), 0);
    json_array_foreach(v, i, item) {
      json_lua_push_at(L, item, o, depth + 1);
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
    if (o->null_sentinel)
      json_push_null(L);
    else
      lua_pushnil(L);
    break;
  }
}

void json_lua_push(lua_State *L, json_t *v, const json_lua_opts *o)
{
  json_lua_push_at(L, v, o, 0);
}

/* ---- Lua -> JSON ---------------------------------------------------- */

typedef struct json_conv {
  lua_State *L;
  const json_lua_opts *o;
  char *err;
  size_t errlen;
} json_conv;

static json_t *json_conv_fail(json_conv *c, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err, c->errlen, fmt, ap);
  va_end(ap);
  return NULL;
}

static json_t *json_conv_value(json_conv *c, int idx, int depth);

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

static json_t *json_conv_array(json_conv *c, int idx, lua_Integer n,
                               int depth)
{
  json_t *out = json_array();
  if (!out)
    return json_conv_fail(c, "json: out of memory");
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(c->L, idx, i);
    json_t *x = json_conv_value(c, lua_gettop(c->L), depth + 1);
    lua_pop(c->L, 1);
    if (!x || json_array_append_new(out, x) != 0) {
      json_decref(out);
      return x ? json_conv_fail(c, "json: out of memory") : NULL;
    }
  }
  return out;
}

/* The object key at kidx into *key (buf holds a number written out):
 * 1 to use it, 0 to leave the member out, -1 when it fails. */
static int json_conv_key(json_conv *c, int kidx, char *buf, size_t len,
                         const char **key)
{
  lua_State *L = c->L;
  int t = lua_type(L, kidx);
  if (t == LUA_TSTRING) {
    *key = lua_tostring(L, kidx);
    return 1;
  }
  if (!c->o->strict)
    return 0;
  if (t != LUA_TNUMBER) {
    json_conv_fail(c, "json: a %s key cannot be encoded",
                   lua_typename(L, t));
    return -1;
  }
  if (lua_isinteger(L, kidx))
    snprintf(buf, len, LUA_INTEGER_FMT, lua_tointeger(L, kidx));
  else
    snprintf(buf, len, LUA_NUMBER_FMT, lua_tonumber(L, kidx));
  *key = buf;
  return 1;
}

static json_t *json_conv_object(json_conv *c, int idx, int depth)
{
  lua_State *L = c->L;
  json_t *out = json_object();
  if (!out)
    return json_conv_fail(c, "json: out of memory");
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    char num[64];
    const char *key;
    int k = json_conv_key(c, -2, num, sizeof num, &key);
    json_t *x = k > 0 ? json_conv_value(c, lua_gettop(L), depth + 1)
                      : NULL;
    if (k < 0 || (k > 0 && !x)) {
      lua_pop(L, 2);
      json_decref(out);
      return NULL;
    }
    if (x && json_object_set_new(out, key, x) != 0) {
      lua_pop(L, 2);
      json_decref(out);
      return json_conv_fail(c, "json: out of memory or a key not UTF-8");
    }
    lua_pop(L, 1);
  }
  return out;
}

static json_t *json_conv_table(json_conv *c, int idx, int depth)
{
  if (depth > c->o->max_depth)
    return json_conv_fail(c, "json: nested deeper than %d (a cycle?)",
                          c->o->max_depth);
  if (!lua_checkstack(c->L, 4))
    return json_conv_fail(c, "json: nested too deep");
  lua_Integer n = json_array_len(c->L, idx);
  return n >= 0 ? json_conv_array(c, idx, n, depth)
                : json_conv_object(c, idx, depth);
}

/* What JSON cannot hold: a failure when strict, else `instead`. */
static json_t *json_conv_cannot(json_conv *c, json_t *instead,
                                const char *what)
{
  if (!c->o->strict)
    return instead;
  json_decref(instead);
  return json_conv_fail(c, "json: %s cannot be encoded", what);
}

static json_t *json_conv_value(json_conv *c, int idx, int depth)
{
  lua_State *L = c->L;
  json_t *v = NULL;
  size_t len;
  const char *s;
  char what[64];
  switch (lua_type(L, idx)) {
  case LUA_TNIL:
    v = json_null();
    break;
  case LUA_TBOOLEAN:
    v = json_boolean(lua_toboolean(L, idx));
    break;
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) {
      v = json_integer((json_int_t)lua_tointeger(L, idx));
    } else if (isfinite(lua_tonumber(L, idx))) {
      v = json_real(lua_tonumber(L, idx));
    } else {
      snprintf(what, sizeof what, LUA_NUMBER_FMT, lua_tonumber(L, idx));
      return json_conv_cannot(c, json_null(), what);
    }
    break;
  case LUA_TSTRING:
    s = lua_tolstring(L, idx, &len);
    v = json_stringn(s, len);
    if (!v && !c->o->strict)
      v = json_string("(not UTF-8)");
    if (!v)
      return json_conv_fail(c, "json: out of memory or invalid UTF-8");
    break;
  case LUA_TTABLE:
    return json_conv_table(c, idx, depth);
  case LUA_TLIGHTUSERDATA:
    if (lua_touserdata(L, idx) == &json_null_key) {
      v = json_null();
      break;
    }
    /* fall through */
  default:
    snprintf(what, sizeof what, "a %s", luaL_typename(L, idx));
    return json_conv_cannot(c, json_null(), what);
  }
  return v ? v : json_conv_fail(c, "json: out of memory");
}

json_t *json_lua_value(lua_State *L, int idx, const json_lua_opts *o,
                       char *err, size_t errlen)
{
  json_conv c = { L, o, err, errlen };
  return json_conv_value(&c, lua_absindex(L, idx), 0);
}

/* ---- the nerox.json module ------------------------------------------ */

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
  json_lua_push(L, *root, &json_sdk);
  json_decref(*root);
  *root = NULL;
  return 1;
}

static int json_encode(lua_State *L)
{
  char err[128];
  luaL_checkany(L, 1);
  json_t *v = json_lua_value(L, 1, &json_sdk, err, sizeof err);
  if (!v)
    return luaL_error(L, "%s", err);
  char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
                             JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
  json_decref(v);
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

int json_open(lua_State *L)
{
  luaL_newlib(L, json_functions);
  json_push_null(L);
  lua_setfield(L, -2, "null");
  return 1;
}
