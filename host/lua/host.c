/* The Lua host (see host.h): module search over the embedded SDK, and
 * protected runs with tracebacks. */
#include "lua/host.h"

#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua/core.h"
#include "lua/embedded.h"
#include "util/log.h"

/* ---- module search ------------------------------------------------ */

/* Where a module lives in the source tree: "nerox" -> lua/nerox/init.lua,
 * "nerox.job" -> lua/nerox/job.lua, "nerox.plugins.tsp" ->
 * plugins/tsp.lua. Returns 0 when the name is not one of ours. */
static int host_module_path(const char *name, char *buf, size_t len)
{
  const char *plugin = "nerox.plugins.";
  int n;
  if (strcmp(name, "nerox") == 0)
    n = snprintf(buf, len, "lua/nerox/init.lua");
  else if (strncmp(name, plugin, strlen(plugin)) == 0)
    n = snprintf(buf, len, "plugins/%s.lua", name + strlen(plugin));
  else if (strncmp(name, "nerox.", 6) == 0 && !strchr(name + 6, '.'))
    n = snprintf(buf, len, "lua/nerox/%s.lua", name + 6);
  else
    return 0;
  return n > 0 && (size_t)n < len;
}

/* With NEROX_LUA_DIR set, the files on disk override the embedded ones. */
static int host_search_disk(lua_State *L, const char *rel)
{
  const char *dir = getenv("NEROX_LUA_DIR");
  if (!dir || !*dir)
    return 0;
  char path[4096];
  int n = snprintf(path, sizeof path, "%s/%s", dir, rel);
  if (n <= 0 || (size_t)n >= sizeof path)
    return 0;
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  fclose(f);
  if (luaL_loadfile(L, path) != LUA_OK)
    return lua_error(L);
  lua_pushstring(L, path);
  return 2;
}

static int host_searcher(lua_State *L)
{
  const char *name = luaL_checkstring(L, 1);
  char rel[512];
  if (!host_module_path(name, rel, sizeof rel)) {
    lua_pushfstring(L, "no embedded module '%s'", name);
    return 1;
  }
  int found = host_search_disk(L, rel);
  if (found)
    return found;
  for (const nerox_embedded_file *f = nerox_embedded_files; f->module; f++) {
    if (strcmp(f->module, name) != 0)
      continue;
    lua_pushfstring(L, "@%s", f->path);
    const char *chunkname = lua_tostring(L, -1);
    if (luaL_loadbufferx(L, (const char *)f->bytes, f->size, chunkname,
                         "t") != LUA_OK)
      return lua_error(L);
    lua_pushstring(L, f->path);
    return 2;
  }
  lua_pushfstring(L, "no embedded module '%s'", name);
  return 1;
}

/* Put the embedded searcher right after package.preload's. */
static void host_install_searcher(lua_State *L)
{
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "searchers");
  lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
  for (lua_Integer i = n; i >= 2; i--) {
    lua_rawgeti(L, -1, i);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushcfunction(L, host_searcher);
  lua_rawseti(L, -2, 2);
  lua_pop(L, 2);
}

/* ---- the memory cap ------------------------------------------------ */

/* Scripts may use this share of the machine's memory unless
 * NEROX_LUA_MEMORY_MB says otherwise: a runaway script then gets Lua's
 * "not enough memory" error instead of the kernel's OOM killer. */
#define HOST_MEMORY_SHARE 2   /* 1/2 of physical memory */

typedef struct host_mem {
  lua_Alloc inner;
  void *inner_ud;
  size_t used, limit;
  struct host_mem *prev, *next; /* in host_mems */
} host_mem;

/* Every state's allocator record, so that one whose state a script
 * closes itself (os.exit(code, true), as busted does) stays reachable
 * until the process ends instead of leaking; host_close frees it. */
static host_mem *host_mems;
static pthread_mutex_t host_mems_mu = PTHREAD_MUTEX_INITIALIZER;

static void host_mems_link(host_mem *m)
{
  pthread_mutex_lock(&host_mems_mu);
  m->prev = NULL;
  m->next = host_mems;
  if (host_mems)
    host_mems->prev = m;
  host_mems = m;
  pthread_mutex_unlock(&host_mems_mu);
}

static void host_mems_unlink(host_mem *m)
{
  pthread_mutex_lock(&host_mems_mu);
  if (m->prev)
    m->prev->next = m->next;
  else
    host_mems = m->next;
  if (m->next)
    m->next->prev = m->prev;
  pthread_mutex_unlock(&host_mems_mu);
}

static size_t host_memory_limit(void)
{
  const char *s = getenv("NEROX_LUA_MEMORY_MB");
  if (s && *s) {
    char *end;
    unsigned long long mb = strtoull(s, &end, 10);
    if (*end == '\0' && mb > 0 && mb < SIZE_MAX / (1024 * 1024))
      return (size_t)mb * 1024 * 1024;
    LOG_W("host", "ignoring NEROX_LUA_MEMORY_MB='%s' (not a size in MB)", s);
  }
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0)
    return SIZE_MAX;
  return (size_t)pages / HOST_MEMORY_SHARE * (size_t)page;
}

/* Lua's allocator, refusing to grow past the limit. Blocks allocated
 * before the cap was set are freed here too, so `used` saturates at 0. */
static void *host_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  host_mem *m = ud;
  size_t old = ptr ? osize : 0;
  if (nsize > old && nsize - old > m->limit - m->used)
    return NULL;
  void *p = m->inner(m->inner_ud, ptr, osize, nsize);
  if (p || nsize == 0) {
    m->used = m->used > old ? m->used - old : 0;
    m->used += nsize;
  }
  return p;
}

static int host_cap_memory(lua_State *L)
{
  host_mem *m = malloc(sizeof *m);
  if (!m)
    return -1;
  m->inner = lua_getallocf(L, &m->inner_ud);
  m->used = 0;
  m->limit = host_memory_limit();
  lua_setallocf(L, host_alloc, m);
  host_mems_link(m);
  return 0;
}

/* The host's C modules, found by require through package.preload. */
static const luaL_Reg host_modules[] = {
  { "nerox.core", core_open },
  { "nerox.loop", loop_open },
  { "nerox.json", json_open },
  { "nerox.metrics_c", metrics_lua_open },
  { NULL, NULL }
};

static void host_preload(lua_State *L)
{
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  luaL_setfuncs(L, host_modules, 0);
  lua_pop(L, 1);
}

lua_State *host_new(char *err, size_t errlen)
{
  lua_State *L = luaL_newstate();
  if (!L || host_cap_memory(L) != 0) {
    if (L)
      lua_close(L);
    snprintf(err, errlen, "cannot create a Lua state: out of memory");
    return NULL;
  }
  luaL_openlibs(L);
  host_install_searcher(L);
  host_preload(L);
  return L;
}

void host_close(lua_State *L)
{
  if (!L)
    return;
  void *ud = NULL;
  lua_Alloc f = lua_getallocf(L, &ud);
  lua_close(L);
  if (f == host_alloc) {
    host_mems_unlink(ud);
    free(ud);
  }
}

/* ---- protected runs ------------------------------------------------ */

/* Message handler: the error as text (tables through __tostring) plus a
 * traceback. */
static int host_traceback(lua_State *L)
{
  const char *msg = luaL_tolstring(L, 1, NULL);
  luaL_traceback(L, L, msg, 1);
  return 1;
}

static int host_pcall(lua_State *L, int nargs, int nresults)
{
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, host_traceback);
  lua_insert(L, base);
  int rc = lua_pcall(L, nargs, nresults, base);
  lua_remove(L, base);
  return rc;
}

/* Print the error on top of the stack; rc LUA_ERRMEM adds the cap. */
static void host_report(lua_State *L, const char *what, int rc)
{
  const char *msg = lua_tostring(L, -1);
  void *ud = NULL;
  fprintf(stderr, "nerox: %s: %s", what, msg ? msg : "(error object)");
  if (rc == LUA_ERRMEM && lua_getallocf(L, &ud) == host_alloc)
    fprintf(stderr, " (scripts may use %zu MB; NEROX_LUA_MEMORY_MB sets "
            "it)", ((host_mem *)ud)->limit / (1024 * 1024));
  fputc('\n', stderr);
  lua_pop(L, 1);
}

static void host_push_args(lua_State *L, int argc, char **argv, int first)
{
  lua_createtable(L, argc, 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i + first);
  }
}

int host_run_script(lua_State *L, const char *path, int argc, char **argv)
{
  lua_pushstring(L, path);
  host_push_args(L, argc, argv, 1);
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, 0);
  lua_setglobal(L, "arg");
  lua_pop(L, 1);
  int rc = luaL_loadfile(L, path);
  if (rc != LUA_OK) {
    host_report(L, "cannot load script", rc);
    return 1;
  }
  for (int i = 0; i < argc; i++)
    lua_pushstring(L, argv[i]);
  rc = host_pcall(L, argc, 0);
  if (rc != LUA_OK) {
    host_report(L, "script error", rc);
    return 1;
  }
  return 0;
}

int host_run_module_main(lua_State *L, const char *module, int argc,
                         char **argv)
{
  lua_getglobal(L, "require");
  lua_pushstring(L, module);
  int rc = host_pcall(L, 1, 1);
  if (rc != LUA_OK) {
    host_report(L, "cannot load module", rc);
    return 1;
  }
  lua_getfield(L, -1, "main");
  lua_remove(L, -2);
  host_push_args(L, argc, argv, 1);
  rc = host_pcall(L, 1, 1);
  if (rc != LUA_OK) {
    host_report(L, "error", rc);
    return 1;
  }
  int status = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : 0;
  lua_pop(L, 1);
  return status;
}
