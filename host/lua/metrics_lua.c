/* `nerox.metrics_c`: the Lua binding of the Prometheus registry
 * (util/metrics.h) for the SDK's own metrics (lua/nerox/metrics.lua),
 * with the two ways out: a loopback HTTP endpoint (libmicrohttpd) and a
 * textfile for node_exporter, written atomically.
 *
 *   local reg = metrics_c.new()
 *   local h = reg:counter("x_total", "help", "kind")
 *   reg:add(h, 1, "ServerError")
 *   reg:render()             -- text format 0.0.4
 *   reg:serve(9464)          -- GET /metrics on 127.0.0.1; returns the port
 *   reg:write_file(path)     -- path.tmp, then rename */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <microhttpd.h>

#include "lua/core.h"
#include "util/log.h"
#include "util/metrics.h"

#define METRICS_LUA_REG "nerox.metrics.registry"
/* Label values a sample may carry from Lua. */
#define METRICS_LUA_MAX_VALUES METRICS_MAX_LABELS

typedef struct metrics_lua {
  metrics *m;
  struct MHD_Daemon *daemon;
} metrics_lua;

static metrics_lua *metrics_lua_check(lua_State *L)
{
  metrics_lua *r = luaL_checkudata(L, 1, METRICS_LUA_REG);
  if (!r->m)
    luaL_argerror(L, 1, "the registry is closed");
  return r;
}

static int metrics_lua_gc(lua_State *L)
{
  metrics_lua *r = luaL_checkudata(L, 1, METRICS_LUA_REG);
  if (r->daemon)
    MHD_stop_daemon(r->daemon);
  r->daemon = NULL;
  metrics_free(r->m);
  r->m = NULL;
  return 0;
}

static int metrics_lua_new(lua_State *L)
{
  metrics_lua *r = lua_newuserdatauv(L, sizeof *r, 0);
  memset(r, 0, sizeof *r);
  luaL_setmetatable(L, METRICS_LUA_REG);
  char err[256];
  r->m = metrics_new(err, sizeof err);
  if (!r->m)
    return luaL_error(L, "metrics: %s", err);
  return 1;
}

/* reg:counter(name, help, labels) and the others: a family handle. */
static int metrics_lua_family(lua_State *L, char type)
{
  metrics_lua *r = metrics_lua_check(L);
  const char *name = luaL_checkstring(L, 2);
  const char *help = luaL_checkstring(L, 3);
  const char *labels = luaL_optstring(L, 4, "");
  char err[256];
  int h;
  if (type == 'c')
    h = metrics_counter(r->m, name, help, labels, err, sizeof err);
  else if (type == 'g')
    h = metrics_gauge(r->m, name, help, labels, err, sizeof err);
  else {
    double bounds[METRICS_MAX_BUCKETS];
    size_t n = 0;
    if (lua_istable(L, 5)) {
      n = lua_rawlen(L, 5);
      luaL_argcheck(L, n > 0 && n <= METRICS_MAX_BUCKETS, 5,
                    "1 to METRICS_MAX_BUCKETS bounds");
      for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, 5, (lua_Integer)i + 1);
        bounds[i] = luaL_checknumber(L, -1);
        lua_pop(L, 1);
      }
    }
    h = metrics_histogram(r->m, name, help, labels, n ? bounds : NULL, n,
                          err, sizeof err);
  }
  if (h < 0)
    return luaL_error(L, "metrics: %s", err);
  lua_pushinteger(L, h);
  return 1;
}

static int metrics_lua_counter(lua_State *L)
{
  return metrics_lua_family(L, 'c');
}

static int metrics_lua_gauge(lua_State *L)
{
  return metrics_lua_family(L, 'g');
}

static int metrics_lua_histogram(lua_State *L)
{
  return metrics_lua_family(L, 'h');
}

/* reg:add(h, v, label values...) and the others; returns whether the
 * sample was recorded. */
static int metrics_lua_record(lua_State *L, char op)
{
  metrics_lua *r = metrics_lua_check(L);
  int fam = (int)luaL_checkinteger(L, 2);
  double v = luaL_checknumber(L, 3);
  const char *values[METRICS_LUA_MAX_VALUES];
  int n = lua_gettop(L) - 3;
  luaL_argcheck(L, n <= METRICS_LUA_MAX_VALUES, 4, "too many label values");
  for (int i = 0; i < n; i++)
    values[i] = luaL_checkstring(L, 4 + i);
  const char *const *vals = n > 0 ? values : NULL;
  int rc = op == 'a' ? metrics_add(r->m, fam, vals, v)
         : op == 's' ? metrics_set(r->m, fam, vals, v)
                     : metrics_observe(r->m, fam, vals, v);
  lua_pushboolean(L, rc == 0);
  return 1;
}

static int metrics_lua_add(lua_State *L)
{
  return metrics_lua_record(L, 'a');
}

static int metrics_lua_set(lua_State *L)
{
  return metrics_lua_record(L, 's');
}

static int metrics_lua_observe(lua_State *L)
{
  return metrics_lua_record(L, 'o');
}

static int metrics_lua_render(lua_State *L)
{
  metrics_lua *r = metrics_lua_check(L);
  char *text = metrics_render(r->m);
  if (!text)
    return luaL_error(L, "metrics: render failed (out of memory)");
  lua_pushstring(L, text);
  free(text);
  return 1;
}

/* ---- the loopback endpoint ------------------------------------------ */

static enum MHD_Result metrics_lua_answer(void *cls,
  struct MHD_Connection *c, const char *url, const char *method,
  const char *version, const char *upload, size_t *upload_size,
  void **state)
{
  metrics *m = cls;
  (void)version; (void)upload; (void)upload_size; (void)state;
  int ok = strcmp(method, "GET") == 0 && strcmp(url, "/metrics") == 0;
  char *text = ok ? metrics_render(m) : NULL;
  const char *body = text ? text : ok ? "render failed\n" : "not found\n";
  unsigned status = text ? MHD_HTTP_OK
                  : ok ? MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_NOT_FOUND;
  struct MHD_Response *resp = MHD_create_response_from_buffer(
    strlen(body), (void *)body, text ? MHD_RESPMEM_MUST_FREE
                                     : MHD_RESPMEM_PERSISTENT);
  if (!resp) {
    free(text);
    return MHD_NO;
  }
  if (text && MHD_add_response_header(resp, "Content-Type",
        "text/plain; version=0.0.4; charset=utf-8") != MHD_YES) {
    MHD_destroy_response(resp);
    return MHD_NO;
  }
  enum MHD_Result rc = MHD_queue_response(c, status, resp);
  MHD_destroy_response(resp);
  return rc;
}

/* reg:serve(port): serve GET /metrics on 127.0.0.1:port (0: any free
 * port) from a thread of libmicrohttpd; returns the port. */
static int metrics_lua_serve(lua_State *L)
{
  metrics_lua *r = metrics_lua_check(L);
  lua_Integer port = luaL_checkinteger(L, 2);
  luaL_argcheck(L, port >= 0 && port <= 65535, 2, "port out of range");
  if (r->daemon)
    return luaL_error(L, "metrics: already serving");
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  r->daemon = MHD_start_daemon(
    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port,
    NULL, NULL, metrics_lua_answer, r->m,
    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
    MHD_OPTION_EXTERNAL_LOGGER, log_library_debug, (void *)"metrics",
    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
  if (!r->daemon)
    return luaL_error(L, "metrics: cannot listen on 127.0.0.1:%d",
                      (int)port);
  const union MHD_DaemonInfo *info =
    MHD_get_daemon_info(r->daemon, MHD_DAEMON_INFO_BIND_PORT);
  lua_pushinteger(L, info ? info->port : port);
  return 1;
}

/* reg:write_file(path): the text to path.tmp, then renamed over path, so
 * node_exporter never reads half a file. */
static int metrics_lua_write_file(lua_State *L)
{
  metrics_lua *r = metrics_lua_check(L);
  const char *path = luaL_checkstring(L, 2);
  const char *tmp = lua_pushfstring(L, "%s.%d.tmp", path, (int)getpid());
  char *text = metrics_render(r->m);
  if (!text)
    return luaL_error(L, "metrics: render failed (out of memory)");
  FILE *f = fopen(tmp, "w");
  int ok = f && fputs(text, f) >= 0;
  free(text);
  if (f && fclose(f) != 0)
    ok = 0;
  if (ok && rename(tmp, path) != 0)
    ok = 0;
  if (!ok) {
    int e = errno;
    remove(tmp);
    luaL_pushfail(L);
    lua_pushfstring(L, "%s: %s", path, strerror(e));
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

static const luaL_Reg metrics_lua_methods[] = {
  { "counter", metrics_lua_counter },
  { "gauge", metrics_lua_gauge },
  { "histogram", metrics_lua_histogram },
  { "add", metrics_lua_add },
  { "set", metrics_lua_set },
  { "observe", metrics_lua_observe },
  { "render", metrics_lua_render },
  { "serve", metrics_lua_serve },
  { "write_file", metrics_lua_write_file },
  { NULL, NULL }
};

int metrics_lua_open(lua_State *L)
{
  core_new_class(L, METRICS_LUA_REG, metrics_lua_methods, metrics_lua_gc);
  lua_newtable(L);
  lua_pushcfunction(L, metrics_lua_new);
  lua_setfield(L, -2, "new");
  return 1;
}
