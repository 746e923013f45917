/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_ctl.h - natgw's live control channel (docs/operations.md): a root-only unix stream
 * socket of natgw's own ([control] socket, --ctl-socket; default /run/natgw/ctl.sock, mode
 * 0600), served without blocking by the main lcore's loop, one JSON object per line each way.
 *
 * Why not DPDK telemetry: its commands are read-only by convention (dpdk-telemetry.py and
 * monitoring poll them freely, any user that can open the runtime directory may), a reply is
 * limited to one 16 KiB message and a command cannot keep a connection open to stream. The
 * telemetry commands (/natgw/stats ...) stay for reading; everything that changes state goes
 * through this socket, whose peer must be root or natgw's own user (SO_PEERCRED).
 *
 * Protocol: the client writes {"cmd":"NAME", "key": value, ...}\n (flat: string, integer,
 * true/false/null values); natgw answers one line {"ok":true, ...} or {"ok":false,
 * "error":"message"}. A streaming command (events) answers its first line and then keeps
 * writing lines until the client closes.
 *
 * Threading: everything here runs on the main lcore [main], except gw_ctl_worker_poll,
 * which each worker calls between bursts [owner].
 */
#ifndef NATGW_GW_CTL_H
#define NATGW_GW_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gw.h"
#include "gw_ctl_json.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GW_CTL_SOCKET_DEFAULT	"/run/natgw/ctl.sock"

/* Requests and replies: struct gw_ctl_req / gw_ctl_reply and the JSON writer
 * (gw_ctl_json_str, _u64, _obj_begin ...) are in gw_ctl_json.h. */

/** One connection as an object member (the listing's fields, also for events): id,
 * worker, lcore, proto, tcp_state, status, timeout (s), orig, reply ("src=A dst=B sport=P
 * dport=Q"), packets_orig/_reply, bytes_orig/_reply ([conntrack] accounting only), snat,
 * dnat, related, helper. [any] */
struct ct_conn_info;
void gw_ctl_json_conn(struct gw_ctl_reply *rp, const char *key, const struct ct_conn_info *ci,
		      unsigned int worker, ct_time_t now);

/* ---- the channel (gw_ctl.c) [main] ---- */

/**
 * A command handler: reads req, writes members of the reply object (or
 * gw_ctl_reply_error). It runs on the main lcore and may wait, bounded, for the workers
 * (gw_ctl_workers_run). "ok" is added by the channel.
 */
typedef void (*gw_ctl_handler)(const struct gw_ctl_req *req, struct gw_ctl_reply *rp,
			       void *arg);

/** Register command `cmd` (copied). Before or after gw_ctl_open.
 * @return 0, -EEXIST (taken), -ENOSPC (table full), -EINVAL. */
int gw_ctl_register(const char *cmd, gw_ctl_handler fn, void *arg);

/** Open and listen on `path` (parent directory made 0700 if missing; a stale socket file
 * nobody listens on is replaced; one another process listens on is an error).
 * @return 0 or -1 with err filled. */
int gw_ctl_open(const char *path, char *err, size_t errlen);
/** Serve: wait at most timeout_ms for activity, accept, read requests, run handlers,
 * write replies. Never blocks on a client. */
void gw_ctl_poll(int timeout_ms);
/** Close every client (streams' on_close run) and the socket; the file is removed. */
void gw_ctl_close(void);

/* ---- streaming (for `events`) ---- */

struct gw_ctl_client;
typedef void (*gw_ctl_close_fn)(struct gw_ctl_client *c, void *arg);

/**
 * In a handler: keep this client open after its reply, for lines sent later with
 * gw_ctl_client_send. on_close runs once when the client goes away (it closed, an error,
 * gw_ctl_client_close, gw_ctl_close); the handle is invalid after it. The client's further
 * requests are ignored while it streams. @return the handle, or NULL (not in a handler).
 */
struct gw_ctl_client *gw_ctl_stream(struct gw_ctl_reply *rp, gw_ctl_close_fn on_close,
				    void *arg);
/**
 * Queue one line for a streaming client (len bytes, no '\n': the channel adds it). Never
 * blocks. @return 0; -ENOBUFS: more than GW_CTL_STREAM_MAX bytes are queued (the client
 * reads too slowly): the line is dropped, count it; -EPIPE: the client is gone.
 */
#define GW_CTL_STREAM_MAX (4u << 20)
int gw_ctl_client_send(struct gw_ctl_client *c, const char *line, size_t len);
void gw_ctl_client_close(struct gw_ctl_client *c);

/* ---- reload (gw_ctl_cmds.c) [main] ---- */

/**
 * A part of natgw that applies its own configuration on reload (logging, the ruleset):
 * check() sees the new, fully loaded configuration beside the one in force and refuses it
 * (return -1, err naming the key) or accepts it (0); it must not change anything. Once
 * every check passed, apply() is called for each hook in registration order; it may not
 * fail (do everything that can fail in check and keep the result for apply). A check that
 * passed is not always followed by apply (a later hook refused): the next check must
 * replace whatever it kept. The config file, the immutable keys, [forward] and the
 * ruleset are checked before any hook. Either may be
 * NULL. Hooks run for SIGHUP and `natgw-ctl reload` alike. `touched` (may be ignored)
 * is a text apply() may fill for the reply ("3 rules").
 */
typedef int (*gw_ctl_reload_check_fn)(const struct gw_config *next,
				      const struct gw_config *cur, char *err, size_t errlen,
				      void *arg);
typedef void (*gw_ctl_reload_apply_fn)(const struct gw_config *next, char *touched,
				       size_t len, void *arg);
/** @return 0, -ENOSPC, -EINVAL. name: for messages ("log", "rules"). */
int gw_ctl_reload_hook(const char *name, gw_ctl_reload_check_fn check,
		       gw_ctl_reload_apply_fn apply, void *arg);

/** How natgw reads its configuration again: the file it was started with and the same
 * command-line overrides (main.c). 0 or -1 with err filled. */
typedef int (*gw_ctl_load_fn)(struct gw_config *out, char *err, size_t errlen);

/**
 * Set up the built-in commands over gateway g (list, flush, delete, mappings, forward,
 * timeout, counters, reload) and the per-worker command rings. cur: the configuration
 * natgw started with (copied: the one in force for reload's comparison). [main]
 * @return 0 or -1 with err filled.
 */
int gw_ctl_cmds_init(struct gw *g, const struct gw_config *cur, ct_time_t (*clock)(void),
		     gw_ctl_load_fn load, char *err, size_t errlen);
void gw_ctl_cmds_free(void);
/** Reload now (SIGHUP). Writes one line saying what happened to f. @return 0 applied,
 * -1 refused (nothing changed). */
int gw_ctl_reload(FILE *f);
/** The configuration in force (after reloads and live changes). [main] */
const struct gw_config *gw_ctl_config(void);

/* ---- changes applied by the workers (gw_ctl_cmds.c) ---- */

/**
 * Work a worker does for the control plane, on its own lcore between bursts: w is the
 * worker, arg the caller's data (a copy, shared by all workers: read only), *pos a cursor of
 * this worker's own (0 at first), *touched what it counts (entries removed, changed...).
 * @return 0 done, 1 call me again at the next poll (bounded work per call: at most
 * GW_CTL_BUDGET entries).
 */
#define GW_CTL_BUDGET 4096
typedef int (*gw_ctl_work_fn)(struct gw_worker *w, const void *arg, uint64_t *pos,
			      uint64_t *touched, ct_time_t now);

/**
 * Queue fn on every worker's command ring (main -> worker, single producer) and wait,
 * bounded by timeout_ms, for each to finish; arg (arg_len bytes) is copied. touched[i]
 * (may be NULL) gets worker i's count. Workers that did not finish in time keep going; the
 * copy is freed once they did. [main]
 * @return 0, or -ETIMEDOUT (*late = workers not done), -ENOBUFS (a ring full: nothing queued
 *         on that worker and later ones), -ENOMEM.
 */
int gw_ctl_workers_run(gw_ctl_work_fn fn, const void *arg, size_t arg_len,
		       uint64_t *touched, unsigned int timeout_ms, unsigned int *late);

/** Worker side: apply what the control plane queued for this worker (between bursts,
 * bounded work per call). [owner] @return work done (0: nothing). */
unsigned int gw_ctl_worker_poll(struct gw_worker *w, ct_time_t now);

#ifdef __cplusplus
}
#endif
#endif /* NATGW_GW_CTL_H */
