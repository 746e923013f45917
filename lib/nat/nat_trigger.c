/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat_trigger.c - port triggering (nat.h struct nat_trigger): the open ranges, per worker.
 *
 * A new outbound connection that matches a trigger rule opens (or refreshes) a slot: the
 * rule, the inside host and its outside address, an expiry. The slots live in the shared
 * port table, NAT_TRIG_SLOTS per worker, each written only by its worker (the inside host's
 * owner, which made the triggering connection) and read by any worker's nat_inbound_owner
 * to steer an inbound packet for an open range to that owner, under a sequence count. A
 * worker with no free slot closes its range that expires first (counted).
 *
 * Steering an inbound packet to a closed range still finds the last owner while the slot is
 * not reused, so packets of connections made while it was open keep reaching their worker;
 * nat_in_new accepts a new connection only while the range is open (nat_trigger_find).
 */
#include <netinet/in.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>

#include "nat_private.h"

static inline const struct nat_trigger *
rule_of(const struct nat_config *cfg, uint16_t r)
{
	return &cfg->triggers[r];
}

/* Does t (inbound: remote -> outside address) fall in rule r's opened range? */
static inline bool
opens(const struct nat_trigger *tr, const struct ct_tuple *t)
{
	uint16_t port = ntohs(t->dport);

	return (tr->open_proto == 0 || tr->open_proto == t->proto) &&
	       (t->proto == IPPROTO_TCP || t->proto == IPPROTO_UDP) &&
	       port >= tr->open_lo && port <= tr->open_hi;
}

static inline struct nat_trig_slot *
slots_of(const struct nat_port_table *pt, unsigned int worker)
{
	return &pt->trig[(size_t)worker * NAT_TRIG_SLOTS];
}

static void
slot_write(struct nat_trig_slot *s, uint32_t in_addr, uint32_t out_addr, uint16_t rule,
	   ct_time_t expire)
{
	uint32_t seq = s->seq;

	__atomic_store_n(&s->seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&s->in_addr, in_addr, __ATOMIC_RELAXED);
	__atomic_store_n(&s->out_addr, out_addr, __ATOMIC_RELAXED);
	__atomic_store_n(&s->rule, rule, __ATOMIC_RELAXED);
	__atomic_store_n(&s->expire, expire, __ATOMIC_RELAXED);
	__atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
}

void
nat_trigger_fire(struct nat_ctx *nc, const struct ct_tuple *t, uint32_t out_addr,
		 ct_time_t now)
{
	const struct nat_config *cfg = &nc->cfg;
	struct nat_trig_slot *sl;
	uint16_t port = ntohs(t->dport);
	unsigned int r, i, pick;

	if (nc->pt == NULL || nc->pt->trig == NULL)
		return;
	sl = slots_of(nc->pt, nc->worker);
	for (r = 0; r < cfg->n_triggers; r++) {
		const struct nat_trigger *tr = rule_of(cfg, (uint16_t)r);
		ct_time_t expire = now + (ct_time_t)tr->timeout_s * 1000000;

		if (tr->proto != t->proto || port < tr->lo || port > tr->hi)
			continue;
		/* the host's slot for this rule, else a free or expired one, else the one
		 * that expires first */
		pick = NAT_TRIG_SLOTS;
		for (i = 0; i < NAT_TRIG_SLOTS; i++) {
			if (sl[i].in_addr == t->src && sl[i].rule == r) {
				pick = i;
				break;
			}
			if (pick == NAT_TRIG_SLOTS || (sl[pick].in_addr != 0 &&
			    (sl[i].in_addr == 0 || sl[i].expire < sl[pick].expire)))
				pick = i;
		}
		if (sl[pick].in_addr != 0 && sl[pick].expire > now &&
		    !(sl[pick].in_addr == t->src && sl[pick].rule == r))
			NAT_STAT_INC(nc, triggers_evicted);
		slot_write(&sl[pick], t->src, out_addr, (uint16_t)r, expire);
		NAT_STAT_INC(nc, triggers_fired);
	}
}

uint32_t
nat_trigger_find(const struct nat_ctx *nc, const struct ct_tuple *t, ct_time_t now)
{
	const struct nat_trig_slot *sl;
	unsigned int i;

	if (nc->pt == NULL || nc->pt->trig == NULL)
		return 0;
	sl = slots_of(nc->pt, nc->worker);
	/* the owner reads its own slots: no sequence count needed */
	for (i = 0; i < NAT_TRIG_SLOTS; i++)
		if (sl[i].in_addr != 0 && sl[i].out_addr == t->dst && sl[i].expire > now &&
		    opens(rule_of(&nc->cfg, sl[i].rule), t))
			return sl[i].in_addr;
	return 0;
}

unsigned int
nat_trigger_owner(const struct nat_config *cfg, const struct nat_port_table *pt,
		  const struct ct_tuple *t)
{
	unsigned int w, i;

	if (pt == NULL || pt->trig == NULL)
		return NAT_OWNER_UNKNOWN;
	for (w = 0; w < cfg->n_workers; w++) {
		const struct nat_trig_slot *sl = slots_of(pt, w);

		for (i = 0; i < NAT_TRIG_SLOTS; i++) {
			uint32_t seq = __atomic_load_n(&sl[i].seq, __ATOMIC_ACQUIRE);
			uint32_t in, out;
			uint16_t rule;

			if (seq & 1)
				continue;
			in = __atomic_load_n(&sl[i].in_addr, __ATOMIC_RELAXED);
			out = __atomic_load_n(&sl[i].out_addr, __ATOMIC_RELAXED);
			rule = __atomic_load_n(&sl[i].rule, __ATOMIC_RELAXED);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&sl[i].seq, __ATOMIC_RELAXED) != seq || in == 0 ||
			    out != t->dst || rule >= cfg->n_triggers)
				continue;
			if (opens(rule_of(cfg, rule), t))
				return w;
		}
	}
	return NAT_OWNER_UNKNOWN;
}
