/* `nerox serve`: the HTTP API (host/server/http.h) until SIGINT/SIGTERM. */
#ifndef NEROX_SERVE_CMD_H
#define NEROX_SERVE_CMD_H

/* Returns the exit status: 0 after a signal, 1 on a failure to start, 2
 * on bad flags. */
int serve_cmd_main(int argc, char **argv);

#endif
