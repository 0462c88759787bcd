/* nerox command line: run a Lua script, solve a file, manage API keys,
 * print the version.
 * Errors reach the user here and only here, as "nerox: ..." on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/keys_cmd.h"
#include "cli/serve_cmd.h"
#include "engine/engine.h"
#include "lua/host.h"
#include "util/log.h"
#include "vk/vk.h"

static void cli_usage(FILE *out)
{
  fprintf(out,
          "usage: nerox <command> [arguments]\n"
          "\n"
          "  run SCRIPT.lua [ARGS...]   run a Lua script with the nerox SDK\n"
          "  solve FILE [options]       solve a TSPLIB, rudy, bqp or JSON "
          "file (nerox solve --help)\n"
          "  devices [--json]           list the Vulkan devices\n"
          "  keys create|list|revoke|limits  manage API keys (nerox keys "
          "help)\n"
          "  serve [--config FILE] [--listen ADDR:PORT] [--db PATH]\n"
          "        [--max-body BYTES] [--grace S]  serve the HTTP API\n"
          "  version                    print the version\n"
          "  help                       print this message\n");
}

/* Runs `fn` in a fresh Lua host, then stops the engine. */
static int cli_with_host(int (*fn)(lua_State *, int, char **), int argc,
                         char **argv)
{
  char err[256];
  lua_State *L = host_new(err, sizeof err);
  if (!L) {
    fprintf(stderr, "nerox: %s\n", err);
    return 1;
  }
  int status = fn(L, argc, argv);
  engine_shutdown();
  host_close(L);
  return status;
}

static int cli_run(lua_State *L, int argc, char **argv)
{
  return host_run_script(L, argv[0], argc - 1, argv + 1);
}

static int cli_solve(lua_State *L, int argc, char **argv)
{
  return host_run_module_main(L, "nerox.cli_solve", argc, argv);
}

/* Lists the Vulkan devices; 1 when none would be picked. */
static int cli_devices(int argc, char **argv)
{
  int json = argc > 0 && strcmp(argv[0], "--json") == 0;
  if (argc > (json ? 1 : 0)) {
    fprintf(stderr, "nerox: devices: usage: nerox devices [--json]\n");
    return 2;
  }
  char err[512];
  int rc = nvk_devices_print(stdout, json, err, sizeof err);
  nvk_shutdown();
  if (rc != 0)
    fprintf(stderr, "nerox: %s\n", err);
  return rc != 0;
}

int main(int argc, char **argv)
{
  log_init_from_env();
  if (isatty(STDERR_FILENO))
    setenv("NEROX_STDERR_TTY", "1", 1);
  else
    unsetenv("NEROX_STDERR_TTY");
  if (argc < 2) {
    cli_usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    printf("nerox %s\n", NEROX_VERSION);
    return 0;
  }
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
      strcmp(cmd, "-h") == 0) {
    cli_usage(stdout);
    return 0;
  }
  if (strcmp(cmd, "run") == 0) {
    if (argc < 3) {
      fprintf(stderr, "nerox: run: missing SCRIPT.lua\n");
      return 2;
    }
    return cli_with_host(cli_run, argc - 2, argv + 2);
  }
  if (strcmp(cmd, "solve") == 0)
    return cli_with_host(cli_solve, argc - 2, argv + 2);
  if (strcmp(cmd, "devices") == 0)
    return cli_devices(argc - 2, argv + 2);
  if (strcmp(cmd, "keys") == 0)
    return keys_cmd_main(argc - 2, argv + 2);
  if (strcmp(cmd, "serve") == 0)
    return serve_cmd_main(argc - 2, argv + 2);
  fprintf(stderr, "nerox: unknown command '%s'\n", cmd);
  cli_usage(stderr);
  return 2;
}
