/* client.h - the CLI side of the control protocol: `tend status|start|stop|...` connect to the
 * supervisor's socket, send one request and copy the answer. */
#ifndef TEND_CLIENT_H
#define TEND_CLIENT_H

#define EXIT_UNREACHABLE 3

/* argv[0] is the verb. config is -c FILE or NULL. Returns the exit status. */
int client_main(const char *config, int argc, char **argv);

/* The control socket of a configuration file (looked up like every verb does); a new string,
 * or NULL with a message printed when the file is unusable. */
char *client_socket_path(const char *config);

#endif
