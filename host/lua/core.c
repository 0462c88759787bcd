/* `nerox.core`: the C side of the Lua SDK. Models, jobs and their events
 * as Lua userdata; errors are raised as plain strings that the SDK turns
 * into error values with kinds. Energies here are integer kernel units. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "engine/engine.h"
#include "formats/tsplib.h"
#include "lua/core.h"
#include "lua/host.h"
#include "util/clock.h"

/* Largest coordinate scale accepted by perm_model{coords=...}. */
#define CORE_MAX_SCALE 1e9
#define CORE_MAX_SCALE_TEXT "1e9"
/* Largest matrix entry: TSPLIB's EXPLICIT weights go up to it too. */
#define CORE_MAX_DIST INT32_MAX

/* ---- models --------------------------------------------------------- */

void core_push_model(lua_State *L, nx_model *m)
{
  nx_model **ud = lua_newuserdatauv(L, sizeof *ud, 0);
  *ud = m;
  luaL_setmetatable(L, CORE_MODEL);
}

/* A model still open: a finalizer that runs after the model's own (at
 * exit, or a script calling __gc) finds it closed, not freed memory. */
nx_model *core_check_model(lua_State *L, int idx)
{
  nx_model **ud = luaL_checkudata(L, idx, CORE_MODEL);
  if (!*ud)
    luaL_argerror(L, idx, "the model is closed");
  return *ud;
}

/* A model of the perm kernel (TSP), for the methods only it has. */
static nx_model *core_check_perm(lua_State *L, int idx)
{
  nx_model *m = core_check_model(L, idx);
  if (model_get_kind(m) != MODEL_PERM)
    luaL_argerror(L, idx, "a tour model is needed");
  return m;
}

static int core_tsplib_load(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  char err[512];
  nx_model *m = model_from_tsplib(path, err, sizeof err);
  if (!m)
    return luaL_error(L, "%s", err);
  core_push_model(L, m);
  return 1;
}

static int core_tsplib_read_tour(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  char err[512];
  int32_t *tour = NULL;
  int n = 0;
  if (tsplib_read_tour(path, &tour, &n, err, sizeof err) != 0)
    return luaL_error(L, "%s", err);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_pushinteger(L, tour[i]);
    lua_rawseti(L, -2, i + 1);
  }
  free(tour);
  return 1;
}

/* Read spec.n: the number of cities. */
static int core_spec_n(lua_State *L)
{
  lua_getfield(L, 1, "n");
  int isnum = 0;
  lua_Integer n = lua_tointegerx(L, -1, &isnum);
  lua_pop(L, 1);
  if (!isnum || n < 3 || n > PERM_MAX_N)
    return luaL_error(L, "n: expected an integer from 3 to %d",
                      PERM_MAX_N);
  return (int)n;
}

static int32_t *core_read_matrix(lua_State *L, int n)
{
  lua_getfield(L, 1, "matrix");
  int t = lua_gettop(L);
  size_t cells = (size_t)n * (size_t)n;
  if (lua_type(L, t) != LUA_TTABLE || lua_rawlen(L, t) != cells)
    luaL_error(L, "matrix: expected %d integers", (int)cells);
  int32_t *mx = malloc(cells * sizeof *mx);
  if (!mx)
    luaL_error(L, "matrix: out of memory for %d x %d", n, n);
  for (size_t k = 0; k < cells; k++) {
    lua_rawgeti(L, t, (lua_Integer)k + 1);  /* raw: cannot raise */
    int isint = 0;
    lua_Integer v = lua_tointegerx(L, -1, &isint);
    lua_pop(L, 1);
    if (!isint || v < 0 || v > CORE_MAX_DIST) {
      free(mx);
      luaL_error(L, "matrix[%d]: expected an integer from 0 to %d",
                 (int)k + 1, CORE_MAX_DIST);
    }
    mx[k] = (int32_t)v;
  }
  lua_pop(L, 1);
  return mx;
}

static int core_matrix_symmetric(const int32_t *mx, int n, int *bi, int *bj)
{
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++)
      if (mx[(size_t)i * n + j] != mx[(size_t)j * n + i]) {
        *bi = i;
        *bj = j;
        return 0;
      }
  return 1;
}

static nx_model *core_model_from_matrix(lua_State *L, int n)
{
  int32_t *mx = core_read_matrix(L, n);
  int i = 0, j = 0;
  if (!core_matrix_symmetric(mx, n, &i, &j)) {
    free(mx);
    luaL_error(L, "matrix: not symmetric at (%d, %d)", i, j);
  }
  char err[256];
  nx_model *m = model_from_matrix(n, mx, err, sizeof err);
  if (!m)
    luaL_error(L, "%s", err);
  return m;
}

static nx_model *core_model_from_coords(lua_State *L, int n)
{
  lua_getfield(L, 1, "scale");
  lua_Number scale = lua_isnil(L, -1) ? 1.0 : lua_tonumber(L, -1);
  lua_pop(L, 1);
  if (!(scale > 0 && scale <= CORE_MAX_SCALE))
    luaL_error(L, "scale: expected a number in (0, %s]",
               CORE_MAX_SCALE_TEXT);
  lua_getfield(L, 1, "coords");
  int t = lua_gettop(L);
  if (lua_type(L, t) != LUA_TTABLE || lua_rawlen(L, t) != (size_t)n * 2)
    luaL_error(L, "coords: expected %d numbers (x, y pairs)", 2 * n);
  double *xy = malloc((size_t)n * 2 * sizeof *xy);
  if (!xy)
    luaL_error(L, "coords: out of memory");
  for (int k = 0; k < 2 * n; k++) {
    lua_rawgeti(L, t, k + 1);  /* raw: cannot raise while xy is held */
    int isnum = 0;
    xy[k] = lua_tonumberx(L, -1, &isnum);
    lua_pop(L, 1);
    if (!isnum || !isfinite(xy[k])) {
      free(xy);
      luaL_error(L, "coords[%d]: expected a finite number", k + 1);
    }
  }
  char err[256];
  nx_model *m = model_from_coords(n, xy, scale, err, sizeof err);
  free(xy);
  if (!m)
    luaL_error(L, "%s", err);
  lua_pop(L, 1);
  return m;
}

static int core_perm_model(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  int n = core_spec_n(L);
  lua_getfield(L, 1, "matrix");
  int has_matrix = !lua_isnil(L, -1);
  lua_pop(L, 1);
  nx_model *m = has_matrix ? core_model_from_matrix(L, n)
                           : core_model_from_coords(L, n);
  core_push_model(L, m);
  return 1;
}

static int core_model_n(lua_State *L)
{
  lua_pushinteger(L, model_n(core_check_model(L, 1)));
  return 1;
}

static int core_model_name(lua_State *L)
{
  const char *name = model_name(core_check_model(L, 1));
  if (*name)
    lua_pushstring(L, name);
  else
    lua_pushnil(L);
  return 1;
}

static int core_model_hash(lua_State *L)
{
  lua_pushstring(L, model_hash(core_check_model(L, 1)));
  return 1;
}

static int core_model_dist(lua_State *L)
{
  nx_model *m = core_check_perm(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2), j = luaL_checkinteger(L, 3);
  luaL_argcheck(L, i >= 0 && i < model_n(m), 2, "city out of range");
  luaL_argcheck(L, j >= 0 && j < model_n(m), 3, "city out of range");
  lua_pushinteger(L, model_dist(m, (int)i, (int)j));
  return 1;
}

/* model:tour_length(tour): the tour must be a permutation of 0..n-1. */
static int core_model_tour_length(lua_State *L)
{
  nx_model *m = core_check_perm(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  int n = model_n(m);
  luaL_argcheck(L, lua_rawlen(L, 2) == (size_t)n, 2,
                "tour must list every city once");
  char *seen = calloc((size_t)n, 1);
  if (!seen)
    return luaL_error(L, "out of memory");
  lua_Integer first = -1, prev = -1, total = 0;
  for (int k = 1; k <= n; k++) {
    lua_rawgeti(L, 2, k);
    int isint = 0;
    lua_Integer c = lua_tointegerx(L, -1, &isint);
    lua_pop(L, 1);
    if (!isint || c < 0 || c >= n || seen[c]) {
      free(seen);
      return luaL_error(L, "tour[%d]: not a new city id in 0..%d", k, n - 1);
    }
    seen[c] = 1;
    if (prev >= 0)
      total += model_dist(m, (int)prev, (int)c);
    else
      first = c;
    prev = c;
  }
  total += model_dist(m, (int)prev, (int)first);
  free(seen);
  lua_pushinteger(L, total);
  return 1;
}

static int core_model_gc(lua_State *L)
{
  nx_model **ud = luaL_checkudata(L, 1, CORE_MODEL);
  model_release(*ud);
  *ud = NULL;
  return 0;
}

/* ---- jobs ----------------------------------------------------------- */

static job *core_check_job(lua_State *L, int idx)
{
  job **ud = luaL_checkudata(L, idx, CORE_JOB);
  if (!*ud)
    luaL_argerror(L, idx, "the job is closed");
  return *ud;
}

lua_Integer core_opt_int(lua_State *L, int t, const char *key,
                         lua_Integer dflt, lua_Integer lo, lua_Integer hi)
{
  lua_getfield(L, t, key);
  lua_Integer v = dflt;
  if (!lua_isnil(L, -1)) {
    int isint = 0;
    v = lua_tointegerx(L, -1, &isint);
    if (!isint || v < lo || v > hi)
      luaL_error(L, "%s: expected an integer from %I to %I", key, lo, hi);
  }
  lua_pop(L, 1);
  return v;
}

static job_solver core_opt_solver(lua_State *L, int t)
{
  lua_getfield(L, t, "solver");
  const char *s = lua_isnil(L, -1) ? "auto" : lua_tostring(L, -1);
  job_solver solver = JOB_SOLVER_AUTO;
  if (s && strcmp(s, "cpu") == 0)
    solver = JOB_SOLVER_CPU;
  else if (s && strcmp(s, "gpu") == 0)
    solver = JOB_SOLVER_GPU;
  else if (!s || strcmp(s, "auto") != 0)
    luaL_error(L, "solver: expected 'cpu', 'gpu' or 'auto'");
  lua_pop(L, 1);
  return solver;
}

static void core_read_params(lua_State *L, int t, job_params *p)
{
  memset(p, 0, sizeof *p);
  p->solver = core_opt_solver(L, t);
  p->seed = (uint64_t)core_opt_int(L, t, "seed", 0, 0, INT64_MAX);
  p->replicas = (int)core_opt_int(L, t, "replicas", 0, 0,
                                 PERM_MAX_REPLICAS);
  p->sweeps = core_opt_int(L, t, "sweeps", 0, 0, INT64_MAX);
  p->threads = (int)core_opt_int(L, t, "threads", 0, 0, PERM_MAX_THREADS);
  lua_getfield(L, t, "time_limit");
  if (!lua_isnil(L, -1)) {
    int isnum = 0;
    p->time_limit = lua_tonumberx(L, -1, &isnum);
    if (!isnum || !(p->time_limit > 0) ||
        p->time_limit > ENGINE_MAX_TIME_LIMIT_S)
      luaL_error(L, "time_limit: expected seconds in (0, %d]",
                 (int)ENGINE_MAX_TIME_LIMIT_S);
  }
  lua_pop(L, 1);
  lua_getfield(L, t, "target_energy");
  if (!lua_isnil(L, -1)) {
    int isint = 0;
    p->target_energy = lua_tointegerx(L, -1, &isint);
    if (!isint)
      luaL_error(L, "target_energy: expected an integer");
    p->has_target = 1;
  }
  lua_pop(L, 1);
}

static int core_submit(lua_State *L)
{
  nx_model *m = core_check_model(L, 1);
  job_params p;
  if (lua_isnoneornil(L, 2))
    lua_newtable(L);
  luaL_checktype(L, 2, LUA_TTABLE);
  core_read_params(L, 2, &p);
  job **ud = lua_newuserdatauv(L, sizeof *ud, 0);
  *ud = NULL;
  luaL_setmetatable(L, CORE_JOB);
  char err[512];
  if (engine_submit(m, &p, ud, err, sizeof err) != 0)
    return luaL_error(L, "%s", err);
  return 1;
}

static int core_job_id(lua_State *L)
{
  lua_pushstring(L, job_id(core_check_job(L, 1)));
  return 1;
}

static int core_job_state(lua_State *L)
{
  lua_pushstring(L, job_state_name(job_get_state(core_check_job(L, 1))));
  return 1;
}

static void core_push_event(lua_State *L, const job_event *ev)
{
  lua_createtable(L, 0, 7);
  lua_pushinteger(L, ev->seq);
  lua_setfield(L, -2, "seq");
  lua_pushstring(L, ev->final ? job_state_name(ev->state) : "progress");
  lua_setfield(L, -2, "type");
  if (ev->best_energy != INT64_MAX) {
    lua_pushinteger(L, ev->best_energy);
    lua_setfield(L, -2, "best_energy");
    lua_pushinteger(L, ev->energy);
    lua_setfield(L, -2, "energy");
  }
  lua_pushinteger(L, ev->sweep);
  lua_setfield(L, -2, "sweep");
  lua_pushnumber(L, ev->elapsed_s);
  lua_setfield(L, -2, "elapsed_s");
  lua_pushinteger(L, ev->replicas);
  lua_setfield(L, -2, "replicas");
}

static double core_opt_timeout(lua_State *L, int idx)
{
  if (lua_isnoneornil(L, idx))
    return -1.0;
  lua_Number t = luaL_checknumber(L, idx);
  luaL_argcheck(L, t >= 0 && isfinite(t), idx, "timeout must be >= 0");
  return t;
}

static int core_job_next_event(lua_State *L)
{
  job *j = core_check_job(L, 1);
  lua_Integer after = luaL_optinteger(L, 2, 0);
  double timeout = core_opt_timeout(L, 3);
  job_event ev;
  if (job_next_event(j, after, timeout, &ev) != 1)
    return 0;
  core_push_event(L, &ev);
  return 1;
}

/* How many events job:events() returns at most in one call. */
#define CORE_EVENTS_BATCH 4096

static int core_job_events(lua_State *L)
{
  job *j = core_check_job(L, 1);
  lua_Integer after = luaL_optinteger(L, 2, 0);
  /* A userdata, not malloc: the loop below may raise out of memory. */
  job_event *buf = lua_newuserdatauv(L, CORE_EVENTS_BATCH * sizeof *buf, 0);
  size_t k = job_events_since(j, after, buf, CORE_EVENTS_BATCH);
  lua_createtable(L, (int)k, 0);
  for (size_t i = 0; i < k; i++) {
    core_push_event(L, &buf[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int core_job_cancel(lua_State *L)
{
  lua_pushboolean(L, job_cancel(core_check_job(L, 1)));
  return 1;
}

static int core_job_wait(lua_State *L)
{
  job *j = core_check_job(L, 1);
  lua_pushboolean(L, job_wait(j, core_opt_timeout(L, 2)));
  return 1;
}

static void core_set_int(lua_State *L, const char *k, lua_Integer v)
{
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

static void core_set_num(lua_State *L, const char *k, lua_Number v)
{
  lua_pushnumber(L, v);
  lua_setfield(L, -2, k);
}

static void core_set_str(lua_State *L, const char *k, const char *v)
{
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

static int core_job_result(lua_State *L)
{
  job *j = core_check_job(L, 1);
  job_result r;
  if (job_get_result(j, &r) != 0)
    return 0;
  lua_createtable(L, 0, 16);
  core_set_str(L, "status", job_state_name(r.state));
  if (r.tour) {
    core_set_int(L, "energy", r.energy);
    lua_createtable(L, r.n, 0);
    for (int i = 0; i < r.n; i++) {
      lua_pushinteger(L, r.tour[i]);
      lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, model_get_kind(job_model(j)) == MODEL_BINARY
                          ? "x" : "tour");
  }
  core_set_int(L, "sweeps", r.sweeps);
  core_set_int(L, "replicas", r.replicas);
  core_set_int(L, "seed", (lua_Integer)r.seed);
  core_set_int(L, "proposals", (lua_Integer)r.proposals);
  core_set_num(L, "queued_s", r.queued_s);
  core_set_num(L, "run_s", r.run_s);
  core_set_str(L, "solver", r.solver);
  core_set_str(L, "device", r.device);
  if (r.solver_reason)
    core_set_str(L, "solver_reason", r.solver_reason);
  core_set_str(L, "stop", r.stop);
  if (r.error)
    core_set_str(L, "error", r.error);
  return 1;
}

static int core_job_gc(lua_State *L)
{
  job **ud = luaL_checkudata(L, 1, CORE_JOB);
  job_release(*ud);
  *ud = NULL;
  return 0;
}

/* ---- utilities ------------------------------------------------------ */

static int core_version(lua_State *L)
{
  lua_pushstring(L, NEROX_VERSION);
  return 1;
}

static int core_plugin_dirs(lua_State *L)
{
  const char *path = getenv("NEROX_PLUGIN_PATH");
  lua_newtable(L);
  int k = 0;
  while (path && *path) {
    size_t len = strcspn(path, ":");
    if (len > 0) {
      lua_pushlstring(L, path, len);
      lua_rawseti(L, -2, ++k);
    }
    path += len;
    if (*path == ':')
      path++;
  }
  return 1;
}

static int core_clock(lua_State *L)
{
  lua_pushnumber(L, clock_mono_s());
  return 1;
}

static int core_sleep(lua_State *L)
{
  lua_Number s = luaL_checknumber(L, 1);
  luaL_argcheck(L, s >= 0 && s < 1e6, 1, "seconds out of range");
  struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };
  nanosleep(&ts, NULL);
  return 0;
}

static int core_isatty(lua_State *L)
{
  static const char *const names[] = { "stdin", "stdout", "stderr", NULL };
  int fd = luaL_checkoption(L, 1, NULL, names);
  lua_pushboolean(L, isatty(fd));
  return 1;
}

static int core_model_kind(lua_State *L)
{
  lua_pushstring(L, model_kind_name(core_check_model(L, 1)));
  return 1;
}

static const luaL_Reg core_model_methods[] = {
  { "n", core_model_n },
  { "kind", core_model_kind },
  { "energy", core_model_energy },
  { "name", core_model_name },
  { "hash", core_model_hash },
  { "dist", core_model_dist },
  { "tour_length", core_model_tour_length },
  { NULL, NULL }
};

static const luaL_Reg core_job_methods[] = {
  { "id", core_job_id },
  { "state", core_job_state },
  { "next_event", core_job_next_event },
  { "events", core_job_events },
  { "cancel", core_job_cancel },
  { "wait", core_job_wait },
  { "result", core_job_result },
  { NULL, NULL }
};

static const luaL_Reg core_functions[] = {
  { "version", core_version },
  { "tsplib_load", core_tsplib_load },
  { "tsplib_read_tour", core_tsplib_read_tour },
  { "perm_model", core_perm_model },
  { "binary_model", core_binary_model },
  { "tsplib_parse", core_tsplib_parse },
  { "read_rudy", core_read_rudy },
  { "read_rudy_text", core_read_rudy_text },
  { "read_bqp", core_read_bqp },
  { "read_bqp_text", core_read_bqp_text },
  { "submit", core_submit },
  { "plugin_dirs", core_plugin_dirs },
  { "clock", core_clock },
  { "sleep", core_sleep },
  { "isatty", core_isatty },
  { NULL, NULL }
};

void core_new_class(lua_State *L, const char *name,
                    const luaL_Reg *methods, lua_CFunction gc)
{
  luaL_newmetatable(L, name);
  if (methods) {
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
  }
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__gc");
  lua_pushstring(L, name);  /* getmetatable() hides __gc from scripts */
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
}

int core_open(lua_State *L)
{
  core_new_class(L, CORE_MODEL, core_model_methods, core_model_gc);
  core_new_class(L, CORE_JOB, core_job_methods, core_job_gc);
  luaL_newlib(L, core_functions);
  return 1;
}
