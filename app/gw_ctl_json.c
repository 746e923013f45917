/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_ctl_json.c - the control channel's JSON (RFC 8259), both ways: the request parser (one
 * flat object per line: string, number, true/false/null values; what natgw-ctl sends) and
 * the reply writer (nested objects and arrays, strings escaped). Pure functions over
 * buffers, no EAL: tests/unit/app/test_ctl_json.c runs them directly.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw_ctl_json.h"

/* ---- parser ---- */

struct gw_jp {
	const char *s;
	size_t i, n;
	char *err;
	size_t errlen;
};

static int
gw_jp_fail(struct gw_jp *p, const char *what)
{
	snprintf(p->err, p->errlen, "at byte %zu: %s", p->i + 1, what);
	return -1;
}

static void
gw_jp_ws(struct gw_jp *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\r' ||
			       p->s[p->i] == '\n'))
		p->i++;
}

static int
gw_jp_hex4(struct gw_jp *p, unsigned int *v)
{
	unsigned int k;

	*v = 0;
	for (k = 0; k < 4; k++) {
		char c;

		if (p->i >= p->n || !isxdigit((unsigned char)(c = p->s[p->i])))
			return gw_jp_fail(p, "bad \\u escape");
		*v = *v * 16 + (unsigned int)(isdigit((unsigned char)c) ? c - '0' :
					      tolower((unsigned char)c) - 'a' + 10);
		p->i++;
	}
	return 0;
}

/* a string at p->i (the opening quote), unescaped into out (UTF-8) */
static int
gw_jp_string(struct gw_jp *p, char *out, size_t outlen)
{
	size_t o = 0;

	p->i++;
	for (;;) {
		unsigned char c;
		unsigned int u;

		if (p->i >= p->n)
			return gw_jp_fail(p, "unterminated string");
		c = (unsigned char)p->s[p->i++];
		if (c == '"')
			break;
		if (c < 0x20) {
			p->i--;
			return gw_jp_fail(p, "control character in string");
		}
		if (c == '\\') {
			if (p->i >= p->n)
				return gw_jp_fail(p, "unterminated string");
			c = (unsigned char)p->s[p->i++];
			switch (c) {
			case '"': case '\\': case '/': break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				if (gw_jp_hex4(p, &u) < 0)
					return -1;
				if (u == 0 || (u >= 0xd800 && u <= 0xdfff))
					return gw_jp_fail(p, "\\u0000 or a surrogate");
				if (o + 4 >= outlen)
					return gw_jp_fail(p, "string too long");
				if (u < 0x80) {
					out[o++] = (char)u;
				} else if (u < 0x800) {
					out[o++] = (char)(0xc0 | u >> 6);
					out[o++] = (char)(0x80 | (u & 0x3f));
				} else {
					out[o++] = (char)(0xe0 | u >> 12);
					out[o++] = (char)(0x80 | (u >> 6 & 0x3f));
					out[o++] = (char)(0x80 | (u & 0x3f));
				}
				continue;
			default:
				p->i--;
				return gw_jp_fail(p, "bad escape");
			}
		}
		if (o + 1 >= outlen)
			return gw_jp_fail(p, "string too long");
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* a number (RFC 8259 grammar), copied as written */
static int
gw_jp_number(struct gw_jp *p, char *out, size_t outlen)
{
	size_t b = p->i;

	if (p->i < p->n && p->s[p->i] == '-')
		p->i++;
	if (p->i < p->n && p->s[p->i] == '0')
		p->i++;
	else if (p->i < p->n && p->s[p->i] >= '1' && p->s[p->i] <= '9')
		while (p->i < p->n && isdigit((unsigned char)p->s[p->i]))
			p->i++;
	else
		return gw_jp_fail(p, "bad number");
	if (p->i < p->n && p->s[p->i] == '.') {
		p->i++;
		if (p->i >= p->n || !isdigit((unsigned char)p->s[p->i]))
			return gw_jp_fail(p, "bad number");
		while (p->i < p->n && isdigit((unsigned char)p->s[p->i]))
			p->i++;
	}
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		if (p->i >= p->n || !isdigit((unsigned char)p->s[p->i]))
			return gw_jp_fail(p, "bad number");
		while (p->i < p->n && isdigit((unsigned char)p->s[p->i]))
			p->i++;
	}
	if (p->i - b >= outlen)
		return gw_jp_fail(p, "number too long");
	memcpy(out, p->s + b, p->i - b);
	out[p->i - b] = '\0';
	return 0;
}

static int
gw_jp_word(struct gw_jp *p, const char *w)
{
	size_t l = strlen(w);

	if (p->n - p->i < l || memcmp(p->s + p->i, w, l) != 0)
		return -1;
	p->i += l;
	return 0;
}

static int
gw_jp_value(struct gw_jp *p, struct gw_ctl_field *f)
{
	char c;

	if (p->i >= p->n)
		return gw_jp_fail(p, "expected a value");
	c = p->s[p->i];
	if (c == '"') {
		f->type = GW_CTL_T_STR;
		return gw_jp_string(p, f->val, sizeof(f->val));
	}
	if (c == '-' || isdigit((unsigned char)c)) {
		f->type = GW_CTL_T_NUM;
		return gw_jp_number(p, f->val, sizeof(f->val));
	}
	if (gw_jp_word(p, "true") == 0 || gw_jp_word(p, "false") == 0) {
		f->type = GW_CTL_T_BOOL;
		snprintf(f->val, sizeof(f->val), "%s", c == 't' ? "true" : "false");
		return 0;
	}
	if (gw_jp_word(p, "null") == 0) {
		f->type = GW_CTL_T_NULL;
		f->val[0] = '\0';
		return 0;
	}
	if (c == '{' || c == '[')
		return gw_jp_fail(p, "nested objects and arrays are not accepted");
	return gw_jp_fail(p, "expected a value");
}

int
gw_ctl_parse(const char *line, size_t len, struct gw_ctl_req *req, char *err, size_t errlen)
{
	struct gw_jp p = { .s = line, .i = 0, .n = len, .err = err, .errlen = errlen };
	unsigned int k;

	memset(req, 0, sizeof(*req));
	gw_jp_ws(&p);
	if (p.i >= p.n || p.s[p.i] != '{')
		return gw_jp_fail(&p, "expected '{'");
	p.i++;
	gw_jp_ws(&p);
	if (p.i < p.n && p.s[p.i] == '}') {
		p.i++;
	} else {
		for (;;) {
			struct gw_ctl_field *f;

			if (req->n == GW_CTL_MAX_FIELDS)
				return gw_jp_fail(&p, "too many keys");
			f = &req->f[req->n];
			gw_jp_ws(&p);
			if (p.i >= p.n || p.s[p.i] != '"')
				return gw_jp_fail(&p, "expected a key string");
			if (gw_jp_string(&p, f->key, sizeof(f->key)) < 0)
				return -1;
			for (k = 0; k < req->n; k++)
				if (strcmp(req->f[k].key, f->key) == 0)
					return gw_jp_fail(&p, "duplicate key");
			gw_jp_ws(&p);
			if (p.i >= p.n || p.s[p.i] != ':')
				return gw_jp_fail(&p, "expected ':'");
			p.i++;
			gw_jp_ws(&p);
			if (gw_jp_value(&p, f) < 0)
				return -1;
			req->n++;
			gw_jp_ws(&p);
			if (p.i < p.n && p.s[p.i] == ',') {
				p.i++;
				continue;
			}
			if (p.i < p.n && p.s[p.i] == '}') {
				p.i++;
				break;
			}
			return gw_jp_fail(&p, "expected ',' or '}'");
		}
	}
	gw_jp_ws(&p);
	if (p.i != p.n)
		return gw_jp_fail(&p, "text after the object");
	for (k = 0; k < req->n; k++)
		if (strcmp(req->f[k].key, "cmd") == 0) {
			if (req->f[k].type != GW_CTL_T_STR || req->f[k].val[0] == '\0') {
				snprintf(err, errlen, "\"cmd\" must be a non-empty string");
				return -1;
			}
			return 0;
		}
	snprintf(err, errlen, "no \"cmd\"");
	return -1;
}

static const struct gw_ctl_field *
gw_ctl_field(const struct gw_ctl_req *r, const char *key)
{
	unsigned int k;

	for (k = 0; k < r->n; k++)
		if (strcmp(r->f[k].key, key) == 0)
			return r->f[k].type == GW_CTL_T_NULL ? NULL : &r->f[k];
	return NULL;
}

const char *
gw_ctl_req_cmd(const struct gw_ctl_req *r)
{
	const struct gw_ctl_field *f = gw_ctl_field(r, "cmd");

	return f != NULL ? f->val : "";
}

const char *
gw_ctl_req_str(const struct gw_ctl_req *r, const char *key)
{
	const struct gw_ctl_field *f = gw_ctl_field(r, key);

	return f != NULL ? f->val : NULL;
}

int
gw_ctl_req_u64(const struct gw_ctl_req *r, const char *key, uint64_t *v)
{
	const struct gw_ctl_field *f = gw_ctl_field(r, key);
	char *end;

	if (f == NULL)
		return 0;
	if (f->type == GW_CTL_T_BOOL || !isdigit((unsigned char)f->val[0]))
		return -1;
	errno = 0;
	*v = strtoull(f->val, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 1;
}

bool
gw_ctl_req_bool(const struct gw_ctl_req *r, const char *key, bool dflt)
{
	const char *s = gw_ctl_req_str(r, key);

	if (s == NULL)
		return dflt;
	return strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 || strcmp(s, "1") == 0 ||
	       strcasecmp(s, "on") == 0;
}

const char *
gw_ctl_req_unknown(const struct gw_ctl_req *r, const char *const *allowed)
{
	unsigned int k, a;

	for (k = 0; k < r->n; k++) {
		if (strcmp(r->f[k].key, "cmd") == 0)
			continue;
		for (a = 0; allowed != NULL && allowed[a] != NULL; a++)
			if (strcmp(allowed[a], r->f[k].key) == 0)
				break;
		if (allowed == NULL || allowed[a] == NULL)
			return r->f[k].key;
	}
	return NULL;
}

/* ---- writer ---- */

static void
gw_jw_raw(struct gw_ctl_reply *rp, const char *s, size_t l)
{
	if (rp->oom)
		return;
	if (rp->len + l + 1 > rp->cap) {
		size_t cap = rp->cap != 0 ? rp->cap : 4096;
		char *b;

		while (rp->len + l + 1 > cap)
			cap *= 2;
		b = realloc(rp->buf, cap);
		if (b == NULL) {
			rp->oom = true;
			return;
		}
		rp->buf = b;
		rp->cap = cap;
	}
	memcpy(rp->buf + rp->len, s, l);
	rp->len += l;
	rp->buf[rp->len] = '\0';
}

static void
gw_jw_quoted(struct gw_ctl_reply *rp, const char *s)
{
	char esc[8];
	const char *b = s;

	gw_jw_raw(rp, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		gw_jw_raw(rp, b, (size_t)(s - b));
		if (c == '"' || c == '\\')
			snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c == '\n')
			snprintf(esc, sizeof(esc), "\\n");
		else
			snprintf(esc, sizeof(esc), "\\u%04x", c);
		gw_jw_raw(rp, esc, strlen(esc));
		b = s + 1;
	}
	gw_jw_raw(rp, b, (size_t)(s - b));
	gw_jw_raw(rp, "\"", 1);
}

/* the separator and key of a new member at the current level */
static void
gw_jw_member(struct gw_ctl_reply *rp, const char *key)
{
	if (!rp->first[rp->depth])
		gw_jw_raw(rp, ",", 1);
	rp->first[rp->depth] = false;
	if (key != NULL) {
		gw_jw_quoted(rp, key);
		gw_jw_raw(rp, ":", 1);
	}
}

void
gw_ctl_reply_init(struct gw_ctl_reply *rp)
{
	void *stream = rp->stream;

	free(rp->buf);
	memset(rp, 0, sizeof(*rp));
	rp->stream = stream;
	rp->first[0] = true;
	gw_jw_raw(rp, "{", 1);
}

void
gw_ctl_reply_free(struct gw_ctl_reply *rp)
{
	free(rp->buf);
	rp->buf = NULL;
	rp->len = rp->cap = 0;
}

void
gw_ctl_reply_error(struct gw_ctl_reply *rp, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gw_ctl_reply_init(rp);
	rp->error = true;
	gw_jw_member(rp, "ok");
	gw_jw_raw(rp, "false", 5);
	gw_ctl_json_str(rp, "error", msg);
}

void
gw_ctl_json_str(struct gw_ctl_reply *rp, const char *key, const char *val)
{
	gw_jw_member(rp, key);
	gw_jw_quoted(rp, val != NULL ? val : "");
}

void
gw_ctl_json_u64(struct gw_ctl_reply *rp, const char *key, uint64_t v)
{
	char b[24];

	gw_jw_member(rp, key);
	snprintf(b, sizeof(b), "%" PRIu64, v);
	gw_jw_raw(rp, b, strlen(b));
}

void
gw_ctl_json_i64(struct gw_ctl_reply *rp, const char *key, int64_t v)
{
	char b[24];

	gw_jw_member(rp, key);
	snprintf(b, sizeof(b), "%" PRId64, v);
	gw_jw_raw(rp, b, strlen(b));
}

void
gw_ctl_json_bool(struct gw_ctl_reply *rp, const char *key, bool v)
{
	gw_jw_member(rp, key);
	gw_jw_raw(rp, v ? "true" : "false", v ? 4 : 5);
}

static void
gw_jw_open(struct gw_ctl_reply *rp, const char *key, const char *c)
{
	gw_jw_member(rp, key);
	gw_jw_raw(rp, c, 1);
	if (rp->depth + 1 < sizeof(rp->first) / sizeof(rp->first[0])) {
		rp->depth++;
		rp->first[rp->depth] = true;
	} else {
		rp->oom = true;		/* too deep: the reply becomes an error */
	}
}

void
gw_ctl_json_obj_begin(struct gw_ctl_reply *rp, const char *key)
{
	gw_jw_open(rp, key, "{");
}

void
gw_ctl_json_arr_begin(struct gw_ctl_reply *rp, const char *key)
{
	gw_jw_open(rp, key, "[");
}

void
gw_ctl_json_obj_end(struct gw_ctl_reply *rp)
{
	if (rp->depth > 0)
		rp->depth--;
	gw_jw_raw(rp, "}", 1);
}

void
gw_ctl_json_arr_end(struct gw_ctl_reply *rp)
{
	if (rp->depth > 0)
		rp->depth--;
	gw_jw_raw(rp, "]", 1);
}

const char *
gw_ctl_reply_finish(struct gw_ctl_reply *rp, size_t *len)
{
	if (rp->oom) {
		gw_ctl_reply_free(rp);
		gw_ctl_reply_error(rp, "reply too large (out of memory)");
	}
	/* unclosed levels are the handler's slip: close them so the line stays JSON */
	while (rp->depth > 0)
		gw_ctl_json_obj_end(rp);
	if (!rp->error) {
		gw_jw_member(rp, "ok");
		gw_jw_raw(rp, "true", 4);
	}
	gw_jw_raw(rp, "}\n", 2);
	if (rp->oom) {
		static const char oom[] = "{\"ok\":false,\"error\":\"out of memory\"}\n";

		*len = sizeof(oom) - 1;
		return oom;
	}
	*len = rp->len;
	return rp->buf;
}
