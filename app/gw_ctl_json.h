/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_ctl_json.h - the control channel's JSON (app/gw_ctl_json.c): the request parser and the
 * reply writer. No DPDK: tests/unit/app/test_ctl_json.c uses it alone. gw_ctl.h (the
 * channel) includes it.
 */
#ifndef NATGW_GW_CTL_JSON_H
#define NATGW_GW_CTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GW_CTL_MAX_FIELDS	32	/* keys of one request */
#define GW_CTL_MAX_LINE		8192	/* bytes of one request line */

/* ---- requests (parsed by gw_ctl_json.c; no EAL needed: unit-tested) ---- */

struct gw_ctl_field {
	char key[32];
	char val[512];		/**< the value as text: strings unescaped, numbers as is */
	uint8_t type;		/**< GW_CTL_T_* */
};

enum {
	GW_CTL_T_STR = 1,
	GW_CTL_T_NUM,
	GW_CTL_T_BOOL,		/**< val "true" / "false" */
	GW_CTL_T_NULL,
};

struct gw_ctl_req {
	unsigned int n;
	struct gw_ctl_field f[GW_CTL_MAX_FIELDS];
};

/**
 * Parse one request line: a flat JSON object (RFC 8259) whose values are strings, numbers,
 * true, false or null; keys unique, "cmd" a string. [any]
 * @return 0, or -1 with err filled ("at byte 12: expected ':'").
 */
int gw_ctl_parse(const char *line, size_t len, struct gw_ctl_req *req, char *err,
		 size_t errlen);
/** The command name ("" if none). */
const char *gw_ctl_req_cmd(const struct gw_ctl_req *r);
/** Value of key as text, or NULL when absent (or null). */
const char *gw_ctl_req_str(const struct gw_ctl_req *r, const char *key);
/** Integer value of key (a JSON number or a decimal string): 1 found, 0 absent, -1 bad. */
int gw_ctl_req_u64(const struct gw_ctl_req *r, const char *key, uint64_t *v);
/** true/false of key (JSON bool, or "yes"/"no"...); dflt when absent. */
bool gw_ctl_req_bool(const struct gw_ctl_req *r, const char *key, bool dflt);
/** The first key of r that is not "cmd" and not in allowed (NULL-terminated), or NULL: a
 * handler refuses unknown options by name. */
const char *gw_ctl_req_unknown(const struct gw_ctl_req *r, const char *const *allowed);

/* ---- replies: a JSON writer (gw_ctl_json.c) ---- */

struct gw_ctl_reply {
	char *buf;
	size_t len, cap;
	bool oom;
	bool error;		/**< gw_ctl_reply_error was called */
	unsigned int depth;
	bool first[16];		/**< per nesting level: nothing written yet */
	void *stream;		/**< set by gw_ctl_stream (the channel's client) */
};

/** Start an empty reply object "{" (the channel does it before calling a handler). */
void gw_ctl_reply_init(struct gw_ctl_reply *rp);
void gw_ctl_reply_free(struct gw_ctl_reply *rp);
/** Make the reply {"ok":false,"error":TEXT} (what was written before is discarded). */
void gw_ctl_reply_error(struct gw_ctl_reply *rp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Members: key is the member name inside an object, NULL inside an array. */
void gw_ctl_json_str(struct gw_ctl_reply *rp, const char *key, const char *val);
void gw_ctl_json_u64(struct gw_ctl_reply *rp, const char *key, uint64_t v);
void gw_ctl_json_i64(struct gw_ctl_reply *rp, const char *key, int64_t v);
void gw_ctl_json_bool(struct gw_ctl_reply *rp, const char *key, bool v);
void gw_ctl_json_obj_begin(struct gw_ctl_reply *rp, const char *key);
void gw_ctl_json_obj_end(struct gw_ctl_reply *rp);
void gw_ctl_json_arr_begin(struct gw_ctl_reply *rp, const char *key);
void gw_ctl_json_arr_end(struct gw_ctl_reply *rp);
/** Close the reply: adds "ok", closes every open level and a '\n'. @return the line. */
const char *gw_ctl_reply_finish(struct gw_ctl_reply *rp, size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* NATGW_GW_CTL_JSON_H */
