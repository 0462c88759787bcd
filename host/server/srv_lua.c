/* The server's Lua bridge (see srv_lua.h): a mutex-guarded Lua state that
 * runs nerox.server. JSON crosses through host/lua/json.h: arrays become
 * sequences, objects tables with string keys, null nil; back, a table
 * whose keys are exactly 1..n (or none) is an array, other tables objects
 * with their string keys. */
#include "server/srv_lua.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "lua/core.h"
#include "lua/host.h"
#include "lua/json.h"

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

/* ---- JSON (host/lua/json.h) ------------------------------------------ */

/* Submissions come in with null as nil; results and parameters go out
 * never failing on a value JSON cannot hold (it becomes null). */
static const json_lua_opts srv_json_in = { JSON_LUA_ANY_DEPTH, 0, 0 };
static const json_lua_opts srv_json_out = { SRV_LUA_MAX_DEPTH, 0, 0 };

/* The Lua value at idx as JSON, or NULL. */
static json_t *srv_to_json(lua_State *L, int idx)
{
  char err[128];
  return json_lua_value(L, idx, &srv_json_out, err, sizeof err);
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
  /* "field: message", unless the message names the field already
   * ("tsplib_text:7: ..."). */
  int named = field && msg && strncmp(msg, field, strlen(field)) == 0;
  srv_fail(e, kind ? srv_kind_status(kind) : 500, "%s%s%s",
           field && !named ? field : "", field && !named ? ": " : "",
           msg ? msg : "error");
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
  json_lua_push(L, sub, &srv_json_in);
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
  json_t *p = srv_to_json(L, lua_gettop(L));
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
  json_t *res = srv_to_json(L, top + 1);
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
