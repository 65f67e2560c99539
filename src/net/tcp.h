/*
 * Non-blocking TCP sockets: connect, read, write, with errno translated
 * into XT_E* codes and a detail naming the address ("connect to
 * 127.0.0.1:5222: Connection refused").
 */
#ifndef XT_NET_TCP_H
#define XT_NET_TCP_H

#include <stddef.h>
#include <sys/socket.h>

#include "xtalk/common.h"

/* "127.0.0.1:5222" or "[::1]:5222" into out (at least 64 bytes). */
void xt_tcp_addr_str(const struct sockaddr *sa, char *out, size_t outlen);

/* Starts a non-blocking connect. 0 with *fd set (completion is signalled
 * by POLLOUT, then call xt_tcp_connected), or XT_ECONNECT / XT_ENOMEM
 * with detail. */
int xt_tcp_connect(const struct sockaddr *sa, socklen_t salen, int *fd, char *detail, size_t dlen);
/* After POLLOUT/POLLERR on a connecting fd: 0 when connected (keepalive
 * and TCP_NODELAY are set), else XT_ECONNECT with detail. */
int xt_tcp_connected(int fd, const struct sockaddr *sa, char *detail, size_t dlen);

/* Reads: 0 with *got > 0; 0 with *got == 0 when nothing is there yet
 * (EAGAIN); XT_ECLOSED at EOF; XT_EIO with detail. */
int xt_tcp_read(int fd, void *buf, size_t cap, size_t *got, char *detail, size_t dlen);
/* ACK what was read at once, not after the delayed-ACK timer (Linux
 * TCP_QUICKACK; it lapses by itself, so it is asked for after a read). */
void xt_tcp_quickack(int fd);
/* Writes without SIGPIPE: 0 with *wrote (maybe 0 on EAGAIN), XT_EIO. */
int xt_tcp_write(int fd, const void *data, size_t n, size_t *wrote, char *detail, size_t dlen);

#endif
