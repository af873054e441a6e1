/* raw_socket.h: HTTP over a plain TCP socket, for the requests curl will not send (two
 * Content-Length headers, a NUL in the path, a body that never comes) and for connection floods.
 * Blocking sockets with a receive timeout, so that a server that never answers fails the test. */
#ifndef LDS_RAW_SOCKET_H
#define LDS_RAW_SOCKET_H

#include <stddef.h>

/* Connects to 127.0.0.1:port from the loopback address source ("127.0.0.2"; NULL: any). Returns
 * the socket or -1. */
int raw_connect(unsigned port, const char *source);
/* Sends all of data (size bytes); 0 on success. */
int raw_send(int fd, const void *data, size_t size);
/* Reads until the server closes, the buffer is full, or timeout_s passes without data; returns
 * the bytes read (NUL-terminated in out), -1 when nothing came. */
long raw_read_all(int fd, char *out, size_t size, int timeout_s);
/* Sends request (size bytes) on a new connection and reads the whole answer into out. Returns the
 * HTTP status of the answer, 0 when there was none. */
int raw_request(unsigned port, const char *request, size_t size, char *out, size_t out_size);
/* Raises the soft limit on open files to the hard one. */
void raw_raise_file_limit(void);

#endif
