/* `nerox.core` readers for the binary kernel's file formats: rudy / G-set
 * graphs and OR-Library bqp files, returned as flat Lua lists that the
 * maxcut and qubo plugins encode. Errors are "path:LINE: reason". */
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

int core_read_rudy(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  char err[512];
  rudy_graph *g = NULL;
  if (rudy_read_file(path, &g, err, sizeof err) != 0)
    return luaL_error(L, "%s", err);
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, g->n);
  lua_setfield(L, -2, "n");
  lua_pushboolean(L, g->integral);
  lua_setfield(L, -2, "integral");
  core_push_triples(L, g->m, g->u, g->v, g->w, g->integral);
  lua_setfield(L, -2, "edges");
  rudy_free(g);
  return 1;
}

int core_read_bqp(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  lua_Integer k = luaL_optinteger(L, 2, 1);
  luaL_argcheck(L, k >= 1 && k <= BQP_MAX_INSTANCES, 2,
                "instance numbers start at 1");
  char err[512];
  bqp_instance *b = NULL;
  int count = 0;
  if (bqp_read_file(path, (int)k, &b, &count, err, sizeof err) != 0)
    return luaL_error(L, "%s", err);
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
  return 1;
}
