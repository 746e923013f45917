/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_ctl_private.h - what gw_ctl_cmds.c (the commands, the worker rings) and gw_ctl_reload.c
 * (reload) share. Main lcore only.
 */
#ifndef NATGW_GW_CTL_PRIVATE_H
#define NATGW_GW_CTL_PRIVATE_H

#include "gw_private.h"
#include "gw_ctl.h"

#define GW_CTL_WAIT_MS	5000	/* the longest a command waits for the workers */

struct gw_ctl_state {
	struct gw *g;
	struct gw_config cur;		/* in force: start-up + reloads + live changes */
	ct_time_t (*clock)(void);
	gw_ctl_load_fn load;
	unsigned int lcore[GW_MAX_WORKERS];
};

extern struct gw_ctl_state gw_ctl_st;

/* Changes applied through the workers; each fills touched[] per worker and returns 0, or
 * -1 with err filled (nothing or only part applied: err says which). */
int gw_ctl_apply_fwds(const struct nat_fwd *fwds, unsigned int n, uint64_t *touched,
		      char *err, size_t errlen);
int gw_ctl_apply_timeouts(const struct ct_timeouts *to, uint64_t *touched, char *err,
			  size_t errlen);
int gw_ctl_apply_limits(const struct nat_config *lim, uint64_t *touched, char *err,
			size_t errlen);
int gw_ctl_apply_helpers(const struct helper_config *hc, uint64_t *touched, char *err,
			 size_t errlen);
/* the per-worker counts of a change, as "workers": [{"worker": i, "touched": n}...] */
void gw_ctl_json_touched(struct gw_ctl_reply *rp, const uint64_t *touched);

/* gw_ctl_reload.c */
void gw_ctl_cmd_reload(const struct gw_ctl_req *req, struct gw_ctl_reply *rp, void *arg);
/* The first key that differs between a and b among those that cannot change live
 * ("[nat] pool"), or NULL. */
const char *gw_ctl_immutable_diff(const struct gw_config *a, const struct gw_config *b);
/* The ruleset file in force at start (its bytes, so that a reload installs it only when
 * they or the path changed). */
void gw_ctl_rules_baseline(const struct gw_config *cur);

#endif /* NATGW_GW_CTL_PRIVATE_H */
