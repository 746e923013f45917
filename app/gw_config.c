/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_config.c - natgw's INI configuration (docs/config.md): read with DPDK's rte_cfgfile,
 * validated key by key into struct gw_config. rte_cfgfile keeps no line numbers, so every
 * error is located by scanning the file for the section/key it is about and reported as
 * "FILE:LINE: message"; nothing unknown is ignored (a typo must not silently keep a default).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_cfgfile.h>

#include "gw_private.h"
#include "gw_ip6.h"
#include "gw_nat64.h"
#include "rs.h"

#define GW_CFG_MAX_ENTRIES 512

struct gw_cfg_ctx {
	const char *path;
	char *err;
	size_t errlen;
};

static void
gw_trim(char *s)
{
	char *e, *b = s;

	while (isspace((unsigned char)*b))
		b++;
	if (b != s)
		memmove(s, b, strlen(b) + 1);
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
}

/* Line of [section] (key NULL) or of key in section, 0 if not found; last line if eof. */
static unsigned int
gw_cfg_line(const char *path, const char *section, const char *key, bool eof)
{
	FILE *f = fopen(path, "r");
	char line[1024], cur[128] = "", *p;
	unsigned int n = 0, found = 0;

	if (f == NULL)
		return 0;
	while (found == 0 && fgets(line, sizeof(line), f) != NULL) {
		n++;
		p = strchr(line, ';');
		if (p != NULL)
			*p = '\0';
		gw_trim(line);
		if (line[0] == '#')
			continue;
		if (line[0] == '[') {
			p = strchr(line, ']');
			if (p != NULL)
				*p = '\0';
			strlcpy(cur, line + 1, sizeof(cur));
			gw_trim(cur);
			if (section != NULL && key == NULL && strcasecmp(cur, section) == 0)
				found = n;
			continue;
		}
		if (section == NULL && line[0] != '\0' && strchr(line, '=') == NULL)
			found = n;	/* syntax error hunt */
		if (section == NULL || key == NULL || strcasecmp(cur, section) != 0)
			continue;
		p = strchr(line, '=');
		if (p == NULL)
			continue;
		*p = '\0';
		gw_trim(line);
		if (strcasecmp(line, key) == 0)
			found = n;
	}
	fclose(f);
	return found != 0 ? found : (eof ? n : 0);
}

static int __rte_format_printf(4, 5)
gw_cfg_err(const struct gw_cfg_ctx *x, const char *sec, const char *key, const char *fmt, ...)
{
	unsigned int line = gw_cfg_line(x->path, sec, key, sec == NULL || key == NULL);
	int k = snprintf(x->err, x->errlen, "%s:%u: ", x->path, line);
	va_list ap;

	if (k < 0 || (size_t)k >= x->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(x->err + k, x->errlen - k, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---------------------------------------------------------------------------------------
 * Value parsers: 0 on success, -1 on error
 */

static int
gw_parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
gw_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "on", "true", "1" };
	static const char *const no[] = { "no", "off", "false", "0" };
	unsigned int i;

	for (i = 0; i < RTE_DIM(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/* Time with an optional unit (ms, s, m, h; default seconds), to microseconds. */
static int
gw_parse_time(const char *s, uint64_t *us)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || !(v >= 0) || v > 1e9)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		v *= 1e6;
	else if (strcmp(end, "ms") == 0)
		v *= 1e3;
	else if (strcmp(end, "m") == 0)
		v *= 60e6;
	else if (strcmp(end, "h") == 0)
		v *= 3600e6;
	else
		return -1;
	*us = (uint64_t)(v + 0.5);
	return 0;
}

static int
gw_parse_addr(const char *s, uint32_t *addr)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*addr = a.s_addr;
	return 0;
}

static int
gw_parse_prefix(const char *s, uint32_t *addr, uint8_t *prefix)
{
	char buf[64];
	char *slash;
	uint32_t n = 32;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash = '\0';
		if (gw_parse_u32(slash + 1, 0, 32, &n) < 0)
			return -1;
	}
	if (gw_parse_addr(buf, addr) < 0)
		return -1;
	*prefix = (uint8_t)n;
	return 0;
}

static int
gw_parse_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	char buf[64];
	char *dash;
	uint32_t a, b;

	snprintf(buf, sizeof(buf), "%s", s);
	gw_trim(buf);
	dash = strchr(buf, '-');
	if (dash != NULL)
		*dash = '\0';
	if (gw_parse_u32(buf, 1, 65535, &a) < 0)
		return -1;
	b = a;
	if (dash != NULL && gw_parse_u32(dash + 1, 1, 65535, &b) < 0)
		return -1;
	if (a > b)
		return -1;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

static int
gw_parse_proto(const char *s, uint8_t *proto)
{
	uint32_t v;

	if (strcasecmp(s, "tcp") == 0)
		*proto = IPPROTO_TCP;
	else if (strcasecmp(s, "udp") == 0)
		*proto = IPPROTO_UDP;
	else if (strcasecmp(s, "icmp") == 0)
		*proto = IPPROTO_ICMP;
	else if (strcasecmp(s, "any") == 0)
		*proto = 0;
	else if (gw_parse_u32(s, 1, 255, &v) == 0)
		*proto = (uint8_t)v;
	else
		return -1;
	return 0;
}

/* "tcp 203.0.113.2:8080[-8090] -> 192.168.1.10:80" */
static int
gw_parse_fwd(const char *s, struct nat_fwd *f, const char **why)
{
	char buf[256], proto[16], ext[64], arrow[8], in[64], *colon;
	uint16_t lo, hi, ilo, ihi;

	snprintf(buf, sizeof(buf), "%s", s);
	if (sscanf(buf, "%15s %63s %7s %63s", proto, ext, arrow, in) != 4 ||
	    strcmp(arrow, "->") != 0) {
		*why = "want PROTO OUTADDR:PORT[-PORT] -> INADDR:PORT";
		return -1;
	}
	if (gw_parse_proto(proto, &f->proto) < 0 ||
	    (f->proto != IPPROTO_TCP && f->proto != IPPROTO_UDP)) {
		*why = "protocol must be tcp or udp";
		return -1;
	}
	colon = strchr(ext, ':');
	if (colon == NULL || (*colon = '\0', gw_parse_addr(ext, &f->ext_addr) < 0)) {
		*why = "bad outside address";
		return -1;
	}
	if (gw_parse_range(colon + 1, &lo, &hi) < 0) {
		*why = "bad outside port range";
		return -1;
	}
	colon = strchr(in, ':');
	if (colon == NULL || (*colon = '\0', gw_parse_addr(in, &f->int_addr) < 0)) {
		*why = "bad inside address";
		return -1;
	}
	if (gw_parse_range(colon + 1, &ilo, &ihi) < 0 || ilo != ihi ||
	    (uint32_t)ilo + (hi - lo) > 65535) {
		*why = "bad inside port (one port; the range maps 1:1 from it)";
		return -1;
	}
	f->ext_lo = lo;
	f->ext_hi = hi;
	f->int_port = ilo;
	return 0;
}

int
gw_config_parse_fwd(const char *spec, struct nat_fwd *f, char *err, size_t errlen)
{
	const char *why = NULL;

	memset(f, 0, sizeof(*f));
	if (gw_parse_fwd(spec, f, &why) < 0) {
		snprintf(err, errlen, "forward '%s': %s", spec, why);
		return -1;
	}
	return 0;
}

/* "PROTO LO[-HI] -> PROTO|both LO[-HI] [timeout SECONDS]" ([trigger], nat.h) */
static int
gw_parse_trigger(const char *s, struct nat_trigger *t, const char **why)
{
	char buf[256], proto[16], ports[32], arrow[8], oproto[16], oports[32], kw[16], secs[32];
	int n;

	snprintf(buf, sizeof(buf), "%s", s);
	n = sscanf(buf, "%15s %31s %7s %15s %31s %15s %31s", proto, ports, arrow, oproto,
		   oports, kw, secs);
	if ((n != 5 && n != 7) || strcmp(arrow, "->") != 0 ||
	    (n == 7 && strcmp(kw, "timeout") != 0)) {
		*why = "want PROTO PORT[-PORT] -> PROTO|both PORT[-PORT] [timeout SECONDS]";
		return -1;
	}
	if (gw_parse_proto(proto, &t->proto) < 0 ||
	    (t->proto != IPPROTO_TCP && t->proto != IPPROTO_UDP)) {
		*why = "trigger protocol must be tcp or udp";
		return -1;
	}
	if (strcasecmp(oproto, "both") == 0)
		t->open_proto = 0;
	else if (gw_parse_proto(oproto, &t->open_proto) < 0 ||
		 (t->open_proto != IPPROTO_TCP && t->open_proto != IPPROTO_UDP)) {
		*why = "opened protocol must be tcp, udp or both";
		return -1;
	}
	if (gw_parse_range(ports, &t->lo, &t->hi) < 0 ||
	    gw_parse_range(oports, &t->open_lo, &t->open_hi) < 0) {
		*why = "bad port range (1-65535, LO <= HI)";
		return -1;
	}
	t->timeout_s = 600;
	if (n == 7 && gw_parse_u32(secs, 1, 86400, &t->timeout_s) < 0) {
		*why = "timeout: want 1..86400 seconds";
		return -1;
	}
	return 0;
}

/*
 * "PROTO [dport LO[-HI]] [sport LO[-HI]] [host ADDR[/N]] [inside ADDR[/N]]
 *  [direction out|in|both] [private yes|no]" (docs/config.md [untracked]).
 */
static int
gw_parse_untracked(const char *s, struct gw_untracked *u)
{
	char buf[256], *tok, *save = NULL;
	uint8_t prefix;

	memset(u, 0, sizeof(*u));
	u->dir = GW_UT_OUT;
	snprintf(buf, sizeof(buf), "%s", s);
	tok = strtok_r(buf, " \t", &save);
	if (tok == NULL || gw_parse_proto(tok, &u->proto) < 0)
		return -1;
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
		char *arg = strtok_r(NULL, " \t", &save);

		if (arg == NULL)
			return -1;
		if (strcasecmp(tok, "dport") == 0) {
			if (gw_parse_range(arg, &u->port_lo, &u->port_hi) < 0)
				return -1;
		} else if (strcasecmp(tok, "sport") == 0) {
			if (gw_parse_range(arg, &u->sport_lo, &u->sport_hi) < 0)
				return -1;
		} else if (strcasecmp(tok, "host") == 0) {
			if (gw_parse_prefix(arg, &u->addr, &prefix) < 0)
				return -1;
			u->mask = gw_prefix_mask(prefix);
			u->addr &= u->mask;
		} else if (strcasecmp(tok, "inside") == 0) {
			if (gw_parse_prefix(arg, &u->in_addr, &prefix) < 0)
				return -1;
			u->in_mask = gw_prefix_mask(prefix);
			u->in_addr &= u->in_mask;
		} else if (strcasecmp(tok, "direction") == 0) {
			if (strcasecmp(arg, "out") == 0)
				u->dir = GW_UT_OUT;
			else if (strcasecmp(arg, "in") == 0)
				u->dir = GW_UT_IN;
			else if (strcasecmp(arg, "both") == 0)
				u->dir = GW_UT_BOTH;
			else
				return -1;
		} else if (strcasecmp(tok, "private") == 0) {
			if (gw_parse_bool(arg, &u->private_ok) < 0)
				return -1;
		} else {
			return -1;
		}
	}
	/* ports only mean something for TCP and UDP */
	if ((u->port_hi != 0 || u->sport_hi != 0) && u->proto != 0 &&
	    u->proto != IPPROTO_TCP && u->proto != IPPROTO_UDP)
		return -1;
	return 0;
}

/* "PREFIX/LEN via ADDR[, PREFIX/LEN via ADDR ...]" ([inside] routes) */
static int
gw_parse_routes(const char *s, struct gw_config *c, const char **why)
{
	char buf[1024], *item, *save = NULL;

	if (strlen(s) >= sizeof(buf)) {
		*why = "too long";
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	c->n_routes = 0;
	for (item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
		char pfx[64], kw[8], via[64], extra[2];
		struct gw_route *r;
		uint8_t len;

		if (c->n_routes == GW_MAX_ROUTES) {
			*why = "too many routes";
			return -1;
		}
		r = &c->routes[c->n_routes];
		if (sscanf(item, "%63s %7s %63s %1s", pfx, kw, via, extra) != 3 ||
		    strcmp(kw, "via") != 0) {
			*why = "want PREFIX/LEN via ADDR";
			return -1;
		}
		if (gw_parse_prefix(pfx, &r->addr, &len) < 0 || strchr(pfx, '/') == NULL ||
		    len == 0) {
			*why = "bad prefix (want A.B.C.D/LEN, LEN 1..32)";
			return -1;
		}
		r->mask = gw_prefix_mask(len);
		if ((r->addr & ~r->mask) != 0) {
			*why = "prefix has host bits set";
			return -1;
		}
		if (gw_parse_addr(via, &r->via) < 0 || r->via == 0) {
			*why = "bad next hop address";
			return -1;
		}
		c->n_routes++;
	}
	if (c->n_routes == 0) {
		*why = "empty";
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Sections
 */

#define BAD(fmt, ...) gw_cfg_err(x, sec, key, fmt, ##__VA_ARGS__)

static int
gw_cfg_ports(const struct gw_cfg_ctx *x, struct gw_config *c, const char *sec,
	     const char *key, const char *val)
{
	unsigned int p;

	if (strcmp(key, "inside") == 0)
		p = GW_PORT_INSIDE;
	else if (strcmp(key, "outside") == 0)
		p = GW_PORT_OUTSIDE;
	else
		return BAD("unknown key '%s' in [%s]", key, sec);
	if (val[0] == '\0' || strlen(val) >= sizeof(c->ifc[p].port))
		return BAD("%s: want a port id or device name", key);
	snprintf(c->ifc[p].port, sizeof(c->ifc[p].port), "%s", val);
	return 0;
}

static int
gw_cfg_if(const struct gw_cfg_ctx *x, struct gw_config *c, unsigned int p, const char *sec,
	  const char *key, const char *val)
{
	struct gw_if_config *i = &c->ifc[p];
	uint32_t v;

	if (strcmp(key, "address") == 0) {
		if (gw_parse_prefix(val, &i->addr, &i->prefix) < 0 || i->addr == 0 ||
		    i->prefix == 0 || i->prefix > 31)	/* /31: RFC 3021 point-to-point */
			return BAD("address: want A.B.C.D/LEN (LEN 1..31), got '%s'", val);
	} else if (strcmp(key, "gateway") == 0 && p == GW_PORT_OUTSIDE) {
		if (gw_parse_addr(val, &i->gateway) < 0)
			return BAD("gateway: bad address '%s'", val);
	} else if (strcmp(key, "routes") == 0 && p == GW_PORT_INSIDE) {
		const char *why = "";

		if (gw_parse_routes(val, c, &why) < 0)
			return BAD("routes: %s in '%s'", why, val);
	} else if (strcmp(key, "mtu") == 0) {
		if (gw_parse_u32(val, 576, 9000, &v) < 0)
			return BAD("mtu: want 576..9000, got '%s'", val);
		i->mtu = (uint16_t)v;
	} else if (strcmp(key, "vlan") == 0) {
		/* 802.1Q VID: 0 is "no VLAN" (priority tag), 4095 reserved (802.1Q 9.6) */
		if (strcmp(val, "none") == 0)
			v = 0;
		else if (gw_parse_u32(val, 1, 4094, &v) < 0)
			return BAD("vlan: want 1..4094 or none, got '%s'", val);
		i->vlan = (uint16_t)v;
	} else if (strcmp(key, "mac") == 0) {
		if (rte_ether_unformat_addr(val, &i->mac) < 0)
			return BAD("mac: want XX:XX:XX:XX:XX:XX, got '%s'", val);
		i->mac_set = true;
	} else if (gw_ip6_config_key(key)) {
		char why[160];

		if (gw_ip6_config_set(c, p, key, val, why, sizeof(why)) < 0)	/* gw_ip6.c */
			return BAD("%s", why);
	} else {
		return BAD("unknown key '%s' in [%s]", key, sec);
	}
	return 0;
}

static int
gw_cfg_nat(const struct gw_cfg_ctx *x, struct gw_config *c, const char *sec,
	   const char *key, const char *val)
{
	struct nat_config *n = &c->nat;
	char buf[1024], *tok, *save = NULL;
	uint16_t lo, hi;
	unsigned int i;
	bool b;

	if (strcmp(key, "pool") == 0) {
		snprintf(buf, sizeof(buf), "%s", val);
		n->n_addrs = 0;
		for (tok = strtok_r(buf, ", \t", &save); tok != NULL;
		     tok = strtok_r(NULL, ", \t", &save)) {
			if (n->n_addrs == NAT_MAX_ADDRS)
				return BAD("pool: more than %u addresses", NAT_MAX_ADDRS);
			if (gw_parse_addr(tok, &n->addrs[n->n_addrs]) < 0 ||
			    n->addrs[n->n_addrs] == 0)
				return BAD("pool: bad address '%s'", tok);
			n->n_addrs++;
		}
		if (n->n_addrs == 0)
			return BAD("pool: empty");
	} else if (strcmp(key, "ports") == 0) {
		if (gw_parse_range(val, &lo, &hi) < 0)
			return BAD("ports: want LO-HI within 1-65535, LO <= HI, got '%s'", val);
		for (i = 0; i < NAT_MAX_ADDRS; i++) {
			n->port_lo[i] = lo;
			n->port_hi[i] = hi;
		}
	} else if (strcmp(key, "mapping") == 0) {
		if (strcmp(val, "endpoint-independent") == 0)
			n->mapping = NAT_MAP_EIM;
		else if (strcmp(val, "address-and-port-dependent") == 0)
			n->mapping = NAT_MAP_APDM;
		else
			return BAD("mapping: want endpoint-independent or "
				   "address-and-port-dependent, got '%s'", val);
	} else if (strcmp(key, "filtering") == 0) {
		if (strcmp(val, "address-and-port-dependent") == 0)
			n->filtering = NAT_FILTER_APDF;
		else if (strcmp(val, "address-dependent") == 0)
			n->filtering = NAT_FILTER_ADF;
		else if (strcmp(val, "endpoint-independent") == 0)
			n->filtering = NAT_FILTER_EIF;
		else
			return BAD("filtering: want address-and-port-dependent, address-dependent "
				   "or endpoint-independent, got '%s'", val);
	} else if (strcmp(key, "port_preserve") == 0 || strcmp(key, "paired") == 0 ||
		   strcmp(key, "hairpin") == 0) {
		if (gw_parse_bool(val, &b) < 0)
			return BAD("%s: want yes or no, got '%s'", key, val);
		if (key[0] == 'p' && key[1] == 'o')
			n->port_preserve = b;
		else if (key[0] == 'p')
			n->paired = b;
		else
			n->hairpin = b;
	} else if (strcmp(key, "max_mappings") == 0) {
		if (gw_parse_u32(val, 1, 1u << 30, &n->max_mappings) < 0)
			return BAD("max_mappings: want 1..2^30, got '%s'", val);
	} else if (strcmp(key, "max_hosts") == 0) {
		/* per-host records per worker (lib/nat/nat_host.c); auto: capacity / 16 */
		if (strcmp(val, "auto") == 0)
			n->max_hosts = 0;
		else if (gw_parse_u32(val, 1, 1u << 30, &n->max_hosts) < 0)
			return BAD("max_hosts: want auto or 1..2^30, got '%s'", val);
	} else if (strcmp(key, "max_conns_per_host") == 0 ||
		   strcmp(key, "max_inbound_conns_per_host") == 0 ||
		   strcmp(key, "max_ports_per_host") == 0) {
		/* RFC 6888 REQ-4/5 (lib/nat/nat_host.c): auto = a quarter of the resource
		 * (inbound: max_conns_per_host's value) */
		bool conns = strcmp(key, "max_ports_per_host") != 0;
		uint32_t *lim = !conns ? &n->max_ports_per_host :
				key[4] == 'i' ? &n->max_inbound_conns_per_host :
				&n->max_conns_per_host;
		uint32_t hi = conns ? 1u << 30 : 65536;

		if (strcmp(val, "auto") == 0)
			*lim = NAT_LIMIT_AUTO;
		else if (strcmp(val, "unlimited") == 0)
			*lim = NAT_LIMIT_NONE;
		else if (gw_parse_u32(val, 1, hi, lim) < 0)
			return BAD("%s: want auto, unlimited or 1..%u, got '%s'", key, hi, val);
	} else if (strcmp(key, "rss_steering") == 0) {
		/* lib/nat/nat_rss.c; app/natgw_port.c says per port whether it applies */
		if (strcmp(val, "auto") != 0 && strcmp(val, "off") != 0)
			return BAD("rss_steering: want auto or off, got '%s'", val);
		c->rss_off = val[0] == 'o';
	} else if (strcmp(key, "rss_port_choice") == 0) {
		if (strcmp(val, "steer") != 0 && strcmp(val, "preserve") != 0)
			return BAD("rss_port_choice: want steer or preserve, got '%s'", val);
		n->rss_preserve = val[0] == 'p';
	} else if (strcmp(key, "rss_key") == 0) {
		size_t len = strlen(val);

		c->rss_key_len = 0;
		if (strcmp(val, "random") == 0)
			return 0;
		if (len != 80 && len != 104)
			return BAD("rss_key: want random or 80 / 104 hex digits (40 / 52 bytes), "
				   "got %zu characters", len);
		for (i = 0; i < len / 2; i++) {
			unsigned int byte;

			if (!isxdigit((unsigned char)val[2 * i]) ||
			    !isxdigit((unsigned char)val[2 * i + 1]) ||
			    sscanf(val + 2 * i, "%2x", &byte) != 1)
				return BAD("rss_key: '%s' is not hex", val);
			c->rss_key[i] = (uint8_t)byte;
		}
		c->rss_key_len = (uint8_t)(len / 2);
	} else {
		return BAD("unknown key '%s' in [%s]", key, sec);
	}
	return 0;
}

static int
gw_cfg_conntrack(const struct gw_cfg_ctx *x, struct gw_config *c, const char *sec,
		 const char *key, const char *val)
{
	uint64_t us;
	int cl;

	if (strcmp(key, "capacity") == 0) {
		if (gw_parse_u32(val, 16, 1u << 26, &c->capacity) < 0)
			return BAD("capacity: want 16..67108864, got '%s'", val);
	} else if (strcmp(key, "tcp_liberal") == 0) {
		if (gw_parse_bool(val, &c->tcp_liberal) < 0)
			return BAD("tcp_liberal: want yes or no, got '%s'", val);
	} else if (strcmp(key, "tcp_loose") == 0) {
		if (gw_parse_bool(val, &c->tcp_loose) < 0)
			return BAD("tcp_loose: want yes or no, got '%s'", val);
	} else if (strcmp(key, "accounting") == 0) {
		if (gw_parse_bool(val, &c->ct_accounting) < 0)
			return BAD("accounting: want yes or no, got '%s'", val);
	} else if (strncmp(key, "timeout.", 8) == 0) {
		cl = ct_tclass_by_name(key + 8);
		if (cl < 0)
			return BAD("unknown timeout class '%s' (see ct.h CT_FOREACH_TCLASS)",
				   key + 8);
		if (gw_parse_time(val, &us) < 0 || us == 0)
			return BAD("%s: want a time > 0 (30, 30s, 500ms, 5m, 2h), got '%s'",
				   key, val);
		if (us > CT_TIMEOUT_MAX)
			return BAD("%s: at most %" PRIu64 " s (2^30 ms, 12.4 days), got '%s'",
				   key, CT_TIMEOUT_MAX / CT_USEC_PER_SEC, val);
		c->timeouts.t[cl] = us;
	} else {
		return BAD("unknown key '%s' in [%s]", key, sec);
	}
	return 0;
}

static int
gw_cfg_workers(const struct gw_cfg_ctx *x, struct gw_config *c, const char *sec,
	       const char *key, const char *val)
{
	uint32_t v;

	if (strcmp(key, "idle_sleep_us") == 0) {
		if (gw_parse_u32(val, 0, 1000000, &c->idle_sleep_us) < 0)
			return BAD("idle_sleep_us: want 0..1000000, got '%s'", val);
	} else if (strcmp(key, "idle_polls") == 0) {
		if (gw_parse_u32(val, 1, 1000000, &c->idle_polls) < 0)
			return BAD("idle_polls: want 1..1000000, got '%s'", val);
	} else if (strcmp(key, "burst") == 0) {
		if (gw_parse_u32(val, 1, GW_BURST_MAX, &v) < 0)
			return BAD("burst: want 1..%u, got '%s'", GW_BURST_MAX, val);
		c->burst = (uint16_t)v;
	} else if (strcmp(key, "stats_interval") == 0) {
		if (gw_parse_u32(val, 0, 86400, &c->stats_interval) < 0)
			return BAD("stats_interval: want 0..86400 seconds, got '%s'", val);
	} else if (strcmp(key, "fast_path") == 0) {
		if (gw_parse_bool(val, &c->fast_path) < 0)
			return BAD("fast_path: want yes or no, got '%s'", val);
	} else {
		return BAD("unknown key '%s' in [%s]", key, sec);
	}
	return 0;
}

static int
gw_cfg_arp(const struct gw_cfg_ctx *x, struct gw_config *c, const char *sec,
	   const char *key, const char *val)
{
	char buf[1024], *tok, *save = NULL;
	uint64_t us;
	uint32_t v;

	if (strcmp(key, "timeout") == 0) {
		if (gw_parse_time(val, &us) < 0 || us < CT_USEC_PER_SEC)
			return BAD("timeout: want >= 1s, got '%s'", val);
		c->arp_timeout_s = (uint32_t)(us / CT_USEC_PER_SEC);
	} else if (strcmp(key, "hold") == 0) {
		if (gw_parse_u32(val, 0, GW_ARP_HOLD_MAX, &v) < 0)
			return BAD("hold: want 0..%u, got '%s'", GW_ARP_HOLD_MAX, val);
		c->arp_hold = (uint16_t)v;
	} else if (strcmp(key, "retry") == 0) {
		if (gw_parse_time(val, &us) < 0 || us < 1000)
			return BAD("retry: want >= 1ms, got '%s'", val);
		c->arp_retry_ms = (uint32_t)(us / 1000);
	} else if (strcmp(key, "entries") == 0) {
		if (gw_parse_u32(val, GW_ARP_ENTRIES_MIN, GW_ARP_ENTRIES_MAX, &v) < 0)
			return BAD("entries: want %u..%u, got '%s'", GW_ARP_ENTRIES_MIN,
				   GW_ARP_ENTRIES_MAX, val);
		c->arp_entries = v;
	} else if (strcmp(key, "hold_total") == 0) {
		if (gw_parse_u32(val, 0, GW_ARP_HOLD_TOTAL_MAX, &v) < 0)
			return BAD("hold_total: want 0..%u, got '%s'", GW_ARP_HOLD_TOTAL_MAX, val);
		c->arp_hold_total = v;
	} else if (strcmp(key, "static") == 0) {
		/* "IP MAC, IP MAC" */
		snprintf(buf, sizeof(buf), "%s", val);
		for (tok = strtok_r(buf, ",", &save); tok != NULL;
		     tok = strtok_r(NULL, ",", &save)) {
			char ip[64], mac[64];

			if (c->n_arp_static == GW_MAX_ARP_STATIC)
				return BAD("static: more than %u entries", GW_MAX_ARP_STATIC);
			if (sscanf(tok, "%63s %63s", ip, mac) != 2 ||
			    gw_parse_addr(ip, &c->arp_static[c->n_arp_static].ip) < 0 ||
			    rte_ether_unformat_addr(mac, &c->arp_static[c->n_arp_static].mac) < 0)
				return BAD("static: want 'IP MAC[, IP MAC...]', got '%s'", tok);
			c->n_arp_static++;
		}
	} else {
		return BAD("unknown key '%s' in [%s]", key, sec);
	}
	return 0;
}

static int
gw_cfg_frag(const struct gw_cfg_ctx *x, struct gw_config *c, const char *sec,
	    const char *key, const char *val)
{
	uint64_t us;

	if (strcmp(key, "max_flows") == 0) {
		if (gw_parse_u32(val, 16, 1u << 20, &c->frag_max_flows) < 0)
			return BAD("max_flows: want 16..1048576, got '%s'", val);
	} else if (strcmp(key, "timeout") == 0) {
		if (gw_parse_time(val, &us) < 0 || us < 1000 || us > 120 * CT_USEC_PER_SEC)
			return BAD("timeout: want 1ms..120s, got '%s'", val);
		c->frag_timeout_ms = (uint32_t)(us / 1000);
	} else if (strcmp(key, "max_mbufs") == 0) {
		if (gw_parse_u32(val, 16, 1u << 20, &c->frag_max_mbufs) < 0)
			return BAD("max_mbufs: want 16..1048576, got '%s'", val);
	} else if (strcmp(key, "max_per_source") == 0) {
		if (gw_parse_u32(val, 1, 65535, &c->frag_max_per_src) < 0)
			return BAD("max_per_source: want 1..65535, got '%s'", val);
	} else {
		return BAD("unknown key '%s' in [%s]", key, sec);
	}
	return 0;
}

/* [filter] rules = FILE: the ruleset (lib/ruleset, docs/config.md "Ruleset"), a path
 * relative to the configuration file's folder unless absolute; compiled here once so that a
 * bad ruleset fails the load (and --check-config) with its FILE:LINE:COL message. */
static int
gw_cfg_filter(const struct gw_cfg_ctx *x, struct gw_config *c, const char *sec,
	      const char *key, const char *val)
{
	const char *slash = strrchr(x->path, '/');
	struct rs_ruleset *rs;
	char msg[512];
	int n;

	if (strcmp(key, "rules") != 0)
		return BAD("unknown key '%s' in [filter]", key);
	if (val[0] == '\0')
		return BAD("rules: want a file name");
	if (val[0] == '/' || slash == NULL)
		n = snprintf(c->rules_path, sizeof(c->rules_path), "%s", val);
	else
		n = snprintf(c->rules_path, sizeof(c->rules_path), "%.*s/%s",
			     (int)(slash - x->path), x->path, val);
	if (n < 0 || (size_t)n >= sizeof(c->rules_path))
		return BAD("rules: path longer than %zu bytes", sizeof(c->rules_path) - 1);
	rs = rs_load_file(c->rules_path, 1, msg, sizeof(msg));
	if (rs == NULL)
		return BAD("rules: %s", msg);
	rs_free(rs);
	return 0;
}

static int
gw_cfg_entry(const struct gw_cfg_ctx *x, struct gw_config *c, const char *sec,
	     const char *key, const char *val)
{
	char msg[256];
	const char *why = NULL;

	if (strcmp(sec, "ports") == 0)
		return gw_cfg_ports(x, c, sec, key, val);
	if (strcmp(sec, "inside") == 0)
		return gw_cfg_if(x, c, GW_PORT_INSIDE, sec, key, val);
	if (strcmp(sec, "outside") == 0)
		return gw_cfg_if(x, c, GW_PORT_OUTSIDE, sec, key, val);
	if (strcmp(sec, "nat") == 0)
		return gw_cfg_nat(x, c, sec, key, val);
	if (strcmp(sec, "forward") == 0) {
		if (c->n_fwds == GW_MAX_FWDS)
			return BAD("more than %u forwards", GW_MAX_FWDS);
		if (gw_parse_fwd(val, &c->fwds[c->n_fwds], &why) < 0)
			return BAD("forward '%s': %s", key, why);
		c->n_fwds++;
		return 0;
	}
	if (strcmp(sec, "trigger") == 0) {
		if (c->nat.n_triggers == NAT_MAX_TRIGGERS)
			return BAD("more than %u port triggers", NAT_MAX_TRIGGERS);
		if (gw_parse_trigger(val, &c->nat.triggers[c->nat.n_triggers], &why) < 0)
			return BAD("trigger '%s': %s", key, why);
		c->nat.n_triggers++;
		return 0;
	}
	if (strcmp(sec, "untracked") == 0) {
		if (c->n_untracked == 0)
			fprintf(stderr, "natgw: %s: [untracked] is deprecated: write `notrack` "
				"rules in the ruleset instead ([filter] rules, docs/config.md "
				"\"Ruleset\")\n", x->path);
		if (c->n_untracked == GW_MAX_UNTRACKED)
			return BAD("more than %u untracked rules", GW_MAX_UNTRACKED);
		if (gw_parse_untracked(val, &c->untracked[c->n_untracked]) < 0)
			return BAD("untracked '%s': want PROTO [dport LO[-HI]] [sport LO[-HI]] "
				   "[host ADDR[/LEN]] [inside ADDR[/LEN]] [direction out|in|both] "
				   "[private yes|no] (ports: tcp/udp only)", key);
		c->n_untracked++;
		return 0;
	}
	if (strcmp(sec, "conntrack") == 0)
		return gw_cfg_conntrack(x, c, sec, key, val);
	if (strcmp(sec, "workers") == 0)
		return gw_cfg_workers(x, c, sec, key, val);
	if (strcmp(sec, "arp") == 0)
		return gw_cfg_arp(x, c, sec, key, val);
	if (strcmp(sec, "fragments") == 0)
		return gw_cfg_frag(x, c, sec, key, val);
	if (strcmp(sec, "nat64") == 0) {	/* gw_nat64.c */
		if (gw_nat64_config_set(c, key, val, msg, sizeof(msg)) < 0)
			return BAD("%s", msg);
		return 0;
	}
	if (strcmp(sec, "helpers") == 0) {
		/* data connections to inside ports < 1024 (NAT slipstreaming: off) */
		if (strcmp(key, "privileged_data_ports") == 0) {
			if (gw_parse_bool(val, &c->helpers.allow_priv_ports) < 0)
				return BAD("%s: want yes or no", key);
			return 0;
		}
		/* table sizes per worker, and one host's share of them (lib/helpers) */
		if (strcmp(key, "max_expect") == 0 || strcmp(key, "max_conns") == 0) {
			uint32_t *v = key[4] == 'e' ? &c->helpers.max_expect :
				      &c->helpers.max_conns;

			if (gw_parse_u32(val, 1, 1u << 24, v) < 0)
				return BAD("%s: want 1..%u, got '%s'", key, 1u << 24, val);
			return 0;
		}
		if (strcmp(key, "max_expect_per_host") == 0 ||
		    strcmp(key, "max_conns_per_host") == 0) {
			uint32_t *v = key[4] == 'e' ? &c->helpers.max_expect_per_host :
				      &c->helpers.max_conns_per_host;

			if (strcmp(val, "auto") == 0)
				*v = HELPER_LIMIT_AUTO;
			else if (strcmp(val, "unlimited") == 0)
				*v = HELPER_LIMIT_NONE;
			else if (gw_parse_u32(val, 1, 1u << 24, v) < 0)
				return BAD("%s: want auto, unlimited or 1..%u, got '%s'", key,
					   1u << 24, val);
			return 0;
		}
		if (helper_config_set(&c->helpers, key, val, msg, sizeof(msg)) < 0)
			return BAD("%s", msg);
		return 0;
	}
	if (strcmp(sec, "filter") == 0)
		return gw_cfg_filter(x, c, sec, key, val);
	if (strcmp(sec, "control") == 0) {
		/* the control socket (app/gw_ctl.c, docs/operations.md) */
		if (strcmp(key, "socket") != 0)
			return gw_cfg_err(x, sec, key, "unknown key '%s' in [control]", key);
		if (val[0] != '/' && strcmp(val, "off") != 0)
			return BAD("socket: want an absolute path or off, got '%s'", val);
		if (strlen(val) >= sizeof(c->ctl_socket))
			return BAD("socket: path longer than %zu bytes", sizeof(c->ctl_socket) - 1);
		snprintf(c->ctl_socket, sizeof(c->ctl_socket), "%s", val);
		return 0;
	}
	if (strcmp(sec, "log") == 0) {
		/* connection events and NAT logging (app/gw_event.h) */
		if (gw_log_config_set(&c->log, key, val, msg, sizeof(msg)) < 0)
			return BAD("%s", msg);
		return 0;
	}
	return gw_cfg_err(x, sec, NULL, "unknown section [%s]", sec);
}

static bool
gw_cfg_known_section(const char *sec)
{
	static const char *const known[] = {
		"ports", "inside", "outside", "nat", "forward", "trigger", "untracked", "conntrack",
		"workers", "arp", "fragments", "helpers", "log", "control", "filter", "nat64",
	};
	unsigned int i;

	for (i = 0; i < RTE_DIM(known); i++)
		if (strcmp(sec, known[i]) == 0)
			return true;
	return false;
}

void
gw_config_default(struct gw_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->ifc[GW_PORT_INSIDE].port, sizeof(c->ifc[0].port), "0");
	snprintf(c->ifc[GW_PORT_OUTSIDE].port, sizeof(c->ifc[1].port), "1");
	c->ifc[GW_PORT_INSIDE].mtu = 1500;
	c->ifc[GW_PORT_OUTSIDE].mtu = 1500;
	nat_config_default(&c->nat);
	c->capacity = 65536;
	c->tcp_loose = true;
	ct_timeouts_default(&c->timeouts);
	gw_log_config_default(&c->log);
	c->idle_sleep_us = 50;
	c->fast_path = true;
	c->idle_polls = 100;
	c->burst = 32;
	c->arp_timeout_s = 300;
	c->arp_hold = 4;
	c->arp_retry_ms = 1000;
	c->arp_entries = 4096;
	c->arp_hold_total = 256;
	c->frag_max_flows = 4096;
	c->frag_timeout_ms = 2000;
	c->frag_max_mbufs = 1024;	/* per port: ~3 MB of 1500-byte fragments (Linux: 4 MB) */
	c->frag_max_per_src = 256;	/* 32 datagrams of 8 fragments */
	helper_config_default(&c->helpers);
	gw_nat64_config_default(c);	/* [nat64]: off */
}

int
gw_config_load(struct gw_config *c, const char *path, char *err, size_t errlen)
{
	static const char *const required[] = { "ports", "inside", "outside" };
	struct gw_cfg_ctx x = { .path = path, .err = err, .errlen = errlen };
	struct rte_cfgfile_entry *ent = NULL;
	struct rte_cfgfile *f;
	char **names = NULL;
	int ns, i, j, ne, rc = -1;
	char sec[CFG_NAME_LEN];

	snprintf(c->path, sizeof(c->path), "%s", path);
	/* rte_cfgfile skips some malformed lines silently: find them first */
	ns = (int)gw_cfg_line(path, NULL, NULL, false);
	if (ns != 0) {
		snprintf(err, errlen, "%s:%d: syntax error (want [section] or key = value)",
			 path, ns);
		return -1;
	}
	f = rte_cfgfile_load(path, 0);
	if (f == NULL) {
		FILE *t = fopen(path, "r");

		if (t == NULL) {
			snprintf(err, errlen, "%s:0: cannot open: %s", path, strerror(errno));
			return -1;
		}
		fclose(t);
		snprintf(err, errlen, "%s:%u: syntax error (want [section] or key = value)",
			 path, gw_cfg_line(path, NULL, NULL, true));
		return -1;
	}
	ns = rte_cfgfile_num_sections(f, NULL, 0);
	names = calloc(ns + 1, sizeof(*names));
	ent = calloc(GW_CFG_MAX_ENTRIES, sizeof(*ent));
	if (names == NULL || ent == NULL) {
		snprintf(err, errlen, "%s:0: out of memory", path);
		goto out;
	}
	for (i = 0; i < ns; i++) {
		names[i] = malloc(CFG_NAME_LEN);
		if (names[i] == NULL)
			goto out;
	}
	rte_cfgfile_sections(f, names, ns);
	for (i = 0; i < (int)RTE_DIM(required); i++)
		if (!rte_cfgfile_has_section(f, required[i])) {
			snprintf(err, errlen, "%s:%u: missing section [%s]", path,
				 gw_cfg_line(path, "", "", true), required[i]);
			goto out;
		}
	for (i = 0; i < ns; i++) {
		snprintf(sec, sizeof(sec), "%s", names[i]);
		ne = rte_cfgfile_section_entries(f, sec, ent, GW_CFG_MAX_ENTRIES);
		if (ne < 0) {
			gw_cfg_err(&x, sec, NULL, "cannot read section");
			goto out;
		}
		if (!gw_cfg_known_section(sec)) {
			gw_cfg_err(&x, sec, NULL, "unknown section [%s]", sec);
			goto out;
		}
		for (j = 0; j < ne; j++) {
			char val[CFG_VALUE_LEN];

			snprintf(val, sizeof(val), "%s", ent[j].value);
			gw_trim(val);
			if (gw_cfg_entry(&x, c, sec, ent[j].name, val) < 0)
				goto out;
		}
	}
	if (c->nat.n_addrs == 0 && c->ifc[GW_PORT_OUTSIDE].addr != 0) {
		c->nat.addrs[0] = c->ifc[GW_PORT_OUTSIDE].addr;	/* pool default */
		c->nat.n_addrs = 1;
	}
	rc = 0;
out:
	if (names != NULL)
		for (i = 0; i < ns; i++)
			free(names[i]);
	free(names);
	free(ent);
	rte_cfgfile_close(f);
	return rc;
}

int
gw_config_timeout(struct gw_config *c, const char *spec, char *err, size_t errlen)
{
	char name[64];
	const char *eq = strchr(spec, '=');
	uint64_t us;
	int cl;

	if (eq == NULL || (size_t)(eq - spec) >= sizeof(name)) {
		snprintf(err, errlen, "--timeout %s: want CLASS=SECONDS", spec);
		return -1;
	}
	memcpy(name, spec, eq - spec);
	name[eq - spec] = '\0';
	cl = ct_tclass_by_name(name);
	if (cl < 0 || gw_parse_time(eq + 1, &us) < 0 || us == 0) {
		snprintf(err, errlen, "--timeout %s: want CLASS=TIME with a class of ct.h "
			 "CT_FOREACH_TCLASS and a time > 0", spec);
		return -1;
	}
	c->timeouts.t[cl] = us;
	return 0;
}

int
gw_config_check(const struct gw_config *c, char *err, size_t errlen)
{
	struct gw_cfg_ctx x = { .path = c->path, .err = err, .errlen = errlen };
	const struct gw_if_config *in = &c->ifc[GW_PORT_INSIDE], *out = &c->ifc[GW_PORT_OUTSIDE];
	uint32_t im = gw_prefix_mask(in->prefix), om = gw_prefix_mask(out->prefix);
	unsigned int i, j;

	if (in->addr == 0)
		return gw_cfg_err(&x, "inside", NULL, "[inside] address is required");
	if (out->addr == 0)
		return gw_cfg_err(&x, "outside", NULL, "[outside] address is required");
	if (((in->addr ^ out->addr) & im) == 0)
		return gw_cfg_err(&x, "outside", "address",
				  "outside address is inside the inside network");
	/* router on a stick: one port, the sides told apart by their VLAN ids */
	if (strcmp(in->port, out->port) == 0 && (in->vlan == 0 || out->vlan == 0))
		return gw_cfg_err(&x, "ports", "outside", "inside and outside on one port "
				  "('%s') need [inside] vlan and [outside] vlan", in->port);
	if (strcmp(in->port, out->port) == 0 && in->vlan == out->vlan)
		return gw_cfg_err(&x, "outside", "vlan", "inside and outside on one port need "
				  "different vlan ids (both %u)", in->vlan);
	if (out->gateway != 0 && ((out->gateway ^ out->addr) & om) != 0)
		return gw_cfg_err(&x, "outside", "gateway", "gateway is not on the outside network");
	{
		const char *s6, *k6;
		char why6[160];

		if (gw_ip6_config_check(c, &s6, &k6, why6, sizeof(why6)) < 0)	/* gw_ip6.c */
			return gw_cfg_err(&x, s6, k6, "%s", why6);
		if (gw_nat64_config_check(c, &k6, why6, sizeof(why6)) < 0)	/* gw_nat64.c */
			return gw_cfg_err(&x, "nat64", k6, "%s", why6);
	}
	for (i = 0; i < c->n_routes; i++) {
		const struct gw_route *r = &c->routes[i];
		uint32_t m;

		if (((r->via ^ in->addr) & im) != 0 || r->via == in->addr)
			return gw_cfg_err(&x, "inside", "routes", "route %u: next hop is not a "
					  "host on the inside network", i + 1);
		/* overlap: the shorter of the two masks tells */
		m = r->mask & im;
		if (((r->addr ^ in->addr) & m) == 0)
			return gw_cfg_err(&x, "inside", "routes", "route %u overlaps the inside "
					  "network", i + 1);
		m = r->mask & om;
		if (((r->addr ^ out->addr) & m) == 0)
			return gw_cfg_err(&x, "inside", "routes", "route %u overlaps the outside "
					  "network", i + 1);
		for (j = 0; j < c->nat.n_addrs; j++)
			if (((c->nat.addrs[j] ^ r->addr) & r->mask) == 0)
				return gw_cfg_err(&x, "inside", "routes", "route %u covers pool "
						  "address %u", i + 1, j + 1);
	}
	for (i = 0; i < c->n_fwds; i++)
		if (!nat_is_outside_addr(&c->nat, c->fwds[i].ext_addr))
			return gw_cfg_err(&x, "forward", NULL,
					  "forward %u: outside address is not a pool address",
					  i + 1);
	return 0;
}

void
gw_config_print(FILE *f, const struct gw_config *c)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	unsigned int i;

	for (i = 0; i < GW_PORT_MAX; i++) {
		inet_ntop(AF_INET, &c->ifc[i].addr, a, sizeof(a));
		inet_ntop(AF_INET, &c->ifc[i].gateway, b, sizeof(b));
		fprintf(f, "  %-7s port %s address %s/%u mtu %u%s%s", gw_port_name(i),
			c->ifc[i].port, a, c->ifc[i].prefix, c->ifc[i].mtu,
			c->ifc[i].gateway != 0 ? " gateway " : "",
			c->ifc[i].gateway != 0 ? b : "");
		if (c->ifc[i].vlan != 0)
			fprintf(f, " vlan %u", c->ifc[i].vlan);
		if (c->ifc[i].prefix6 != 0) {	/* IPv6 (gw_ip6.c) */
			char a6[INET6_ADDRSTRLEN], g6[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, c->ifc[i].addr6, a6, sizeof(a6));
			inet_ntop(AF_INET6, c->ifc[i].gateway6, g6, sizeof(g6));
			fprintf(f, " address6 %s/%u%s%s%s", a6, c->ifc[i].prefix6,
				i == GW_PORT_OUTSIDE ? " gateway6 " : "",
				i == GW_PORT_OUTSIDE ? g6 : "", c->ifc[i].ra ? " ra" : "");
		}
		fputc('\n', f);
	}
	fprintf(f, "  nat pool:");
	for (i = 0; i < c->nat.n_addrs; i++) {
		inet_ntop(AF_INET, &c->nat.addrs[i], a, sizeof(a));
		fprintf(f, " %s:%u-%u", a, c->nat.port_lo[i], c->nat.port_hi[i]);
	}
	fprintf(f, "\n  nat: mapping %s, filtering %s, port_preserve %s, paired %s, hairpin %s\n",
		c->nat.mapping == NAT_MAP_EIM ? "endpoint-independent" :
						"address-and-port-dependent",
		c->nat.filtering == NAT_FILTER_APDF ? "address-and-port-dependent" :
		c->nat.filtering == NAT_FILTER_ADF ? "address-dependent" : "endpoint-independent",
		c->nat.port_preserve ? "yes" : "no", c->nat.paired ? "yes" : "no",
		c->nat.hairpin ? "yes" : "no");
	fprintf(f, "  nat rss: steering %s, port choice %s, key %s\n",
		c->rss_off ? "off" : "auto", c->nat.rss_preserve ? "preserve" : "steer",
		c->rss_key_len != 0 ? "configured" : "random");
	/* RFC 6888 REQ-4/5 limits as in force (lib/nat/nat_host.c resolves auto) */
	fprintf(f, "  nat per host: max %u connections, max %u ports per protocol\n",
		nat_limit_conns(&c->nat, c->capacity), nat_limit_ports(&c->nat));
	for (i = 0; i < c->n_fwds; i++) {
		const struct nat_fwd *fw = &c->fwds[i];

		inet_ntop(AF_INET, &fw->ext_addr, a, sizeof(a));
		inet_ntop(AF_INET, &fw->int_addr, b, sizeof(b));
		fprintf(f, "  forward %s %s:%u-%u -> %s:%u\n",
			fw->proto == IPPROTO_TCP ? "tcp" : "udp", a, fw->ext_lo, fw->ext_hi, b,
			fw->int_port);
	}
	fprintf(f, "  conntrack: capacity %u per worker, tcp_liberal %s, tcp_loose %s, "
		"accounting %s\n", c->capacity, c->tcp_liberal ? "yes" : "no",
		c->tcp_loose ? "yes" : "no", c->ct_accounting ? "yes" : "no");
	fprintf(f, "  untracked rules %u, inside routes %u, arp timeout %us hold %u, "
		"fragments %u flows %ums, held <= %u (%u per source)\n",
		c->n_untracked, c->n_routes, c->arp_timeout_s, c->arp_hold, c->frag_max_flows,
		c->frag_timeout_ms, c->frag_max_mbufs, c->frag_max_per_src);
	gw_log_config_print(f, &c->log);	/* [log] (app/gw_event.h) */
}
