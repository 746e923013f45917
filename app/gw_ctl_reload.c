/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_ctl_reload.c - reload (SIGHUP, `natgw-ctl reload`): read the configuration file again
 * (with the command line's overrides, main.c), validate all of it, and only then apply
 * what may change while sessions live; a file that fails anywhere changes nothing.
 *
 * Live: [forward] (published to the workers, gw_ctl_cmds.c), [conntrack] timeout.* (each
 * connection takes its class's new timeout at its next packet, as netfilter's sysctls),
 * [nat] max_conns_per_host / max_inbound_conns_per_host / max_ports_per_host, [helpers]
 * ports, privileged_data_ports and per-host shares, the ruleset ([filter] rules: the file is
 * compiled in the check step and installed, app/gw_rules.c, when its path or its bytes
 * changed, so an unchanged ruleset keeps its counters), and every section whose owner
 * registered a reload hook (gw_ctl_reload_hook: logging, the ruleset, ...). What sizes
 * memory, names a port or an address, or is read by the workers' loop without a ring
 * (ports, addresses, pool, capacity, tables, ARP, fragments, ...) is refused
 * with the key named: change it with a restart. The worker count is the EAL core list and
 * not in the file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_ctl_private.h"
#include "rs.h"

#define GW_CTL_MAX_HOOKS 16

struct gw_ctl_hook {
	char name[32];
	gw_ctl_reload_check_fn check;
	gw_ctl_reload_apply_fn apply;
	void *arg;
};

static struct gw_ctl_hook gw_ctl_hooks[GW_CTL_MAX_HOOKS];
static unsigned int gw_ctl_n_hooks;

int
gw_ctl_reload_hook(const char *name, gw_ctl_reload_check_fn check,
		   gw_ctl_reload_apply_fn apply, void *arg)
{
	struct gw_ctl_hook *h;

	if (name == NULL || strlen(name) >= sizeof(h->name))
		return -EINVAL;
	if (gw_ctl_n_hooks == GW_CTL_MAX_HOOKS)
		return -ENOSPC;
	h = &gw_ctl_hooks[gw_ctl_n_hooks++];
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->check = check;
	h->apply = apply;
	h->arg = arg;
	return 0;
}

const char *
gw_ctl_immutable_diff(const struct gw_config *a, const struct gw_config *b)
{
	static const char *const side[GW_PORT_MAX] = { "[inside]", "[outside]" };
	static char key[64];
	unsigned int p, i;

#define GW_DIFF(cond, k) do { if (cond) return (k); } while (0)
	GW_DIFF(strcmp(a->ifc[0].port, b->ifc[0].port) != 0, "[ports] inside");
	GW_DIFF(strcmp(a->ifc[1].port, b->ifc[1].port) != 0, "[ports] outside");
	for (p = 0; p < GW_PORT_MAX; p++) {
		const struct gw_if_config *x = &a->ifc[p], *y = &b->ifc[p];
		const char *k = NULL;

		if (x->addr != y->addr || x->prefix != y->prefix)
			k = "address";
		else if (x->gateway != y->gateway)
			k = "gateway";
		else if (x->mtu != y->mtu)
			k = "mtu";
		else if (x->vlan != y->vlan)
			k = "vlan";
		else if (x->mac_set != y->mac_set ||
			 (x->mac_set && !rte_is_same_ether_addr(&x->mac, &y->mac)))
			k = "mac";
		if (k != NULL) {
			snprintf(key, sizeof(key), "%s %s", side[p], k);
			return key;
		}
	}
	GW_DIFF(a->n_routes != b->n_routes ||
		memcmp(a->routes, b->routes, a->n_routes * sizeof(a->routes[0])) != 0,
		"[inside] routes");
	GW_DIFF(a->nat.n_addrs != b->nat.n_addrs ||
		memcmp(a->nat.addrs, b->nat.addrs, a->nat.n_addrs * sizeof(a->nat.addrs[0])) != 0,
		"[nat] pool");
	for (i = 0; i < a->nat.n_addrs; i++)
		GW_DIFF(a->nat.port_lo[i] != b->nat.port_lo[i] ||
			a->nat.port_hi[i] != b->nat.port_hi[i], "[nat] ports");
	GW_DIFF(a->nat.mapping != b->nat.mapping, "[nat] mapping");
	GW_DIFF(a->nat.filtering != b->nat.filtering, "[nat] filtering");
	GW_DIFF(a->nat.port_preserve != b->nat.port_preserve, "[nat] port_preserve");
	GW_DIFF(a->nat.paired != b->nat.paired, "[nat] paired");
	GW_DIFF(a->nat.hairpin != b->nat.hairpin, "[nat] hairpin");
	GW_DIFF(a->nat.max_mappings != b->nat.max_mappings, "[nat] max_mappings");
	GW_DIFF(a->nat.max_hosts != b->nat.max_hosts, "[nat] max_hosts");
	GW_DIFF(a->rss_off != b->rss_off, "[nat] rss_steering");
	GW_DIFF(a->nat.rss_preserve != b->nat.rss_preserve, "[nat] rss_port_choice");
	GW_DIFF(a->rss_key_len != b->rss_key_len ||
		memcmp(a->rss_key, b->rss_key, a->rss_key_len) != 0, "[nat] rss_key");
	GW_DIFF(a->capacity != b->capacity, "[conntrack] capacity");
	GW_DIFF(a->tcp_liberal != b->tcp_liberal, "[conntrack] tcp_liberal");
	GW_DIFF(a->tcp_loose != b->tcp_loose, "[conntrack] tcp_loose");
	GW_DIFF(a->ct_accounting != b->ct_accounting, "[conntrack] accounting");
	GW_DIFF(a->idle_sleep_us != b->idle_sleep_us, "[workers] idle_sleep_us");
	GW_DIFF(a->idle_polls != b->idle_polls, "[workers] idle_polls");
	GW_DIFF(a->burst != b->burst, "[workers] burst");
	GW_DIFF(a->arp_timeout_s != b->arp_timeout_s, "[arp] timeout");
	GW_DIFF(a->arp_hold != b->arp_hold, "[arp] hold");
	GW_DIFF(a->arp_retry_ms != b->arp_retry_ms, "[arp] retry");
	GW_DIFF(a->arp_entries != b->arp_entries, "[arp] entries");
	GW_DIFF(a->arp_hold_total != b->arp_hold_total, "[arp] hold_total");
	GW_DIFF(a->n_arp_static != b->n_arp_static ||
		memcmp(a->arp_static, b->arp_static, a->n_arp_static * sizeof(a->arp_static[0])),
		"[arp] static");
	GW_DIFF(a->frag_max_flows != b->frag_max_flows, "[fragments] max_flows");
	GW_DIFF(a->frag_timeout_ms != b->frag_timeout_ms, "[fragments] timeout");
	GW_DIFF(a->frag_max_mbufs != b->frag_max_mbufs, "[fragments] max_mbufs");
	GW_DIFF(a->frag_max_per_src != b->frag_max_per_src, "[fragments] max_per_source");
	GW_DIFF(a->helpers.max_expect != b->helpers.max_expect, "[helpers] max_expect");
	GW_DIFF(a->helpers.max_conns != b->helpers.max_conns, "[helpers] max_conns");
	GW_DIFF(strcmp(a->ctl_socket, b->ctl_socket) != 0, "[control] socket");
#undef GW_DIFF
	return NULL;
}

/* What the installed ruleset file was: path and an FNV-1a hash of its bytes (0: none). */
static char gw_ctl_rules_path[sizeof(((struct gw_config *)0)->rules_path)];
static uint64_t gw_ctl_rules_hash;

static uint64_t
gw_ctl_file_hash(const char *path)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	unsigned char b[4096];
	size_t n, i;
	FILE *f;

	if (path[0] == '\0' || (f = fopen(path, "rb")) == NULL)
		return 0;
	while ((n = fread(b, 1, sizeof(b), f)) != 0)
		for (i = 0; i < n; i++)
			h = (h ^ b[i]) * UINT64_C(0x100000001b3);
	fclose(f);
	return h | 1;
}

void
gw_ctl_rules_baseline(const struct gw_config *cur)
{
	snprintf(gw_ctl_rules_path, sizeof(gw_ctl_rules_path), "%s", cur->rules_path);
	gw_ctl_rules_hash = gw_ctl_file_hash(cur->rules_path);
}

static bool
gw_ctl_helpers_differ(const struct helper_config *a, const struct helper_config *b)
{
	return a->n_ports != b->n_ports ||
	       memcmp(a->ports, b->ports, a->n_ports * sizeof(a->ports[0])) != 0 ||
	       a->allow_priv_ports != b->allow_priv_ports ||
	       a->expect_timeout != b->expect_timeout ||
	       a->max_expect_per_master != b->max_expect_per_master ||
	       a->max_expect_per_host != b->max_expect_per_host ||
	       a->max_conns_per_host != b->max_conns_per_host;
}

static bool
gw_ctl_fwds_differ(const struct gw_config *a, const struct gw_config *b)
{
	return a->n_fwds != b->n_fwds ||
	       memcmp(a->fwds, b->fwds, a->n_fwds * sizeof(a->fwds[0])) != 0;
}

/* One applied change in the reply and the summary line. */
static void
gw_ctl_change(struct gw_ctl_reply *rp, char *sum, size_t len, const char *what,
	      const char *detail, const uint64_t *touched)
{
	size_t l = strlen(sum);

	gw_ctl_json_obj_begin(rp, NULL);
	gw_ctl_json_str(rp, "what", what);
	gw_ctl_json_str(rp, "detail", detail);
	if (touched != NULL)
		gw_ctl_json_touched(rp, touched);
	gw_ctl_json_obj_end(rp);
	snprintf(sum + l, len - l, "%s%s (%s)", l != 0 ? ", " : "", what, detail);
}

static uint64_t
gw_ctl_total(const uint64_t *t)
{
	uint64_t s = 0;
	unsigned int i;

	for (i = 0; i < gw_n_workers(gw_ctl_st.g); i++)
		s += t[i];
	return s;
}

/* The changes applied through the workers (gw_ctl_cmds.c), each one in the reply.
 * @return 0, or -2 when a worker did not acknowledge one in time (err says which). */
static int
gw_ctl_reload_workers(struct gw_ctl_reply *rp, char *sum, size_t len,
		      const struct gw_config *cur, const struct gw_config *next, char *err,
		      size_t errlen)
{
	uint64_t touched[GW_MAX_WORKERS];
	char detail[256];
	unsigned int i;
	int partial = 0;

	if (gw_ctl_fwds_differ(cur, next)) {
		unsigned int was = cur->n_fwds;

		if (gw_ctl_apply_fwds(next->fwds, next->n_fwds, touched, err, errlen) < 0)
			partial = -2;
		snprintf(detail, sizeof(detail), "%u -> %u", was, next->n_fwds);
		gw_ctl_change(rp, sum, len, "forwards", detail, touched);
	}
	if (memcmp(&cur->timeouts, &next->timeouts, sizeof(next->timeouts)) != 0) {
		size_t o = 0;

		detail[0] = '\0';
		for (i = 0; i < CT_TC_MAX; i++)
			if (cur->timeouts.t[i] != next->timeouts.t[i] && o < sizeof(detail))
				o += (size_t)snprintf(detail + o, sizeof(detail) - o,
					"%s%s %u -> %u", o != 0 ? ", " : "", ct_tclass_name(i),
					(unsigned int)(cur->timeouts.t[i] / CT_USEC_PER_SEC),
					(unsigned int)(next->timeouts.t[i] / CT_USEC_PER_SEC));
		if (gw_ctl_apply_timeouts(&next->timeouts, touched, err, errlen) < 0)
			partial = -2;
		if (o < sizeof(detail))
			snprintf(detail + o, sizeof(detail) - o, "; %llu entries re-scheduled",
				 (unsigned long long)gw_ctl_total(touched));
		gw_ctl_change(rp, sum, len, "timeouts", detail, touched);
	}
	if (cur->nat.max_conns_per_host != next->nat.max_conns_per_host ||
	    cur->nat.max_inbound_conns_per_host != next->nat.max_inbound_conns_per_host ||
	    cur->nat.max_ports_per_host != next->nat.max_ports_per_host) {
		if (gw_ctl_apply_limits(&next->nat, touched, err, errlen) < 0)
			partial = -2;
		gw_ctl_change(rp, sum, len, "limits", "[nat] per-host limits", touched);
	}
	if (gw_ctl_helpers_differ(&cur->helpers, &next->helpers)) {
		struct helper_config hc = next->helpers;

		hc.mtu = cur->helpers.mtu;
		if (gw_ctl_apply_helpers(&hc, touched, err, errlen) < 0)
			partial = -2;
		snprintf(detail, sizeof(detail), "%u helper port(s)", next->helpers.n_ports);
		gw_ctl_change(rp, sum, len, "helpers", detail, touched);
	}
	return partial;
}

/*
 * The whole reload. rp gets "changes" (and the error on refusal); sum a one-line account.
 * @return 0 applied (maybe nothing to change), -1 refused (nothing changed), -2 applied in
 * part (a worker did not acknowledge: the rest still lands when it does).
 */
static int
gw_ctl_do_reload(struct gw_ctl_reply *rp, char *sum, size_t len)
{
	static struct gw_config next;
	struct gw_config *cur = &gw_ctl_st.cur;
	struct nat_fwd_table *ft;
	struct rs_ruleset *rs = NULL;
	uint64_t rules_hash;
	bool rules_change;
	char err[512], detail[256];
	const char *key;
	unsigned int i;
	int partial = 0;

	sum[0] = '\0';
	if (gw_ctl_st.load == NULL) {
		snprintf(sum, len, "reload refused: natgw has no configuration file to read");
		gw_ctl_reply_error(rp, "%s", sum);
		return -1;
	}
	if (gw_ctl_st.load(&next, err, sizeof(err)) < 0) {
		snprintf(sum, len, "reload refused, nothing changed: %s", err);
		gw_ctl_reply_error(rp, "%s", sum);
		return -1;
	}
	next.nat.rss = cur->nat.rss;	/* natgw's RSS set-up, not from the file */
	key = gw_ctl_immutable_diff(cur, &next);
	if (key != NULL) {
		snprintf(sum, len, "reload refused, nothing changed: %s cannot change while natgw "
			 "runs (restart natgw to change it)", key);
		gw_ctl_reply_error(rp, "%s", sum);
		return -1;
	}
	if (gw_ctl_st.g->w[0]->hc == NULL && next.helpers.n_ports != 0) {
		snprintf(sum, len, "reload refused, nothing changed: [helpers] natgw started with "
			 "every helper off; turning one on needs a restart");
		gw_ctl_reply_error(rp, "%s", sum);
		return -1;
	}
	/* what the apply step could trip on, checked first */
	ft = nat_fwd_table_create(next.fwds, next.n_fwds, err, sizeof(err));
	if (ft == NULL) {
		snprintf(sum, len, "reload refused, nothing changed: [forward] %s", err);
		gw_ctl_reply_error(rp, "%s", sum);
		return -1;
	}
	nat_fwd_table_free(ft);
	/* the ruleset: compiled now (a bad one refuses), installed below; before the hooks'
	 * checks, so that nothing can refuse once they passed */
	rules_hash = gw_ctl_file_hash(next.rules_path);
	rules_change = strcmp(next.rules_path, gw_ctl_rules_path) != 0 ||
		       rules_hash != gw_ctl_rules_hash;
	if (rules_change && next.rules_path[0] != '\0') {
		rs = rs_load_file(next.rules_path, gw_n_workers(gw_ctl_st.g), err, sizeof(err));
		if (rs == NULL) {
			snprintf(sum, len, "reload refused, nothing changed: [filter] rules: %s",
				 err);
			gw_ctl_reply_error(rp, "%s", sum);
			return -1;
		}
	}
	for (i = 0; i < gw_ctl_n_hooks; i++) {
		struct gw_ctl_hook *h = &gw_ctl_hooks[i];

		err[0] = '\0';
		if (h->check != NULL && h->check(&next, cur, err, sizeof(err), h->arg) < 0) {
			snprintf(sum, len, "reload refused by %s, nothing changed: %s", h->name,
				 err[0] != '\0' ? err : "(no reason given)");
			gw_ctl_reply_error(rp, "%s", sum);
			rs_free(rs);
			return -1;
		}
	}
	/* apply */
	gw_ctl_json_arr_begin(rp, "changes");
	partial = gw_ctl_reload_workers(rp, sum, len, cur, &next, err, sizeof(err));
	if (rules_change) {
		if (gw_rules_install(gw_ctl_st.g, rs, err, sizeof(err)) < 0) {
			partial = -2;	/* rs was freed by it; the old ruleset stays */
			snprintf(detail, sizeof(detail), "not installed: %.200s", err);
		} else {
			snprintf(detail, sizeof(detail), "%s", next.rules_path[0] != '\0' ?
				 next.rules_path : "removed");
			snprintf(gw_ctl_rules_path, sizeof(gw_ctl_rules_path), "%s",
				 next.rules_path);
			gw_ctl_rules_hash = rules_hash;
		}
		gw_ctl_change(rp, sum, len, "ruleset", detail, NULL);
	}
	for (i = 0; i < gw_ctl_n_hooks; i++) {
		struct gw_ctl_hook *h = &gw_ctl_hooks[i];

		if (h->apply == NULL)
			continue;
		detail[0] = '\0';
		h->apply(&next, detail, sizeof(detail), h->arg);
		if (detail[0] != '\0')
			gw_ctl_change(rp, sum, len, h->name, detail, NULL);
	}
	gw_ctl_json_arr_end(rp);
	*cur = next;
	if (sum[0] == '\0')
		snprintf(sum, len, "nothing to change");
	if (partial != 0)
		gw_ctl_json_str(rp, "warning", err);
	return partial;
}

void
gw_ctl_cmd_reload(const struct gw_ctl_req *req, struct gw_ctl_reply *rp, void *arg)
{
	char sum[1024];
	int rc;

	RTE_SET_USED(arg);
	if (gw_ctl_req_unknown(req, NULL) != NULL) {
		gw_ctl_reply_error(rp, "reload takes no options (it reads %s again)",
				   gw_ctl_st.cur.path);
		return;
	}
	rc = gw_ctl_do_reload(rp, sum, sizeof(sum));
	printf("natgw: reload (natgw-ctl): %s\n", sum);
	fflush(stdout);
	if (rc == -1)
		return;
	gw_ctl_json_str(rp, "file", gw_ctl_st.cur.path);
	gw_ctl_json_str(rp, "summary", sum);
}

int
gw_ctl_reload(FILE *f)
{
	struct gw_ctl_reply rp;
	char sum[1024];
	int rc;

	memset(&rp, 0, sizeof(rp));
	gw_ctl_reply_init(&rp);
	rc = gw_ctl_do_reload(&rp, sum, sizeof(sum));
	gw_ctl_reply_free(&rp);
	fprintf(f, "natgw: reload (SIGHUP): %s\n", sum);
	fflush(f);
	return rc == -1 ? -1 : 0;
}
