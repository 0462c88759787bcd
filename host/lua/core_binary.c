/* `nerox.core` for the binary kernel: QUBO models built from Lua tables
 * (the plugins for qubo, ising, maxcut and friends encode into these) and
 * their energies. Integers throughout: the plugins scale float models. */
#include <stdlib.h>

#include <lauxlib.h>

#include "lua/core.h"

/* Largest |coupling| accepted: couplings are int32 in the kernel. */
#define CORE_MAX_COUPLING INT32_MAX

/* Element k (1-based) of the table at t as an integer in [lo, hi]. On
 * error, free `owned` first so nothing leaks past luaL_error. */
static lua_Integer core_elem_int(lua_State *L, int t, lua_Integer k,
                                 const char *field, lua_Integer lo,
                                 lua_Integer hi, void *owned)
{
  lua_geti(L, t, k);
  int isint = 0;
  lua_Integer v = lua_tointegerx(L, -1, &isint);
  lua_pop(L, 1);
  if (!isint || v < lo || v > hi) {
    free(owned);
    luaL_error(L, "%s[%I]: expected an integer from %I to %I", field, k,
               lo, hi);
  }
  return v;
}

static int64_t *core_read_h(lua_State *L, int n)
{
  lua_getfield(L, 1, "h");
  int t = lua_gettop(L);
  if (lua_type(L, t) != LUA_TTABLE || lua_rawlen(L, t) != (size_t)n)
    luaL_error(L, "h: expected %d integers", n);
  int64_t *h = malloc((size_t)n * sizeof *h);
  if (!h)
    luaL_error(L, "h: out of memory");
  for (int i = 0; i < n; i++)
    h[i] = core_elem_int(L, t, i + 1, "h", LUA_MININTEGER / 4,
                         LUA_MAXINTEGER / 4, h);
  lua_pop(L, 1);
  return h;
}

/* The couplings as three arrays, in one allocation at *block. */
static int64_t core_read_couplings(lua_State *L, int n, int32_t **block,
                                   int64_t *h)
{
  lua_getfield(L, 1, "couplings");
  int t = lua_gettop(L);
  size_t len = lua_isnil(L, t) ? 0 : lua_rawlen(L, t);
  if ((!lua_isnil(L, t) && lua_type(L, t) != LUA_TTABLE) || len % 3 != 0) {
    free(h);
    luaL_error(L, "couplings: expected a flat list of (i, j, w) triples");
  }
  int64_t m = (int64_t)(len / 3);
  int32_t *b = malloc((size_t)(m > 0 ? 3 * m : 1) * sizeof *b);
  if (!b) {
    free(h);
    luaL_error(L, "couplings: out of memory");
  }
  for (int64_t k = 0; k < 3 * m; k++) {
    int is_w = k % 3 == 2;
    lua_Integer lo = is_w ? -CORE_MAX_COUPLING : 0;
    lua_Integer hi = is_w ? CORE_MAX_COUPLING : n - 1;
    /* free both on error: h first, then b */
    lua_geti(L, t, k + 1);
    int isint = 0;
    lua_Integer v = lua_tointegerx(L, -1, &isint);
    lua_pop(L, 1);
    if (!isint || v < lo || v > hi) {
      free(h);
      free(b);
      luaL_error(L, "couplings[%I]: expected an integer from %I to %I",
                 (lua_Integer)k + 1, lo, hi);
    }
    b[(k % 3) * m + k / 3] = (int32_t)v;
  }
  lua_pop(L, 1);
  *block = b;
  return m;
}

int core_binary_model(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  int n = (int)core_opt_int(L, 1, "n", 0, 1, BINARY_MAX_N);
  int64_t offset = core_opt_int(L, 1, "offset", 0, LUA_MININTEGER / 4,
                                  LUA_MAXINTEGER / 4);
  int64_t *h = core_read_h(L, n);
  int32_t *b = NULL;
  int64_t m = core_read_couplings(L, n, &b, h);
  char err[512];
  nx_model *model = model_from_couplings(n, h, m, b, b + m, b + 2 * m,
                                         offset, err, sizeof err);
  free(h);
  free(b);
  if (!model)
    return luaL_error(L, "%s", err);
  core_push_model(L, model);
  return 1;
}

int core_model_energy(lua_State *L)
{
  nx_model *m = core_check_model(L, 1);
  if (model_get_kind(m) != MODEL_BINARY)
    return luaL_argerror(L, 1, "a binary model is needed");
  int n = model_n(m);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_argcheck(L, lua_rawlen(L, 2) == (size_t)n, 2,
                "expected one 0/1 value per variable");
  int32_t *x = malloc((size_t)n * sizeof *x);
  if (!x)
    return luaL_error(L, "out of memory");
  for (int i = 0; i < n; i++)
    x[i] = (int32_t)core_elem_int(L, 2, i + 1, "x", 0, 1, x);
  lua_pushinteger(L, binary_energy(model_binary(m), x));
  free(x);
  return 1;
}
