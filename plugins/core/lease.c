/* lease.c - the lease decision per practice (see lease.h). */
#include <string.h>
#include "lease.h"

bool consult_lease_cfg_of(int64_t seconds, consult_lease_cfg *out)
{
	if (seconds < CONSULT_LEASE_SECONDS_MIN || seconds > CONSULT_LEASE_SECONDS_MAX)
		return false;
	out->lease_ms = seconds * 1000;
	out->renew_ms = out->lease_ms / 3;
	out->margin_ms = out->lease_ms / 4;
	return true;
}

int64_t consult_lease_serve_until(const consult_lease_cfg *cfg, int64_t sent_ms)
{
	return sent_ms > 0 ? sent_ms + cfg->lease_ms - cfg->margin_ms : 0;
}

bool consult_lease_serves(const consult_lease_cfg *cfg, int64_t now_ms, const consult_lease_mine *mine)
{
	return mine->serving && mine->sent_ms > 0 && now_ms < consult_lease_serve_until(cfg, mine->sent_ms);
}

int64_t consult_lease_expires(const consult_lease_cfg *cfg, int64_t sent_ms)
{
	return sent_ms + cfg->lease_ms;
}

static bool held_by(const consult_lease_row *row, const char *me)
{
	return row->holder != NULL && me != NULL && strcmp(row->holder, me) == 0;
}

bool consult_lease_free(int64_t now_ms, const char *me, const consult_lease_row *row)
{
	return row->holder == NULL || held_by(row, me) || row->expires_at_ms < now_ms;
}

consult_lease_action consult_lease_decide(const consult_lease_cfg *cfg, int64_t now_ms, const char *me,
        const consult_lease_row *row, const consult_lease_mine *mine)
{
	if (mine->serving) {
		if (!consult_lease_serves(cfg, now_ms, mine))
			return CONSULT_LEASE_STOP;
		if (row->holder != NULL && !held_by(row, me))
			return CONSULT_LEASE_STOP;
		return now_ms - mine->sent_ms >= cfg->renew_ms ? CONSULT_LEASE_RENEW : CONSULT_LEASE_SERVE;
	}
	return consult_lease_free(now_ms, me, row) ? CONSULT_LEASE_CLAIM : CONSULT_LEASE_WAIT;
}

const char *consult_lease_action_name(consult_lease_action a)
{
	switch (a) {
	case CONSULT_LEASE_SERVE:
		return "serve";
	case CONSULT_LEASE_RENEW:
		return "renew";
	case CONSULT_LEASE_STOP:
		return "stop";
	case CONSULT_LEASE_CLAIM:
		return "claim";
	case CONSULT_LEASE_WAIT:
		return "wait";
	}
	return "?";
}
