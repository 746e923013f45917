/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * helper_private.h - what lib/helpers' files share and nobody else sees: the per-worker
 * context, the expectation records and their indexes, the per-connection helper record
 * (line tracking, sequence adjustment, the last rewrite for retransmissions, a reserved
 * port), the helper ops struct and the checksum / payload-splice routines.
 */
#ifndef NATGW_HELPER_PRIVATE_H
#define NATGW_HELPER_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "helper.h"

#define HELPER_NIL	UINT32_MAX
#define HELPER_RL_OFF	(UINT32_MAX - 1)
#define HELPER_TEXT_MAX	64	/* longest replacement text (EPRT with a full address: 30) */

/*
 * A helper is one ops struct in one file (helper_ftp.c ...), registered in helper.c's
 * table. Model: OVS struct ct_l4_proto, a few operations.
 */
struct helper_ops {
	const char *name;
	uint8_t proto;			/* IPPROTO_* of the control connection */
	bool line_based;		/* commands only at a line start (FTP, RFC 959) */
	bool drop_partial;		/* drop a known command cut by the segment end (FTP,
					 * as netfilter's); else pass it unchanged (IRC) */
	uint8_t exp_wild;		/* HELPER_EXP_ANY_* of its expectations */
	/* find a command in the payload of a packet of direction dir: HELPER_P_* */
	int (*parse)(const uint8_t *data, uint32_t len, uint8_t dir, struct helper_match *m);
	/* the replacement text of m's region for addr:port: length or -1 (NULL: never rewrites) */
	int (*format)(const struct helper_match *m, uint32_t addr, uint16_t port, char *out,
		      size_t cap);
	/* optional: a connection was created from one of its expectations */
	void (*expect_hit)(struct helper_ctx *hc, struct ct_conn *c, struct ct_conn *master);
};

extern const struct helper_ops helper_ftp_ops;
extern const struct helper_ops helper_tftp_ops;
extern const struct helper_ops helper_irc_ops;

/* TCP sequence adjustment of one direction, as netfilter's nf_ct_seqadj: segments whose
 * (original) seq is after correction_pos move by offset_after, the others (the rewritten
 * segment itself and retransmissions of earlier data) by offset_before. */
struct helper_seqadj {
	uint32_t correction_pos;
	int32_t offset_before;
	int32_t offset_after;
};

/* the last rewrite of one direction, redone identically on a retransmission */
struct helper_last {
	uint32_t seq;			/* original seq of the segment */
	uint32_t addr;			/* what the text said */
	uint16_t port;
	uint8_t kind;
	uint8_t new_len;
	uint16_t off, old_len;
	char text[HELPER_TEXT_MAX];
};

#define HC_F_NL_VALID0	0x01	/* nl_seq[0] holds a line start */
#define HC_F_NL_VALID1	0x02
#define HC_F_LAST0	0x04	/* last[0] valid */
#define HC_F_LAST1	0x08
#define HC_F_SEQADJ0	0x10	/* seqadj[0] in use */
#define HC_F_SEQADJ1	0x20
#define HC_F_RESV	0x40	/* holds a reserved outside port (data connection) */
#define HC_F_STRICT	0x80	/* not the helper's well-known port: line starts only after
				 * CRLF, and only the latest one */

/* helper state of one connection; its index + 1 is the connection's CT_USER_HELPER word */
struct helper_conn {
	uint8_t helper;			/* enum helper_id (NONE: a data connection) */
	uint8_t flags;			/* HC_F_* */
	uint8_t resv_proto;
	uint16_t resv_port;		/* host order */
	uint32_t resv_addr;
	uint32_t resv_host;		/* the inside host it is charged to (network order) */
	uint32_t rec_host;		/* inside host this record is counted for (NAT_HR_HELPER),
					 * 0: none */
	uint32_t conn_id;		/* conntrack id of its connection */
	uint32_t rprev, rnext;		/* records not yet seen ASSURED, oldest first (eviction
					 * candidates); rprev HELPER_RL_OFF: not linked */
	uint32_t n_expect;		/* pending expectations of this master */
	uint32_t exp_head;		/* its expectations (oldest first) */
	uint32_t exp_tail;
	uint32_t nl_seq[2];		/* original seq right after the last '\n', per dir */
	uint32_t nl_seq_prev[2];	/* the one before (retransmissions) */
	struct helper_seqadj sa[2];
	struct helper_last last[2];
	uint32_t next_free;
};

struct helper_exp {
	struct helper_expect_spec s;
	uint32_t master;		/* master connection id */
	uint32_t mrec;			/* master's helper_conn index */
	uint32_t host;			/* inside host it is counted for (NAT_HR_EXPECT) */
	ct_time_t expire;
	uint32_t hnext;			/* hash chain */
	uint32_t mprev, mnext;		/* the master's list */
	uint32_t fprev, fnext;		/* creation order = expiry order (one timeout) */
	bool used;
};

struct helper_ctx {
	struct helper_config cfg;
	struct ct_table *ct;
	struct nat_ctx *nc;
	bool use_heap;
	bool cb_set;
	uint64_t key[2];		/* hash secret */
	/* expectations */
	struct helper_exp *exps;
	uint32_t exp_cap;
	uint32_t exp_free;		/* free list through hnext */
	uint32_t *ehead;		/* hash buckets */
	uint32_t emask;
	uint32_t fifo_head, fifo_tail;
	uint32_t n_exp;
	/* connection records */
	struct helper_conn *conns;
	uint32_t conn_cap;
	uint32_t conn_free;
	uint32_t rl_head, rl_tail;	/* eviction candidates (struct helper_conn.rprev) */
	ct_time_t now;			/* latest time a caller gave us */
	uint32_t lim_expect_host;	/* resolved max_expect_per_host */
	uint32_t lim_conns_host;	/* resolved max_conns_per_host */
	struct helper_stats stats;	/* owner writes, anyone reads */
};

/* the inside host an expectation is counted for: the announcing host of a DNAT one, the
 * inside client of an outbound one */
static inline uint32_t
helper_spec_host(const struct helper_expect_spec *s)
{
	return s->nat == HELPER_EXP_DNAT ? s->to_addr : s->tuple.src;
}

#define HELPER_STAT_ADD(hc, field, v)						\
	__atomic_store_n(&(hc)->stats.field, (hc)->stats.field + (v), __ATOMIC_RELAXED)
#define HELPER_COUNT(hc, cnt) HELPER_STAT_ADD(hc, c[HELPER_C_##cnt], 1)

/* helper.c */
const struct helper_ops *helper_ops_of(enum helper_id h);
struct helper_conn *helper_conn_rec(const struct helper_ctx *hc, const struct ct_conn *c);
struct helper_conn *helper_conn_new_rec(struct helper_ctx *hc, struct ct_conn *c, uint8_t h);
/* one's complement sum of n bytes that start at an odd (odd=true) or even offset of the
 * checksummed data, folded to 16 bits */
uint16_t helper_sum(const uint8_t *p, uint32_t n, bool odd);
/* checksum after the words summing to old_sum became ones summing to new_sum */
uint16_t helper_csum_replace(uint16_t csum, uint16_t old_sum, uint16_t new_sum);

/* helper_expect.c */
int helper_expect_init(struct helper_ctx *hc);
void helper_expect_fini(struct helper_ctx *hc);
void helper_expect_master_gone(struct helper_ctx *hc, struct helper_conn *hr);

/* helper_seqadj.c */
/* record a length change of delta at original seq `seq` of direction dir */
void helper_seqadj_record(struct helper_conn *hr, uint8_t dir, uint32_t seq, int32_t delta);
/* ACK and SACK of a packet of direction dir: into the peer's original space */
/* after conntrack reinitialised the entry (CT_ST_SEQ_ADJUST cleared): forget the offsets */
void helper_seqadj_resync(struct helper_conn *hr, const struct ct_pkt *p);
bool helper_seqadj_ack_in(const struct helper_conn *hr, const struct ct_pkt *p, uint8_t *buf);
/* SEQ of a packet of direction dir: into the adjusted space */
bool helper_seqadj_seq_out(const struct helper_conn *hr, const struct ct_pkt *p, uint8_t *buf);

#endif /* NATGW_HELPER_PRIVATE_H */
