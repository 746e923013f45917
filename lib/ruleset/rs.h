/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rs.h - the whole API of lib/ruleset: a ruleset in a subset of nftables' syntax (the
 * grammar is in docs/config.md "Ruleset"), parsed and compiled on the control plane into an
 * immutable object, and evaluated by workers as a plain function over a small match context
 * (no heap, no locks, no logging: what a rule wants logged comes back in the result).
 *
 * The file is real nft syntax, so the same text loads into the kernel (`nft -f`, with the
 * iif/oif names inside/outside replaced by interface names):
 *
 *     table inet natgw {
 *         chain input   { type filter hook input priority 0; policy accept; }
 *         chain forward {
 *             type filter hook forward priority 0; policy drop;
 *             ct state established,related accept
 *             ct state invalid drop
 *             iif inside accept
 *             ct status dnat accept
 *         }
 *     }
 *
 * Two base chains: input (packets to the gateway's own addresses) and forward (through it).
 * A rule is a sequence of matches and statements, evaluated left to right as nft does: a
 * match that fails ends the rule (the next rule is tried), `counter` counts, `log` asks for a
 * log record, `limit` is a match that fails over its rate, and the verdict (`accept`, `drop`,
 * `reject`) ends the chain. A chain with no deciding rule gives its policy.
 *
 * `notrack` rules (forward chain) are evaluated before conntrack (rs_eval_notrack): they may
 * only hold stateless matches (no ct ...); a packet they match is untracked (ct state
 * untracked) and then goes through the forward chain like any other.
 *
 * Threading: rs_load_* and rs_free run on the control plane. The object is immutable after
 * load except for per-worker counters and limit buckets, each written only by its worker
 * (rs_eval with that worker index) and read by anyone [any] (relaxed atomic words).
 * Swapping rulesets is the caller's business (app/: gw_rules_install, a generation number
 * every worker acknowledges before the old object is freed).
 */
#ifndef NATGW_RS_H
#define NATGW_RS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ct.h"

#ifdef __cplusplus
extern "C" {
#endif

enum rs_chain {
	RS_CHAIN_INPUT = 0,
	RS_CHAIN_FORWARD = 1,
	RS_CHAIN_MAX = 2,
};

/** Interfaces as rules name them (the values of the app's enum gw_port). */
#define RS_IF_INSIDE	0
#define RS_IF_OUTSIDE	1
#define RS_IF_NONE	0xff	/**< no output interface (input chain) */

enum rs_verdict {
	RS_ACCEPT = 0,
	RS_DROP = 1,
	RS_REJECT = 2,
};

/** Address families (`meta nfproto`); 0 is IPv4 so that a zeroed context is IPv4. */
#define RS_FAMILY_IPV4	0
#define RS_FAMILY_IPV6	1

/** What a rule can see of a packet. Addresses network order, ports host order. As in an
 * nft inet table, `ip saddr/daddr` match IPv4 packets only, `ip6 saddr/daddr` IPv6 only. */
struct rs_ctx {
	uint32_t saddr, daddr;	/**< IPv4 only */
	uint16_t sport, dport;	/**< TCP/UDP only (else 0) */
	uint8_t l4proto;	/**< IPPROTO_* (IPv6: the upper layer after extension headers) */
	uint8_t icmp_type;	/**< ICMP or ICMPv6 only */
	uint8_t family;		/**< RS_FAMILY_* */
	const uint8_t *saddr6;	/**< IPv6 only: the 16-byte addresses (in the packet) */
	const uint8_t *daddr6;
	uint8_t iif, oif;	/**< RS_IF_* */
	uint8_t ct_state;	/**< enum ct_state */
	uint16_t ct_status;	/**< CT_ST_* */
	const char *helper;	/**< name of the connection's helper ("ftp"), NULL: none */
	uint32_t bytes;		/**< IP total length (counters) */
};

#define RS_LOG_MAX 4	/**< log statements reported by one evaluation (more: dropped) */

/** The outcome of one evaluation. */
struct rs_result {
	uint8_t verdict;	/**< enum rs_verdict */
	bool reject_rst;	/**< reject with tcp reset (else ICMP type 3, reject_code) */
	uint8_t reject_code;	/**< ICMP destination unreachable code (3: port, 13: admin) */
	uint8_t reject_code6;	/**< ICMPv6 destination unreachable code (RFC 4443 3.1: 1
				 *   admin-prohibited, 4 port unreachable) for an IPv6 packet */
	bool cacheable;		/**< no counter, log or limit was on the path: the same context
				 *   gives the same verdict, the caller may cache it */
	int rule;		/**< rule index that decided, -1: the chain's policy */
	unsigned int n_log;	/**< rules whose log statement ran, in log_rule[] */
	unsigned int log_lost;	/**< log statements beyond RS_LOG_MAX */
	uint32_t log_rule[RS_LOG_MAX];
};

struct rs_ruleset;

/**
 * Parse and compile a ruleset file for n_workers workers (1..64; per-worker counters and
 * limit buckets are allocated here). Unknown keywords, values out of range, a rule after a
 * verdict, a chain without `type filter hook input|forward`... are errors.
 * @return the ruleset, or NULL with err filled as "FILE:LINE:COL: message" quoting the
 *         offending token (or "FILE: message" when the file cannot be read).
 */
struct rs_ruleset *rs_load_file(const char *path, unsigned int n_workers, char *err,
				size_t errlen);
/** The same over a string (name is used in messages). */
struct rs_ruleset *rs_load_string(const char *text, const char *name, unsigned int n_workers,
				  char *err, size_t errlen);
/** Free a ruleset. No worker may still read it. NULL is a no-op. */
void rs_free(struct rs_ruleset *rs);

/** Workers it was compiled for (rs_eval's worker index is below it). [any] */
unsigned int rs_n_workers(const struct rs_ruleset *rs);
/** Process-wide unique, increasing number given at load (1, 2, ...). [any] */
uint32_t rs_generation(const struct rs_ruleset *rs);

/**
 * Evaluate chain for a packet on worker `worker` at time `now` (limit buckets). [worker]
 * Fills res (verdict, deciding rule, log requests, cacheable). Never fails.
 */
void rs_eval(struct rs_ruleset *rs, unsigned int worker, enum rs_chain chain,
	     const struct rs_ctx *c, ct_time_t now, struct rs_result *res);

/** Does a rule match `ct status assured` (a verdict may change when ASSURED is set)? [any] */
bool rs_uses_assured(const struct rs_ruleset *rs);
/** Any notrack rule? (if not, rs_eval_notrack never matches) [any] */
bool rs_has_notrack(const struct rs_ruleset *rs);
/**
 * The notrack rules over a packet before conntrack (c->ct_state / ct_status ignored).
 * Counters and limits of those rules count here. [worker]
 * @return true when a notrack statement ran (the packet is untracked); res filled for logs.
 */
bool rs_eval_notrack(struct rs_ruleset *rs, unsigned int worker, const struct rs_ctx *c,
		     ct_time_t now, struct rs_result *res);

/* ---- introspection (telemetry, listing, tests). [any] ---- */
unsigned int rs_n_rules(const struct rs_ruleset *rs);
/** Chain of rule i. */
enum rs_chain rs_rule_chain(const struct rs_ruleset *rs, unsigned int i);
/** The rule as written (whitespace collapsed). */
const char *rs_rule_text(const struct rs_ruleset *rs, unsigned int i);
/** Source line of rule i. */
unsigned int rs_rule_line(const struct rs_ruleset *rs, unsigned int i);
/** The rule's log prefix ("" when none or no log statement). */
const char *rs_rule_log_prefix(const struct rs_ruleset *rs, unsigned int i);
/** The rule has a `counter` statement. */
bool rs_rule_has_counter(const struct rs_ruleset *rs, unsigned int i);
/** Packets/bytes counted by rule i's counter statement, summed over workers. */
void rs_rule_counters(const struct rs_ruleset *rs, unsigned int i, uint64_t *packets,
		      uint64_t *bytes);
/** Packets/bytes rule i's limit refused (0 without limit), summed over workers. */
uint64_t rs_rule_limited(const struct rs_ruleset *rs, unsigned int i);
/** Chain policy (RS_ACCEPT or RS_DROP) and whether the file declared the chain. */
enum rs_verdict rs_chain_policy(const struct rs_ruleset *rs, enum rs_chain ch);
bool rs_chain_declared(const struct rs_ruleset *rs, enum rs_chain ch);
/** Chain name as written in the file ("forward"); the hook name if not declared. */
const char *rs_chain_name(const struct rs_ruleset *rs, enum rs_chain ch);
/** Packets/bytes that got the chain's policy in an evaluation, summed over workers. */
void rs_policy_counters(const struct rs_ruleset *rs, enum rs_chain ch, uint64_t *packets,
			uint64_t *bytes);
/** "inet natgw" (family and table name as written). */
const char *rs_table_name(const struct rs_ruleset *rs);
/** The file (or name) it was loaded from. */
const char *rs_source(const struct rs_ruleset *rs);
/** Write the ruleset as `nft list ruleset` does, counters filled in. */
void rs_print(const struct rs_ruleset *rs, FILE *f);
/** "ACCEPT" / "DROP" / "REJECT" style names: "accept", "drop", "reject". */
const char *rs_verdict_str(enum rs_verdict v);

#ifdef __cplusplus
}
#endif
#endif /* NATGW_RS_H */
