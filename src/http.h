/* http.h - supervisord's HTTP surface: XML-RPC at /RPC2, /logtail/NAME[/stderr] and
 * /mainlogtail (supervisorctl tail -f), with Basic auth as supervisord does it. libmicrohttpd
 * parses HTTP; it runs inside tend's libev loop (its epoll fd watched by one ev_io, its
 * timeout by one ev_timer), with no thread. Connections come from the control socket (it
 * hands over those that speak HTTP) and from an optional TCP listener ([inet_http_server]). */
#ifndef TEND_HTTP_H
#define TEND_HTTP_H

#include <ev.h>

#include "config.h"
#include "rpc.h"
#include "supervise.h"

struct http;

/* Starts the server: the TCP listener when [tend] http_port is set. NULL with *err when the
 * address cannot be used, or is not loopback while no username protects it. */
struct http *http_new(struct ev_loop *loop, struct supervisor *sv, struct rpc *rpc,
                      const struct global_config *g, const char *main_log, char **err);
/* A control-socket connection whose first bytes are an HTTP request: the server owns fd. */
void http_add_unix_connection(struct http *h, int fd);
/* A process is about to be freed: its /logtail streams end. */
void http_proc_removed(struct http *h, struct proc *p);
/* The same for a reload that replaced p's sinks: log streams move to the new ones. */
void http_sinks_replaced(struct http *h, struct proc *p, struct output_sink *old_out,
                         struct output_sink *old_err);
/* Closes every connection and the listener. */
void http_free(struct http *h);

/* [unix_http_server] chown = USER[:GROUP] applied to the socket; -1 with *err. */
int http_chown_socket(const char *path, const char *owner, char **err);
/* Whether bytes that begin a connection are an HTTP request line: 1 yes, 0 no, -1 too few
 * bytes to tell. */
int http_looks_like_request(const char *buf, size_t n);

#endif
