/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_ctl.c - the control channel's socket (gw_ctl.h, docs/operations.md): a unix stream
 * socket, mode 0600 in a 0700 directory, peers checked with SO_PEERCRED (root or natgw's
 * own user), every descriptor non-blocking, served from the main lcore's loop with poll(2).
 * Requests are lines of JSON; each is dispatched to its registered handler and the reply
 * queued on the client, written as the socket takes it. A handler may turn its client into
 * a stream (gw_ctl_stream) that later lines are queued on, bounded (GW_CTL_STREAM_MAX):
 * a slow reader loses lines, counted by the sender, and never stalls natgw.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include "gw_ctl.h"

#define GW_CTL_MAX_CMDS		64
#define GW_CTL_MAX_CLIENTS	16
#define GW_CTL_OUT_MAX		(256u << 20)	/* a reply bigger than this is refused */

struct gw_ctl_cmd {
	char name[32];
	gw_ctl_handler fn;
	void *arg;
};

struct gw_ctl_client {
	int fd;
	char in[GW_CTL_MAX_LINE + 1];
	size_t in_len;
	char *out;
	size_t out_len, out_off, out_cap;
	bool streaming;
	bool closing;		/* close once out is written */
	gw_ctl_close_fn on_close;
	void *close_arg;
};

static struct gw_ctl_cmd gw_ctl_cmds[GW_CTL_MAX_CMDS];
static unsigned int gw_ctl_n_cmds;
static struct gw_ctl_client gw_ctl_cl[GW_CTL_MAX_CLIENTS];
static int gw_ctl_fd = -1;
static char gw_ctl_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

int
gw_ctl_register(const char *cmd, gw_ctl_handler fn, void *arg)
{
	unsigned int i;

	if (cmd == NULL || fn == NULL || cmd[0] == '\0' ||
	    strlen(cmd) >= sizeof(gw_ctl_cmds[0].name))
		return -EINVAL;
	for (i = 0; i < gw_ctl_n_cmds; i++)
		if (strcmp(gw_ctl_cmds[i].name, cmd) == 0)
			return -EEXIST;
	if (gw_ctl_n_cmds == GW_CTL_MAX_CMDS)
		return -ENOSPC;
	snprintf(gw_ctl_cmds[gw_ctl_n_cmds].name, sizeof(gw_ctl_cmds[0].name), "%s", cmd);
	gw_ctl_cmds[gw_ctl_n_cmds].fn = fn;
	gw_ctl_cmds[gw_ctl_n_cmds].arg = arg;
	gw_ctl_n_cmds++;
	return 0;
}

static int
gw_ctl_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* mkdir -p of path's directory, 0700 for what is made */
static int
gw_ctl_mkdirs(const char *path)
{
	char d[sizeof(gw_ctl_path)], *s;

	snprintf(d, sizeof(d), "%s", path);
	s = strrchr(d, '/');
	if (s == NULL || s == d)
		return 0;
	*s = '\0';
	for (s = d + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(d, 0700) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(d, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

int
gw_ctl_open(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int fd, rc;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket path empty or longer than %zu bytes",
			 sizeof(sa.sun_path) - 1);
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (gw_ctl_mkdirs(path) < 0) {
		snprintf(err, errlen, "control socket %s: directory: %s", path, strerror(errno));
		return -1;
	}
	if (lstat(path, &st) == 0) {
		/* a live natgw answers a connect: never steal its socket */
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "control socket %s: exists and is not a socket",
				 path);
			return -1;
		}
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(fd);
			snprintf(err, errlen, "control socket %s: another natgw listens on it",
				 path);
			return -1;
		}
		if (fd >= 0)
			close(fd);
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "control socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);	/* 0600 from the start: no window where others may connect */
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, 8) < 0 || gw_ctl_nonblock(fd) < 0) {
		snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	gw_ctl_fd = fd;
	snprintf(gw_ctl_path, sizeof(gw_ctl_path), "%s", path);
	for (rc = 0; rc < GW_CTL_MAX_CLIENTS; rc++)
		gw_ctl_cl[rc].fd = -1;
	return 0;
}

static int
gw_ctl_queue(struct gw_ctl_client *c, const char *s, size_t l, size_t limit)
{
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len - c->out_off + l > limit)
		return -ENOBUFS;
	if (c->out_len + l > c->out_cap) {
		size_t cap = c->out_cap != 0 ? c->out_cap : 4096;
		char *b;

		if (c->out_off != 0) {	/* compact first */
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		while (c->out_len + l > cap)
			cap *= 2;
		if (cap > c->out_cap) {
			b = realloc(c->out, cap);
			if (b == NULL)
				return -ENOBUFS;
			c->out = b;
			c->out_cap = cap;
		}
	}
	memcpy(c->out + c->out_len, s, l);
	c->out_len += l;
	return 0;
}

static void
gw_ctl_drop(struct gw_ctl_client *c)
{
	gw_ctl_close_fn fn = c->on_close;

	if (c->fd < 0)
		return;
	c->on_close = NULL;
	if (fn != NULL)
		fn(c, c->close_arg);
	close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* write what the socket takes now */
static void
gw_ctl_flush_out(struct gw_ctl_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			gw_ctl_drop(c);
			return;
		}
		c->out_off += (size_t)w;
	}
	if (c->closing)
		gw_ctl_drop(c);
}

static struct gw_ctl_client *gw_ctl_cur;	/* the client whose handler runs */

static void
gw_ctl_dispatch(struct gw_ctl_client *c, const char *line, size_t len)
{
	static struct gw_ctl_req req;	/* 17 KiB: not on the stack */
	struct gw_ctl_reply rp;
	char err[256];
	const char *out;
	size_t olen;
	unsigned int i;

	memset(&rp, 0, sizeof(rp));
	gw_ctl_reply_init(&rp);
	if (gw_ctl_parse(line, len, &req, err, sizeof(err)) < 0) {
		gw_ctl_reply_error(&rp, "bad request: %s", err);
	} else {
		for (i = 0; i < gw_ctl_n_cmds; i++)
			if (strcmp(gw_ctl_cmds[i].name, gw_ctl_req_cmd(&req)) == 0)
				break;
		if (i == gw_ctl_n_cmds && strcmp(gw_ctl_req_cmd(&req), "help") == 0) {
			gw_ctl_json_arr_begin(&rp, "commands");
			for (i = 0; i < gw_ctl_n_cmds; i++)
				gw_ctl_json_str(&rp, NULL, gw_ctl_cmds[i].name);
			gw_ctl_json_arr_end(&rp);
		} else if (i == gw_ctl_n_cmds) {
			gw_ctl_reply_error(&rp, "unknown command '%s' (try \"help\")",
					   gw_ctl_req_cmd(&req));
		} else {
			gw_ctl_cur = c;
			gw_ctl_cmds[i].fn(&req, &rp, gw_ctl_cmds[i].arg);
			gw_ctl_cur = NULL;
		}
	}
	out = gw_ctl_reply_finish(&rp, &olen);
	if (gw_ctl_queue(c, out, olen, GW_CTL_OUT_MAX) < 0) {
		static const char big[] = "{\"ok\":false,\"error\":\"reply too large\"}\n";

		gw_ctl_queue(c, big, sizeof(big) - 1, GW_CTL_OUT_MAX);
	}
	gw_ctl_reply_free(&rp);
}

static void
gw_ctl_read(struct gw_ctl_client *c)
{
	for (;;) {
		ssize_t r = recv(c->fd, c->in + c->in_len, GW_CTL_MAX_LINE - c->in_len,
				 MSG_DONTWAIT);
		char *nl;

		if (r == 0) {
			/* the client closed its end: finish writing what it asked for */
			if (c->streaming || c->out_off == c->out_len)
				gw_ctl_drop(c);
			else
				c->closing = true;
			return;
		}
		if (r < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				gw_ctl_drop(c);
			return;
		}
		if (c->streaming)	/* a stream takes no more requests */
			continue;
		c->in_len += (size_t)r;
		while (c->fd >= 0 && !c->streaming &&
		       (nl = memchr(c->in, '\n', c->in_len)) != NULL) {
			size_t l = (size_t)(nl - c->in);

			if (l != 0)
				gw_ctl_dispatch(c, c->in, l);
			memmove(c->in, nl + 1, c->in_len - l - 1);
			c->in_len -= l + 1;
		}
		if (c->in_len == GW_CTL_MAX_LINE) {
			static const char big[] = "{\"ok\":false,\"error\":\"request line longer "
						  "than 8192 bytes\"}\n";

			gw_ctl_queue(c, big, sizeof(big) - 1, GW_CTL_OUT_MAX);
			c->closing = true;
			c->in_len = 0;
			return;
		}
	}
}

static bool
gw_ctl_peer_ok(int fd)
{
	struct ucred cr;
	socklen_t l = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0)
		return false;
	return cr.uid == 0 || cr.uid == geteuid();
}

static void
gw_ctl_accept(void)
{
	for (;;) {
		int fd = accept4(gw_ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		unsigned int i;

		if (fd < 0)
			return;
		if (!gw_ctl_peer_ok(fd)) {
			close(fd);	/* the mode says so too; this is the second lock */
			continue;
		}
		for (i = 0; i < GW_CTL_MAX_CLIENTS; i++)
			if (gw_ctl_cl[i].fd < 0)
				break;
		if (i == GW_CTL_MAX_CLIENTS) {
			static const char busy[] = "{\"ok\":false,\"error\":\"too many control "
						   "clients\"}\n";

			(void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		memset(&gw_ctl_cl[i], 0, sizeof(gw_ctl_cl[i]));
		gw_ctl_cl[i].fd = fd;
	}
}

void
gw_ctl_poll(int timeout_ms)
{
	struct pollfd pf[GW_CTL_MAX_CLIENTS + 1];
	struct gw_ctl_client *who[GW_CTL_MAX_CLIENTS + 1];
	unsigned int n = 0, i;

	if (gw_ctl_fd < 0) {
		if (timeout_ms > 0)
			poll(NULL, 0, timeout_ms);
		return;
	}
	pf[n].fd = gw_ctl_fd;
	pf[n].events = POLLIN;
	who[n++] = NULL;
	for (i = 0; i < GW_CTL_MAX_CLIENTS; i++) {
		struct gw_ctl_client *c = &gw_ctl_cl[i];

		if (c->fd < 0)
			continue;
		pf[n].fd = c->fd;
		/* a client that closed its end is only written to (POLLIN would fire forever) */
		pf[n].events = (short)((c->closing ? 0 : POLLIN) |
				       (c->out_off < c->out_len ? POLLOUT : 0));
		who[n++] = c;
	}
	if (poll(pf, n, timeout_ms) <= 0)
		return;
	for (i = 1; i < n; i++) {
		struct gw_ctl_client *c = who[i];

		if (c->fd != pf[i].fd)
			continue;
		if (pf[i].revents & (POLLIN | POLLHUP | POLLERR))
			gw_ctl_read(c);
		if (c->fd >= 0 && c->out_off < c->out_len)
			gw_ctl_flush_out(c);
	}
	if (pf[0].revents & POLLIN)
		gw_ctl_accept();
}

void
gw_ctl_close(void)
{
	unsigned int i;

	for (i = 0; i < GW_CTL_MAX_CLIENTS; i++)
		if (gw_ctl_fd >= 0 && gw_ctl_cl[i].fd >= 0) {
			gw_ctl_flush_out(&gw_ctl_cl[i]);
			gw_ctl_drop(&gw_ctl_cl[i]);
		}
	if (gw_ctl_fd >= 0) {
		close(gw_ctl_fd);
		unlink(gw_ctl_path);
	}
	gw_ctl_fd = -1;
}

struct gw_ctl_client *
gw_ctl_stream(struct gw_ctl_reply *rp, gw_ctl_close_fn on_close, void *arg)
{
	struct gw_ctl_client *c = gw_ctl_cur;

	RTE_SET_USED(rp);
	if (c == NULL)
		return NULL;
	c->streaming = true;
	c->on_close = on_close;
	c->close_arg = arg;
	return c;
}

int
gw_ctl_client_send(struct gw_ctl_client *c, const char *line, size_t len)
{
	int rc;

	if (c == NULL || c->fd < 0 || c->closing)
		return -EPIPE;
	if (c->out_len - c->out_off + len + 1 > GW_CTL_STREAM_MAX)
		return -ENOBUFS;
	/* written by gw_ctl_poll (POLLOUT): never here, so that on_close never runs inside the
	 * caller's send loop */
	rc = gw_ctl_queue(c, line, len, GW_CTL_STREAM_MAX);
	if (rc == 0)
		rc = gw_ctl_queue(c, "\n", 1, GW_CTL_STREAM_MAX + 1);
	return rc;
}

void
gw_ctl_client_close(struct gw_ctl_client *c)
{
	if (c == NULL || c->fd < 0)
		return;
	c->on_close = NULL;	/* the owner knows */
	c->closing = true;
	gw_ctl_flush_out(c);
}
