/* `nerox keys create|list|revoke`: API keys in the server's store. */
#ifndef NEROX_KEYS_CMD_H
#define NEROX_KEYS_CMD_H

/* argv holds the arguments after "keys"; returns the exit status (0, 1 on
 * a store error, 2 on a usage error). */
int keys_cmd_main(int argc, char **argv);

#endif
