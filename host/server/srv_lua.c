/* The server's Lua bridge (see srv_lua.h): a mutex-guarded Lua state that
 * runs nerox.server, and the conversions between jansson values and Lua
 * tables. JSON arrays become sequences, objects tables with string keys,
 * null nil; back, a table whose keys are exactly 1..n is an array, an
 * empty table an array, and other tables objects with their string keys. */
#include "server/srv_lua.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "lua/core.h"
#include "lua/host.h"

#define SRV_LUA_MODULE "nerox.server"

struct srv_lua {
  lua_State *L;
  pthread_mutex_t mu;
};

srv_lua *srv_lua_new(char *err, size_t errlen)
{
  srv_lua *b = calloc(1, sizeof *b);
  if (!b) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  int rc = pthread_mutex_init(&b->mu, NULL);
  if (rc != 0) {
    snprintf(err, errlen, "mutex: %s", strerror(rc));
    free(b);
    return NULL;
  }
  b->L = host_new(err, errlen);
  if (!b->L) {
    pthread_mutex_destroy(&b->mu);
    free(b);
    return NULL;
  }
  return b;
}

void srv_lua_free(srv_lua *b)
{
  if (!b)
    return;
  host_close(b->L);
  pthread_mutex_destroy(&b->mu);
  free(b);
}

/* ---- JSON -> Lua (inside a protected call: may raise) --------------- */

static void srv_push_json(lua_State *L, json_t *v)
{
  luaL_checkstack(L, 4, "JSON nested too deeply");
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    const char *k;
    json_t *x;
    lua_createtable(L, 0, (int)json_object_size(v));
    json_object_foreach(v, k, x) {
      srv_push_json(L, x);
      lua_setfield(L, -2, k);
    }
    break;
  }
  case JSON_ARRAY: {
    size_t i;
    json_t *x;
    lua_createtable(L, (int)json_array_size(v), 0);
    json_array_foreach(v, i, x) {
      srv_push_json(L, x);
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
  default:
    lua_pushnil(L);
  }
}

/* ---- Lua -> JSON (never raises; NULL on failure) -------------------- */

static json_t *srv_to_json(lua_State *L, int idx, int depth);

/* The length n when the table at idx has exactly the keys 1..n, else -1. */
static lua_Integer srv_array_len(lua_State *L, int idx)
{
  lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    count++;
  }
  return count == n ? n : -1;
}

static json_t *srv_table_to_json(lua_State *L, int idx, int depth)
{
  if (depth > SRV_LUA_MAX_DEPTH || !lua_checkstack(L, 4))
    return NULL;
  lua_Integer n = srv_array_len(L, idx);
  json_t *out = n >= 0 ? json_array() : json_object();
  if (!out)
    return NULL;
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, i);
    json_t *x = srv_to_json(L, lua_gettop(L), depth + 1);
    lua_pop(L, 1);
    if (!x || json_array_append_new(out, x) != 0)
      goto fail;
  }
  if (n >= 0)
    return out;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) == LUA_TSTRING) {
      json_t *x = srv_to_json(L, lua_gettop(L), depth + 1);
      if (!x || json_object_set_new(out, lua_tostring(L, -2), x) != 0) {
        lua_pop(L, 2);
        goto fail;
      }
    }
    lua_pop(L, 1);
  }
  return out;
fail:
  json_decref(out);
  return NULL;
}

static json_t *srv_to_json(lua_State *L, int idx, int depth)
{
  switch (lua_type(L, idx)) {
  case LUA_TTABLE:
    return srv_table_to_json(L, idx, depth);
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    json_t *x = json_stringn(s, len);
    return x ? x : json_string("(not UTF-8)");
  }
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx))
      return json_integer((json_int_t)lua_tointeger(L, idx));
    if (!isfinite(lua_tonumber(L, idx)))
      return json_null();
    return json_real(lua_tonumber(L, idx));
  case LUA_TBOOLEAN:
    return json_boolean(lua_toboolean(L, idx));
  default:
    return json_null();
  }
}

/* ---- errors ------------------------------------------------------- */

static int srv_kind_status(const char *kind)
{
  if (strcmp(kind, "ValidationError") == 0)
    return 400;
  if (strcmp(kind, "NotFoundError") == 0)
    return 404;
  if (strcmp(kind, "ConflictError") == 0)
    return 409;
  return 500;
}

/* Fills e from the error value on top of the stack (an SDK error table or
 * a string) and pops it. */
static int srv_lua_error(lua_State *L, srv_error *e)
{
  if (lua_type(L, -1) != LUA_TTABLE) {
    const char *msg = lua_tostring(L, -1);
    srv_fail(e, 500, "%s", msg ? msg : "error in the Lua bridge");
    lua_pop(L, 1);
    return -1;
  }
  lua_getfield(L, -1, "kind");
  lua_getfield(L, -2, "message");
  lua_getfield(L, -3, "field");
  const char *kind = lua_tostring(L, -3);
  const char *msg = lua_tostring(L, -2);
  const char *field = lua_tostring(L, -1);
  srv_fail(e, kind ? srv_kind_status(kind) : 500, "%s%s%s",
           field ? field : "", field ? ": " : "", msg ? msg : "error");
  if (e->status == 400)
    snprintf(e->type, sizeof e->type, "validation_error");
  if (field)
    snprintf(e->field, sizeof e->field, "%s", field);
  lua_pop(L, 4);
  return -1;
}

/* ---- submit --------------------------------------------------------- */

/* Pushes require(SRV_LUA_MODULE); may raise. */
static void srv_require(lua_State *L)
{
  lua_getglobal(L, "require");
  lua_pushstring(L, SRV_LUA_MODULE);
  lua_call(L, 1, 1);
}

/* Protected: (json lightuserdata) -> core job, info. */
static int srv_lua_do_submit(lua_State *L)
{
  json_t *sub = lua_touserdata(L, 1);
  srv_require(L);
  lua_getfield(L, -1, "submit");
  srv_push_json(L, sub);
  lua_call(L, 1, 2);
  return 2;
}

static void srv_read_info(lua_State *L, int info, srv_submitted *out)
{
  lua_getfield(L, info, "problem_type");
  snprintf(out->problem_type, sizeof out->problem_type, "%s",
           lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
  lua_getfield(L, info, "scale");
  out->scale = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : 1.0;
  lua_getfield(L, info, "params");
  json_t *p = srv_to_json(L, lua_gettop(L), 0);
  out->params_json = p ? json_dumps(p, JSON_COMPACT) : NULL;
  json_decref(p);
  lua_pop(L, 3);
}

static int srv_lua_submit_locked(lua_State *L, json_t *submission,
                                 srv_submitted *out, srv_error *e)
{
  int top = lua_gettop(L);
  lua_pushcfunction(L, srv_lua_do_submit);
  lua_pushlightuserdata(L, submission);
  if (lua_pcall(L, 1, 2, 0) != LUA_OK)
    return srv_lua_error(L, e);
  job **ud = luaL_testudata(L, top + 1, CORE_JOB);
  if (!ud || !*ud || !lua_istable(L, top + 2)) {
    lua_settop(L, top);
    return srv_fail(e, 500, "nerox.server.submit returned no job");
  }
  out->j = *ud;
  job_retain(out->j);
  srv_read_info(L, top + 2, out);
  lua_settop(L, top);
  return 0;
}

int srv_lua_submit(srv_lua *b, json_t *submission, srv_submitted *out,
                   srv_error *e)
{
  memset(out, 0, sizeof *out);
  int rc = pthread_mutex_lock(&b->mu);
  if (rc != 0)
    return srv_fail(e, 500, "locking the Lua state: %s", strerror(rc));
  rc = srv_lua_submit_locked(b->L, submission, out, e);
  pthread_mutex_unlock(&b->mu);
  return rc;
}

/* ---- result --------------------------------------------------------- */

/* Protected: (id) -> result table; then the job is forgotten. */
static int srv_lua_do_result(lua_State *L)
{
  srv_require(L);
  lua_getfield(L, -1, "result");
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  lua_getfield(L, 2, "forget");
  lua_pushvalue(L, 1);
  lua_call(L, 1, 0);
  return 1;
}

static int srv_lua_result_locked(lua_State *L, const char *id,
                                 char **json_text, srv_error *e)
{
  int top = lua_gettop(L);
  lua_pushcfunction(L, srv_lua_do_result);
  lua_pushstring(L, id);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK)
    return srv_lua_error(L, e);
  json_t *res = srv_to_json(L, top + 1, 0);
  lua_settop(L, top);
  *json_text = res ? json_dumps(res, JSON_COMPACT) : NULL;
  json_decref(res);
  if (!*json_text)
    return srv_fail(e, 500, "job %s: its result cannot be written as "
                    "JSON", id);
  return 0;
}

int srv_lua_result(srv_lua *b, const char *id, char **json_text,
                   srv_error *e)
{
  *json_text = NULL;
  int rc = pthread_mutex_lock(&b->mu);
  if (rc != 0)
    return srv_fail(e, 500, "locking the Lua state: %s", strerror(rc));
  rc = srv_lua_result_locked(b->L, id, json_text, e);
  pthread_mutex_unlock(&b->mu);
  return rc;
}
