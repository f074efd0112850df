/* lease.h - which instance serves a practice: the decision per practice.
 *
 * Contract: several consult instances share one store; each practice is
 * served by at most one of them at a time, the holder of its lease (a row
 * in the store: holder name, expires_at in ms). An instance claims a free
 * lease (no row, its own row, or a row whose expires_at has passed) and
 * renews the ones it holds; a claim or renewal sent at time T writes
 * expires_at = T + lease_ms (the store applies it only if the row is free
 * or still this instance's, in one conditional statement).
 *
 * Safety rule: a holder serves only until T + lease_ms - margin_ms, where
 * T is when it SENT its last successful claim or renewal (not when the
 * answer came): a slow or failing renewal makes it give the practice up
 * before expires_at, and nobody else claims before expires_at has passed.
 * Clock assumption: the instances' wall clocks agree to within margin_ms
 * (NTP keeps them within milliseconds; the margin, a quarter of the lease,
 * is at least 750 ms) and do not jump backwards by more than that. A
 * holder that loses service drops the practice at once (its handles are
 * told, its room forgotten, nothing written) and may claim it again like
 * anyone else.
 *
 * Pure: times are arguments (ms since the epoch), no clock, no I/O.
 */
#ifndef CONSULT_LEASE_H
#define CONSULT_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#define CONSULT_LEASE_SECONDS_MIN 3
#define CONSULT_LEASE_SECONDS_MAX 600

typedef struct consult_lease_cfg {
	int64_t lease_ms;  /* a claim or renewal holds this long */
	int64_t renew_ms;  /* renew once the last successful one was sent this long ago */
	int64_t margin_ms; /* the holder stops serving this long before its lease ends */
} consult_lease_cfg;

/* The timings for a lease of seconds (CONSULT_LEASE_SECONDS_MIN..MAX):
 * renew every third of it, stop a quarter of it before the end. false for
 * another value (out unchanged). */
bool consult_lease_cfg_of(int64_t seconds, consult_lease_cfg *out);

/* The lease row as the store holds it; holder NULL: no row. */
typedef struct consult_lease_row {
	const char *holder;
	int64_t expires_at_ms;
} consult_lease_row;

/* This instance's own view of one practice. */
typedef struct consult_lease_mine {
	bool serving;    /* it serves the practice (as last decided) */
	int64_t sent_ms; /* when its last successful claim or renewal was sent; 0: none */
} consult_lease_mine;

typedef enum consult_lease_action {
	CONSULT_LEASE_SERVE, /* serving, nothing due */
	CONSULT_LEASE_RENEW, /* serving, a renewal is due */
	CONSULT_LEASE_STOP,  /* serving must end now (its safe time is over, or another holds the row) */
	CONSULT_LEASE_CLAIM, /* not serving and the lease is free (no row, mine, or expired): claim it */
	CONSULT_LEASE_WAIT   /* not serving, another instance holds an unexpired lease */
} consult_lease_action;

/* What to do now about one practice. me: this instance's name; row: as read
 * from the store (for a serving instance only "held by another" matters). */
consult_lease_action consult_lease_decide(const consult_lease_cfg *cfg, int64_t now_ms, const char *me,
        const consult_lease_row *row, const consult_lease_mine *mine);

/* When service based on a claim or renewal sent at sent_ms ends:
 * sent_ms + lease_ms - margin_ms (0 if sent_ms is 0). */
int64_t consult_lease_serve_until(const consult_lease_cfg *cfg, int64_t sent_ms);
/* Does this instance serve now? mine->serving and now before serve_until. */
bool consult_lease_serves(const consult_lease_cfg *cfg, int64_t now_ms, const consult_lease_mine *mine);
/* The expires_at to write with a claim or renewal sent at sent_ms. */
int64_t consult_lease_expires(const consult_lease_cfg *cfg, int64_t sent_ms);
/* Is the row free for me: no row, mine, or expires_at before now? (The
 * store's conditional claim applies the same rule.) */
bool consult_lease_free(int64_t now_ms, const char *me, const consult_lease_row *row);
const char *consult_lease_action_name(consult_lease_action a);

#endif
