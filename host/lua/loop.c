/* `nerox.loop`: the host's event loop for the Lua SDK. HTTP requests run
 * as easy handles on one libcurl multi handle per Lua state; loop.poll
 * waits for their sockets, for a deadline, or for the local engine (a job
 * published an event: engine_listen wakes the poll through
 * curl_multi_wakeup), and returns the requests that changed. Coroutines
 * are scheduled on top of it in Lua (lua/nerox/async.lua).
 *
 *   local req = loop.request{method = "GET", url = ..., headers = {...},
 *                            body = "...", timeout = 30, stall = 45}
 *   local changed, engine = loop.poll(0.5)  -- requests with news
 *   req:take()      -- body bytes received since the last take
 *   req:info()      -- done, http status, error text or nil
 *
 * Request headers (the API key among them) are handed to libcurl only;
 * nothing here logs or returns them. */
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <lauxlib.h>

#include "engine/engine.h"
#include "lua/core.h"
#include "util/clock.h"
#include "util/log.h"

#define LOOP_STATE "nerox.loop.state"     /* the state's metatable */
#define LOOP_INSTANCE "nerox.loop.instance" /* registry: the state */
#define LOOP_REQ "nerox.loop.request"
/* Largest response body kept in memory (a bigger one fails the request
 * with "response too large"). */
#define LOOP_MAX_BODY ((size_t)512 << 20)
/* Default limits of a request, in seconds: the whole exchange, and the
 * connect phase. Streams pass timeout = 0 (none) and a stall limit. */
#define LOOP_DEFAULT_TIMEOUT_S 60.0
#define LOOP_CONNECT_TIMEOUT_S 10.0
/* Longest single wait of loop.poll; Lua loops for longer waits. */
#define LOOP_MAX_POLL_S 3600.0

typedef struct loop_buf {
  char *data;
  size_t len, cap;
} loop_buf;

typedef struct loop_state {
  CURLM *multi;
  atomic_int engine_changed;   /* set by engine threads, read by poll */
  int listening;               /* registered with engine_listen */
  struct loop_req *changed;    /* requests with news since the last poll */
} loop_state;

typedef struct loop_req {
  CURL *easy;
  struct curl_slist *headers;
  loop_state *loop;
  loop_buf body;               /* received, not yet taken */
  loop_buf head;               /* header lines of the last response */
  int ref;                     /* registry ref while in the multi */
  int running, done, too_large;
  int queued;                  /* on loop->changed */
  struct loop_req *next;
  long status;
  CURLcode result;
  char errbuf[CURL_ERROR_SIZE];
} loop_req;

/* ---- buffers -------------------------------------------------------- */

static int loop_buf_add(loop_buf *b, const char *p, size_t n)
{
  if (n > LOOP_MAX_BODY - b->len)
    return -1;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n)
      cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown)
      return -1;
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

static void loop_buf_free(loop_buf *b)
{
  free(b->data);
  *b = (loop_buf){ 0 };
}

/* ---- the loop state ------------------------------------------------- */

/* Called by engine worker threads: wake the poll. */
static void loop_on_engine(void *arg, job *j)
{
  loop_state *lp = arg;
  (void)j;
  atomic_store(&lp->engine_changed, 1);
  CURLMcode mc = curl_multi_wakeup(lp->multi);
  if (mc != CURLM_OK)  /* the poll still ends at its deadline */
    LOG_D("loop", "wakeup failed: %s", curl_multi_strerror(mc));
}

static int loop_state_gc(lua_State *L)
{
  loop_state *lp = luaL_checkudata(L, 1, LOOP_STATE);
  if (lp->listening)
    engine_unlisten(loop_on_engine, lp);
  lp->listening = 0;
  if (lp->multi) {
    CURLMcode mc = curl_multi_cleanup(lp->multi);
    if (mc != CURLM_OK)
      LOG_W("loop", "curl_multi_cleanup: %s", curl_multi_strerror(mc));
  }
  lp->multi = NULL;
  return 0;
}

/* The loop of this Lua state, made on first use. */
static loop_state *loop_get(lua_State *L)
{
  if (lua_getfield(L, LUA_REGISTRYINDEX, LOOP_INSTANCE) == LUA_TUSERDATA) {
    loop_state *lp = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return lp;
  }
  lua_pop(L, 1);
  loop_state *lp = lua_newuserdatauv(L, sizeof *lp, 0);
  memset(lp, 0, sizeof *lp);
  atomic_init(&lp->engine_changed, 0);
  luaL_setmetatable(L, LOOP_STATE);
  lp->multi = curl_multi_init();
  if (!lp->multi)
    luaL_error(L, "cannot start the event loop (curl_multi_init failed)");
  if (engine_listen(loop_on_engine, lp) == 0)
    lp->listening = 1;
  else
    LOG_W("loop", "engine listeners full: local jobs are polled");
  lua_setfield(L, LUA_REGISTRYINDEX, LOOP_INSTANCE);
  return lp;
}

static void loop_mark(loop_req *r)
{
  if (r->queued || !r->loop)
    return;
  r->queued = 1;
  r->next = r->loop->changed;
  r->loop->changed = r;
}

/* ---- requests ------------------------------------------------------- */

static size_t loop_on_body(char *p, size_t size, size_t n, void *ud)
{
  loop_req *r = ud;
  if (loop_buf_add(&r->body, p, size * n) != 0) {
    r->too_large = 1;
    return 0;  /* aborts the transfer with CURLE_WRITE_ERROR */
  }
  loop_mark(r);
  return size * n;
}

static size_t loop_on_header(char *p, size_t size, size_t n, void *ud)
{
  loop_req *r = ud;
  if (size * n >= 5 && memcmp(p, "HTTP/", 5) == 0)
    r->head.len = 0;  /* a new response (after a 100 or a redirect) */
  if (loop_buf_add(&r->head, p, size * n) != 0) {
    r->too_large = 1;
    return 0;
  }
  return size * n;
}

static loop_req *loop_check_req(lua_State *L, int idx)
{
  return luaL_checkudata(L, idx, LOOP_REQ);
}

/* Take a running request out of the multi handle. */
static void loop_req_leave(loop_req *r)
{
  if (r->running && r->loop && r->loop->multi) {
    CURLMcode mc = curl_multi_remove_handle(r->loop->multi, r->easy);
    if (mc != CURLM_OK)
      LOG_W("loop", "curl_multi_remove_handle: %s",
            curl_multi_strerror(mc));
  }
  r->running = 0;
}

/* Take a request out of the multi handle and drop the registry ref. */
static void loop_req_detach(lua_State *L, loop_req *r)
{
  loop_req_leave(r);
  if (r->ref != LUA_NOREF) {
    luaL_unref(L, LUA_REGISTRYINDEX, r->ref);
    r->ref = LUA_NOREF;
  }
}

static int loop_req_gc(lua_State *L)
{
  loop_req *r = loop_check_req(L, 1);
  loop_req_leave(r);
  if (r->easy)
    curl_easy_cleanup(r->easy);
  r->easy = NULL;
  curl_slist_free_all(r->headers);
  r->headers = NULL;
  loop_buf_free(&r->body);
  loop_buf_free(&r->head);
  return 0;
}

/* spec.headers as a curl list: {"Name: value", ...} or {Name = value}. */
static void loop_read_headers(lua_State *L, int spec, loop_req *r)
{
  if (lua_getfield(L, spec, "headers") == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  luaL_argcheck(L, lua_istable(L, -1), 1, "headers must be a table");
  int t = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    const char *line;
    if (lua_type(L, -2) == LUA_TSTRING)
      line = lua_pushfstring(L, "%s: %s", lua_tostring(L, -2),
                             luaL_tolstring(L, -1, NULL));
    else
      line = luaL_tolstring(L, -1, NULL);
    if (strpbrk(line, "\r\n"))
      luaL_error(L, "headers: a header holds a line break");
    struct curl_slist *grown = curl_slist_append(r->headers, line);
    if (!grown)
      luaL_error(L, "headers: out of memory");
    r->headers = grown;
    lua_settop(L, t + 1);  /* keep the key for lua_next */
  }
  lua_pop(L, 1);
}

static double loop_opt_seconds(lua_State *L, int spec, const char *key,
                               double dflt)
{
  lua_getfield(L, spec, key);
  double v = lua_isnil(L, -1) ? dflt : lua_tonumber(L, -1);
  lua_pop(L, 1);
  if (!(v >= 0) || v > 1e7)
    luaL_error(L, "%s: expected seconds from 0 to 1e7", key);
  return v;
}

#define LOOP_SETOPT(r, opt, val)                                        \
  do {                                                                  \
    CURLcode rc_ = curl_easy_setopt((r)->easy, opt, val);               \
    if (rc_ != CURLE_OK)                                                \
      return luaL_error(L, "curl_easy_setopt(%s): %s", #opt,            \
                        curl_easy_strerror(rc_));                       \
  } while (0)

/* Set the method and body. */
static int loop_set_method(lua_State *L, int spec, loop_req *r)
{
  lua_getfield(L, spec, "method");
  const char *method = luaL_optstring(L, -1, "GET");
  size_t len = 0;
  lua_getfield(L, spec, "body");
  const char *body = lua_isnil(L, -1) ? NULL : lua_tolstring(L, -1, &len);
  if (strcmp(method, "GET") == 0 && !body) {
    LOOP_SETOPT(r, CURLOPT_HTTPGET, 1L);
  } else {
    LOOP_SETOPT(r, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    LOOP_SETOPT(r, CURLOPT_COPYPOSTFIELDS, body ? body : "");
    if (strcmp(method, "POST") != 0)
      LOOP_SETOPT(r, CURLOPT_CUSTOMREQUEST, method);
  }
  lua_pop(L, 2);
  return 0;
}

static int loop_configure(lua_State *L, int spec, loop_req *r)
{
  lua_getfield(L, spec, "url");
  const char *url = luaL_checkstring(L, -1);
  LOOP_SETOPT(r, CURLOPT_URL, url);
  lua_pop(L, 1);
  LOOP_SETOPT(r, CURLOPT_PRIVATE, (void *)r);
  LOOP_SETOPT(r, CURLOPT_NOSIGNAL, 1L);
  LOOP_SETOPT(r, CURLOPT_ERRORBUFFER, r->errbuf);
  LOOP_SETOPT(r, CURLOPT_PROTOCOLS_STR, "http,https");
  LOOP_SETOPT(r, CURLOPT_WRITEFUNCTION, loop_on_body);
  LOOP_SETOPT(r, CURLOPT_WRITEDATA, (void *)r);
  LOOP_SETOPT(r, CURLOPT_HEADERFUNCTION, loop_on_header);
  LOOP_SETOPT(r, CURLOPT_HEADERDATA, (void *)r);
  LOOP_SETOPT(r, CURLOPT_TCP_NODELAY, 1L);
  LOOP_SETOPT(r, CURLOPT_ACCEPT_ENCODING, "");
  double timeout = loop_opt_seconds(L, spec, "timeout",
                                    LOOP_DEFAULT_TIMEOUT_S);
  double connect = loop_opt_seconds(L, spec, "connect_timeout",
                                    LOOP_CONNECT_TIMEOUT_S);
  double stall = loop_opt_seconds(L, spec, "stall", 0);
  LOOP_SETOPT(r, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
  LOOP_SETOPT(r, CURLOPT_CONNECTTIMEOUT_MS, (long)(connect * 1000));
  if (stall > 0) {  /* under 1 byte/s for `stall` seconds: a dead peer */
    LOOP_SETOPT(r, CURLOPT_LOW_SPEED_LIMIT, 1L);
    LOOP_SETOPT(r, CURLOPT_LOW_SPEED_TIME, (long)ceil(stall));
  }
  loop_read_headers(L, spec, r);
  if (r->headers)
    LOOP_SETOPT(r, CURLOPT_HTTPHEADER, r->headers);
  return loop_set_method(L, spec, r);
}

/* loop.request(spec): start a request; returns its handle. */
static int loop_request(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  loop_state *lp = loop_get(L);
  loop_req *r = lua_newuserdatauv(L, sizeof *r, 0);
  memset(r, 0, sizeof *r);
  r->ref = LUA_NOREF;
  luaL_setmetatable(L, LOOP_REQ);
  int ud = lua_gettop(L);
  r->easy = curl_easy_init();
  if (!r->easy)
    return luaL_error(L, "curl_easy_init failed");
  loop_configure(L, 1, r);
  lua_settop(L, ud);
  CURLMcode mc = curl_multi_add_handle(lp->multi, r->easy);
  if (mc != CURLM_OK)
    return luaL_error(L, "curl_multi_add_handle: %s",
                      curl_multi_strerror(mc));
  r->loop = lp;
  r->running = 1;
  lua_pushvalue(L, ud);
  r->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return 1;
}

/* req:take(): the body bytes received since the last take. */
static int loop_req_take(lua_State *L)
{
  loop_req *r = loop_check_req(L, 1);
  lua_pushlstring(L, r->body.data ? r->body.data : "", r->body.len);
  r->body.len = 0;
  return 1;
}

/* req:info(): done, HTTP status (0 before the headers), error text (nil
 * when the transfer worked), curl's error name. */
static int loop_req_info(lua_State *L)
{
  loop_req *r = loop_check_req(L, 1);
  lua_pushboolean(L, r->done);
  lua_pushinteger(L, r->status);
  if (r->done && (r->result != CURLE_OK || r->too_large)) {
    if (r->too_large)
      lua_pushfstring(L, "response over %d MiB or out of memory",
                      (int)(LOOP_MAX_BODY >> 20));
    else
      lua_pushstring(L, r->errbuf[0] ? r->errbuf
                                     : curl_easy_strerror(r->result));
    lua_pushstring(L, r->result == CURLE_OPERATION_TIMEDOUT ? "timeout"
                   : r->result == CURLE_COULDNT_CONNECT ? "connect"
                   : "transfer");
    return 4;
  }
  return 2;
}

/* req:headers(): the raw header block of the response. */
static int loop_req_headers(lua_State *L)
{
  loop_req *r = loop_check_req(L, 1);
  lua_pushlstring(L, r->head.data ? r->head.data : "", r->head.len);
  return 1;
}

/* req:close(): stop the transfer (a stream being abandoned). */
static int loop_req_close(lua_State *L)
{
  loop_req *r = loop_check_req(L, 1);
  loop_req_detach(L, r);
  r->done = 1;
  return 0;
}

/* A finished transfer: record its outcome and leave the multi. */
static void loop_finish(lua_State *L, loop_state *lp, CURLMsg *msg)
{
  loop_req *r = NULL;
  CURLcode rc = curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
                                  (char **)&r);
  if (rc != CURLE_OK || !r) {
    LOG_W("loop", "a finished transfer has no request");
    CURLMcode mc = curl_multi_remove_handle(lp->multi, msg->easy_handle);
    if (mc != CURLM_OK)
      LOG_W("loop", "curl_multi_remove_handle: %s",
            curl_multi_strerror(mc));
    return;
  }
  r->result = msg->data.result;
  rc = curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
  if (rc != CURLE_OK)
    r->status = 0;
  r->done = 1;
  CURLMcode mc = curl_multi_remove_handle(lp->multi, r->easy);
  if (mc != CURLM_OK)
    LOG_W("loop", "curl_multi_remove_handle: %s", curl_multi_strerror(mc));
  r->running = 0;
  loop_mark(r);
  (void)L;
}

/* Push the changed requests as a list and forget finished ones' refs. */
static void loop_push_changed(lua_State *L, loop_state *lp)
{
  lua_newtable(L);
  int k = 0;
  for (loop_req *r = lp->changed, *next; r; r = next) {
    next = r->next;
    r->queued = 0;
    r->next = NULL;
    if (r->ref == LUA_NOREF)
      continue;
    if (!r->done) {  /* status so far, for streams */
      CURLcode rc = curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE,
                                      &r->status);
      if (rc != CURLE_OK)
        r->status = 0;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->ref);
    lua_rawseti(L, -2, ++k);
    if (r->done)
      loop_req_detach(L, r);
  }
  lp->changed = NULL;
}

/* loop.poll(timeout): wait up to timeout seconds (0: just look) for
 * network activity, a wakeup or a local job's event. Returns the list of
 * requests with news (finished or with new body bytes), whether a local
 * job changed, and the number of transfers still running. */
static int loop_poll(lua_State *L)
{
  double timeout = luaL_optnumber(L, 1, 0);
  luaL_argcheck(L, timeout >= 0, 1, "timeout must be >= 0");
  if (timeout > LOOP_MAX_POLL_S)
    timeout = LOOP_MAX_POLL_S;
  loop_state *lp = loop_get(L);
  int running = 0;
  CURLMcode mc = curl_multi_perform(lp->multi, &running);
  if (mc == CURLM_OK && !lp->changed &&
      !atomic_load(&lp->engine_changed) && timeout > 0) {
    int numfds = 0;
    mc = curl_multi_poll(lp->multi, NULL, 0, (int)ceil(timeout * 1000),
                         &numfds);
    if (mc == CURLM_OK)
      mc = curl_multi_perform(lp->multi, &running);
  }
  if (mc != CURLM_OK)
    return luaL_error(L, "event loop: %s", curl_multi_strerror(mc));
  CURLMsg *msg;
  int left = 0;
  while ((msg = curl_multi_info_read(lp->multi, &left)))
    if (msg->msg == CURLMSG_DONE)
      loop_finish(L, lp, msg);
  loop_push_changed(L, lp);
  lua_pushboolean(L, atomic_exchange(&lp->engine_changed, 0));
  lua_pushinteger(L, running);
  return 3;
}

/* loop.wakeup(): end a poll early (from Lua: a task was made ready). */
static int loop_wakeup(lua_State *L)
{
  CURLMcode mc = curl_multi_wakeup(loop_get(L)->multi);
  if (mc != CURLM_OK)
    return luaL_error(L, "curl_multi_wakeup: %s", curl_multi_strerror(mc));
  return 0;
}

static int loop_now(lua_State *L)
{
  lua_pushnumber(L, clock_mono_s());
  return 1;
}

static int loop_wall(lua_State *L)
{
  lua_pushnumber(L, clock_wall_s());
  return 1;
}

/* loop.parse_date("Wed, 21 Oct 2015 07:28:00 GMT"): Unix seconds or nil
 * (curl_getdate reads every HTTP date form). */
static int loop_parse_date(lua_State *L)
{
  const char *s = luaL_checkstring(L, 1);
  time_t t = curl_getdate(s, NULL);
  if (t == (time_t)-1)
    return 0;
  lua_pushinteger(L, (lua_Integer)t);
  return 1;
}

static int loop_escape(lua_State *L)
{
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  luaL_argcheck(L, len < INT_MAX, 1, "too long");
  char *e = curl_easy_escape(NULL, s, (int)len);
  if (!e)
    return luaL_error(L, "curl_easy_escape: out of memory");
  lua_pushstring(L, e);
  curl_free(e);
  return 1;
}

static const luaL_Reg loop_req_methods[] = {
  { "take", loop_req_take },
  { "info", loop_req_info },
  { "headers", loop_req_headers },
  { "close", loop_req_close },
  { NULL, NULL }
};

static const luaL_Reg loop_functions[] = {
  { "request", loop_request },
  { "poll", loop_poll },
  { "wakeup", loop_wakeup },
  { "now", loop_now },
  { "wall", loop_wall },
  { "parse_date", loop_parse_date },
  { "escape", loop_escape },
  { NULL, NULL }
};

int loop_open(lua_State *L)
{
  CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK)
    return luaL_error(L, "curl_global_init: %s", curl_easy_strerror(rc));
  core_new_class(L, LOOP_STATE, NULL, loop_state_gc);
  core_new_class(L, LOOP_REQ, loop_req_methods, loop_req_gc);
  luaL_newlib(L, loop_functions);
  return 1;
}
