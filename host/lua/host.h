/* The Lua host: a Lua 5.4 state with the embedded SDK and plugins on the
 * module path and the `nerox.core` C module, and protected runs of user
 * scripts that report errors with a traceback instead of dying. */
#ifndef NEROX_HOST_H
#define NEROX_HOST_H

#include <stddef.h>

#include <lua.h>

/* A new state with the standard libraries and nerox modules, or NULL. */
lua_State *host_new(char *err, size_t errlen);
void host_close(lua_State *L);

/* Run a script file with the global `arg` set as lua.c does (arg[0] is the
 * script, arg[1..] its arguments). Returns the process exit status: 0, or
 * 1 after printing the error and its traceback on stderr. */
int host_run_script(lua_State *L, const char *path, int argc, char **argv);

/* Call require(module).main({argv...}) protected; returns its integer
 * result (0 when it returns nothing) or 1 after printing the error. */
int host_run_module_main(lua_State *L, const char *module, int argc,
                         char **argv);

#endif
