/* `nerox.core` readers for the file formats: rudy / G-set graphs and
 * OR-Library bqp files, returned as flat Lua lists that the maxcut and qubo
 * plugins encode, and TSPLIB text parsed into a tour model. Each reads a
 * path or, in its _text / _parse form, the file's contents with a label
 * that names the source. Errors are "path:LINE: reason" (or "label:..."). */
#include <math.h>
#include <stdlib.h>

#include <lauxlib.h>

#include "formats/bqp.h"
#include "formats/rudy.h"
#include "lua/core.h"

/* Push a weight: an integer when it is one, so exact data stays exact. */
static void core_push_weight(lua_State *L, double w, int integral)
{
  if (integral && fabs(w) <= 9007199254740992.0)
    lua_pushinteger(L, (lua_Integer)w);
  else
    lua_pushnumber(L, w);
}

/* Push {i1, j1, w1, i2, ...} for m triples. */
static void core_push_triples(lua_State *L, int64_t m, const int32_t *a,
                              const int32_t *b, const double *w,
                              int integral)
{
  lua_createtable(L, (int)(m > INT32_MAX / 3 ? 0 : 3 * m), 0);
  for (int64_t k = 0; k < m; k++) {
    lua_pushinteger(L, a[k]);
    lua_rawseti(L, -2, 3 * k + 1);
    lua_pushinteger(L, b[k]);
    lua_rawseti(L, -2, 3 * k + 2);
    core_push_weight(L, w[k], integral);
    lua_rawseti(L, -2, 3 * k + 3);
  }
}

/* Push {n, integral, edges} and free g. */
static void core_push_rudy(lua_State *L, rudy_graph *g)
{
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, g->n);
  lua_setfield(L, -2, "n");
  lua_pushboolean(L, g->integral);
  lua_setfield(L, -2, "integral");
  core_push_triples(L, g->m, g->u, g->v, g->w, g->integral);
  lua_setfield(L, -2, "edges");
  rudy_free(g);
}

/* Push {n, count, integral, entries} and free b. */
static void core_push_bqp(lua_State *L, bqp_instance *b, int count)
{
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, b->n);
  lua_setfield(L, -2, "n");
  lua_pushinteger(L, count);
  lua_setfield(L, -2, "count");
  lua_pushboolean(L, b->integral);
  lua_setfield(L, -2, "integral");
  core_push_triples(L, b->nnz, b->i, b->j, b->q, b->integral);
  lua_setfield(L, -2, "entries");
  bqp_free(b);
}

/* The instance number at idx (default 1), or a Lua argument error. */
static int core_check_instance(lua_State *L, int idx)
{
  lua_Integer k = luaL_optinteger(L, idx, 1);
  luaL_argcheck(L, k >= 1 && k <= BQP_MAX_INSTANCES, idx,
                "instance numbers start at 1");
  return (int)k;
}

int core_read_rudy(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  char err[512];
  rudy_graph *g = NULL;
  if (rudy_read_file(path, &g, err, sizeof err) != 0)
    return luaL_error(L, "%s", err);
  core_push_rudy(L, g);
  return 1;
}

int core_read_rudy_text(lua_State *L)
{
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  const char *label = luaL_optstring(L, 2, "text");
  char err[512];
  rudy_graph *g = NULL;
  if (rudy_read_string(text, len, label, &g, err, sizeof err) != 0)
    return luaL_error(L, "%s", err);
  core_push_rudy(L, g);
  return 1;
}

int core_read_bqp(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  int k = core_check_instance(L, 2);
  char err[512];
  bqp_instance *b = NULL;
  int count = 0;
  if (bqp_read_file(path, k, &b, &count, err, sizeof err) != 0)
    return luaL_error(L, "%s", err);
  core_push_bqp(L, b, count);
  return 1;
}

int core_read_bqp_text(lua_State *L)
{
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  int k = core_check_instance(L, 2);
  const char *label = luaL_optstring(L, 3, "text");
  char err[512];
  bqp_instance *b = NULL;
  int count = 0;
  if (bqp_read_string(text, len, label, k, &b, &count, err,
                      sizeof err) != 0)
    return luaL_error(L, "%s", err);
  core_push_bqp(L, b, count);
  return 1;
}

int core_tsplib_parse(lua_State *L)
{
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  const char *label = luaL_optstring(L, 2, "text");
  char err[512];
  nx_model *m = model_from_tsplib_text(text, len, label, err, sizeof err);
  if (!m)
    return luaL_error(L, "%s", err);
  core_push_model(L, m);
  return 1;
}
