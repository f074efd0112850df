/* glue.h - shared state of the consult Janus plugin (the thin glue).
 *
 * Contract: one global state (`glue`) holds the configuration, the store,
 * the live rooms (one per practice, created lazily) and the rate limiters.
 * Everything in it is read and written only under glue.lock, which every
 * request handler, the timer thread, destroy_session and the admin API
 * take (login drops it while verifying a password; on PostgreSQL a request
 * drops it for its store round trips, plock.h). A practice's live state is
 * changed only while its own lock is held too (plock.h). Lock order: a
 * practice lock, the pool, glue.lock, then the sessions table mutex
 * (session.c), never the reverse.
 * Events to browsers are pushed while glue.lock is held, so their order is
 * the order of the changes; only a doctor's waiting list held back in a
 * burst (glue_push_waiting) comes up to GLUE_WAITING_COALESCE_MS later,
 * and then it is the newest list. The timer thread takes timer_mutex
 * (plugin.c) only without glue.lock; glue.lock before timer_mutex.
 */
#ifndef CONSULT_GLUE_H
#define CONSULT_GLUE_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <jansson.h>
#include <plugins/plugin.h>

#include "core/errors.h"
#include "core/request.h"
#include "core/room.h"
#include "core/decide.h"
#include "core/ratelimit.h"
#include "core/rejoin.h"
#include "store/store.h"
#include "cfg.h"
#include "session.h"
#include "plock.h"
#include "clock.h"

#define GLUE_VERSION        1
#define GLUE_VERSION_STRING "0.1.0"
#define GLUE_PACKAGE        "janus.plugin.consult"

/* Per-visit data the core does not keep (names, connected flag, the
 * newest message to the waiting patient). */
typedef struct glue_visit_info {
	int64_t id; /* key (hash on &id) */
	char *first, *last;
	bool connected;       /* first "connected" report stored */
	int64_t connected_at; /* its time (as stored), 0 before */
	int64_t called_by;    /* the doctor who called it last (as stored), 0 none */
	char *msg_text;       /* newest message_waiting text, NULL none; never logged */
	char *msg_from;       /* its sender's display name, NULL: reception ("your practice") */
	int64_t msg_at;       /* when it was sent */
	char *media_path;     /* "local/remote" candidate types of the doctor's report, or NULL */
	int path;             /* glue_path of the doctor's newest connected report, or GLUE_PATH_NONE */
	int64_t call_session; /* login session (store id) of the doctor handle that holds the call; 0 unknown */
	/* first, last: as the patient typed them at join; booked_name, note: as
	 * reception booked them (the appointment's), or NULL; audio_only: the
	 * patient accepted the call without the camera */
	char *booked_name, *note;
	bool audio_only;
} glue_visit_info;

/* How a call's media went (admin stats, issue 5). */
typedef enum glue_path {
	GLUE_PATH_NONE = -1,
	GLUE_PATH_DIRECT = 0,
	GLUE_PATH_RELAY,
	GLUE_PATH_FORWARD,
	GLUE_PATH_COUNT
} glue_path;

/* One practice with a live room. */
typedef struct glue_practice {
	int64_t id; /* key (hash on &id) */
	consult_room *room;
	GList *staff;                   /* glue_session*, logged in, one reference each */
	GHashTable *visits;             /* &id -> glue_visit_info* of live visits */
	int64_t paths[GLUE_PATH_COUNT]; /* ended calls per final path since start */
	bool waiting_owed;              /* a doctor of it is owed a waiting list (events.c) */
	struct glue_day *day;           /* today's connected calls, for estimates (waiting.c); NULL none */
	int64_t sessions_checked;       /* when its staff handles' sessions were last checked (staff_session.c) */
} glue_practice;

typedef struct glue_state {
	GMutex lock;
	glue_config cfg;
	consult_store *store;
	GHashTable *practices;               /* &id -> glue_practice* */
	consult_ratelimit *rl_login;         /* "u:<username>" and "h:<handle>" */
	consult_ratelimit *rl_join;          /* "h:<handle>" */
	consult_ratelimit *rl_join_practice; /* "p:<practice id>" */
	consult_rejoin *rejoin;              /* successful joins per appointment */
	uint64_t seq;                        /* position event sequence */
	int64_t started_at;
	int64_t stopped_at; /* a clean stop began (SIGTERM/SIGINT): its time, else 0 */
} glue_state;

extern glue_state glue;
extern janus_callbacks *glue_gateway;
extern janus_plugin glue_plugin;

/* Context of one client request while it is handled. */
typedef struct glue_ctx {
	glue_session *s; /* the requesting handle's session (referenced) */
	const consult_request *req;
	json_t *body;        /* the request body (borrowed) */
	json_t *jsep;        /* jsep beside the body (borrowed), or NULL */
	json_t *reply;       /* fields of a successful reply go here */
	const char *field;   /* offending field on error */
	int64_t retry_after; /* rate_limited: seconds */
	json_t *error_extra; /* extra fields of an error reply (e.g. opens_at), or NULL */
	int64_t now;
} glue_ctx;

typedef consult_err (*glue_handler)(glue_ctx *c);

/* --- practices (events.c) --- */
glue_practice *glue_practice_get(int64_t practice_id);  /* creates lazily; NULL on OOM */
glue_practice *glue_practice_find(int64_t practice_id); /* NULL if no room yet */
/* The ids of the practices with a live room (a new array), under glue.lock. */
GArray *glue_practice_ids(void);
void glue_practices_free(void);
glue_visit_info *glue_visit_info_get(glue_practice *p, int64_t visit_id);
/* Calls per path of a practice: ended calls by their final path plus calls
 * in progress by their current path (each call once). */
void glue_path_counts(glue_practice *p, int64_t out[GLUE_PATH_COUNT]);

/* --- events (events.c) --- */
/* Pushes {"consult":"event","event":name,...fields} to a session; steals fields (may be NULL). */
void glue_push(glue_session *s, const char *event, json_t *fields);
/* The waiting list a doctor sees (doctor 0: all), as in waiting_list. */
json_t *glue_waiting_list(glue_practice *p, int64_t doctor_id);
/* Pushes `waiting` to every logged-in doctor who may see a visit of doctor_id.
 * In a burst (more than GLUE_WAITING_BURST lists to one doctor within a
 * second, e.g. a thousand pages re-attaching after a restart) the doctor's
 * further lists are held back and the newest one is sent by the timer
 * GLUE_WAITING_COALESCE_MS later: the list each push carries is O(waiting),
 * so a burst would otherwise cost O(waiting^2) per doctor. */
#define GLUE_WAITING_BURST       20
#define GLUE_WAITING_COALESCE_MS 200
void glue_push_waiting(glue_practice *p, int64_t visit_doctor_id);
/* Sends the waiting lists held back by glue_push_waiting (timer, under glue.lock). */
void glue_flush_waiting(void);
/* Asks the timer thread to run glue_flush_waiting within ms (plugin.c). */
void glue_timer_flush_soon(int ms);
/* What a patient is told of its place: ahead (CONSULT_AHEAD_UNKNOWN: not
 * told now), seq and the estimated wait. */
typedef struct glue_told {
	uint32_t ahead;
	uint64_t seq;
	consult_wait wait;
} glue_told;
/* Pushes `position` to patients whose place or estimated wait changed. If
 * me is one of them, nothing is pushed to it and *mine is set instead
 * (mine->ahead stays CONSULT_AHEAD_UNKNOWN otherwise). mine may be NULL. */
void glue_push_positions(glue_practice *p, int64_t now, glue_session *me, glue_told *mine);
/* Sets "wait_min" and "wait_max" on o if w is known. */
void glue_wait_fields(json_t *o, consult_wait w);
/* `appointment` event to all staff of the practice: the patient's name as
 * typed at join (first and last, or none) and the booked name (or NULL). */
void glue_push_appointment(glue_practice *p, int64_t appointment_id, const char *status, const char *first,
        const char *last, const char *booked_name);
/* Event handlers (config events = true): non-personal visit data only. */
void glue_notify_visit(int64_t practice_id, int64_t visit_id, const char *state, const char *reason);
/* Sets "ice_servers" (RTCIceServer array with TURN REST credentials minted
 * now under a fresh random id), "ice_transport_policy" ("relay" if the
 * practice is relay_only, else "all") and, if with_call_lost,
 * "call_lost_seconds", "p2p_timeout_seconds", "forward" and
 * "patient_share" on o. Only for the two participants of a call; the
 * credentials are never logged. */
void glue_ice_fields(json_t *o, int64_t practice_id, int64_t now, bool with_call_lost);
/* The practice's audio-only policy as the pages read it: "allowed" or
 * "never" (also when the store cannot be read: fail closed, logged). */
const char *glue_audio_policy(int64_t practice_id);
/* Whether a patient of the practice may share a screen in a call (false,
 * logged, when the store cannot be read: fail closed). */
bool glue_patient_share_allowed(int64_t practice_id);
/* Staff session of this practice that rings / talks with visit_id, or NULL. */
glue_session *glue_call_doctor(glue_practice *p, int64_t visit_id);

/* --- carrying out decisions (effects.c) --- */
/* Runs d's effects [from, to) in order. A failed store write stops the
 * run with nothing changed, unless force (then it is logged and the run
 * goes on). actor: the requesting session or NULL. */
consult_err glue_run_part(glue_practice *p, const consult_decision *d, size_t from, size_t to, glue_session *actor,
        int64_t now, bool force);
/* Asks the room (consult_room_decide, actor: the requesting session or
 * NULL) and runs all of the decision; *d keeps it (join outcome, event). */
consult_err glue_decide_run(glue_practice *p, const consult_room_event *in, glue_session *actor, int64_t now,
        bool force, consult_decision *d);
/* Decides ev on a live visit of p and runs it. actor: the requesting
 * session or NULL. patient_new: for PATIENT_BACK. On error nothing changed. */
consult_err glue_visit_apply(glue_practice *p, int64_t visit_id, consult_visit_event ev, glue_session *actor,
        glue_session *patient_new, int64_t now);

/* --- handlers: glue_h_<name> for every row of core/requests.def (staff.c,
 * patient.c, call.c, appointments.c, forward.c). Run under glue.lock unless
 * the row has CONSULT_REQF_SELF_LOCK (login, forward_offer, forward_answer). --- */
#define CONSULT_REQUEST(name, id, who, when, parse, flags) consult_err glue_h_##name(glue_ctx *c);
#include "core/requests.def"
#undef CONSULT_REQUEST

/* --- the waiting room as patients live it (waiting.c), under glue.lock --- */
/* The local day (server time zone) of now: [*from, *to). */
void glue_local_day(int64_t now, int64_t *from, int64_t *to);
/* At init, after the restore: today's connected calls of every practice
 * served here (practice_id 0) or of one practice just claimed, from the
 * store (a failure is logged; estimates start without them). */
void glue_day_load(int64_t now, int64_t practice_id);
/* A visit ended at ended_at (its store end ran): if it was connected, its
 * call counts for today's estimates. */
void glue_day_visit_ended(glue_practice *p, int64_t visit_id, int64_t ended_at);
/* The estimated wait of a waiting visit with ahead patients before it. */
consult_wait glue_wait_of(glue_practice *p, const consult_visit *v, uint32_t ahead, int64_t now);
/* Timer: a new day began for p's estimates: patients are told. */
void glue_day_tick(glue_practice *p, int64_t now);
void glue_day_free(struct glue_day *d);
/* The visit's newest message as {"text","from","sent_at"}, or NULL. */
json_t *glue_visit_message(const glue_visit_info *vi);

/* --- staff idle time (staff.c), under glue.lock, from the timer --- */
void glue_staff_idle_check(glue_practice *p, int64_t now);
/* Ends a staff handle's login: `logged_out` with reason, out of its
 * practice (a call of it ends as the doctor leaving), anonymous again. Its
 * session row is not touched (the caller ends or has revoked it). */
void glue_staff_log_out(glue_session *s, const char *reason, int64_t now);
/* Timer: every GLUE_SESSION_CHECK_S, the practice's staff handles whose
 * session is gone from the store (revoked by set_disabled or
 * reset_password on any instance sharing it) are logged out here too
 * (staff_session.c). */
#define GLUE_SESSION_CHECK_S 5
void glue_staff_sessions_check(glue_practice *p, int64_t now);

/* --- outbox worker (outbox.c) --- */
int glue_outbox_start(void); /* 0 or -1 (logged) */
void glue_outbox_stop(void);
void glue_outbox_wake(void); /* new rows queued: look now */
/* The outbox row as reception sees it (appointments.c). */
json_t *glue_delivery_json(const consult_outbox_msg *m);
/* `delivery` event to the practice's staff for one outbox row (by id), under glue.lock. */
void glue_push_delivery(int64_t practice_id, int64_t delivery_id);

/* --- retention (retention_glue.c) --- */
/* Runs the purge for `now` on st (the admin request: glue.store under
 * glue.lock; the timer: its own handle, without it); logs counts; fills
 * out if given. Touches nothing in memory. */
consult_err glue_retention_run(consult_store *st, int64_t now, consult_purge_counts *out);

/* --- the timer thread's own store handle (timer_store.c) --- */
/* At init: opens it on PostgreSQL (0; SQLite: none, 0; -1: the open failed,
 * logged). Without one, its work runs under glue.lock. */
int glue_timer_store_open(void);
void glue_timer_store_close(void);
/* Timer thread only: its handle, or glue.store with glue.lock taken when it
 * has none; give it back with glue_timer_store_end(). */
consult_store *glue_timer_store_begin(void);
void glue_timer_store_end(consult_store *st);
/* Store failures of the timer's handle so far; any thread. */
unsigned glue_timer_store_errors(void);

/* --- durable waiting rooms (restore.c), under glue.lock --- */
#define GLUE_ALIVE_EVERY_S 5
/* At init: every live visit of the store back into its room (restore.c),
 * for the practices served here. */
void glue_restore_rooms(int64_t now);
/* The live visits of one practice (0: every practice served here) back
 * into their rooms; gone: when the server that had them went away, 0:
 * from the lifecycle row (heartbeat, clean stop). */
void glue_restore_room(int64_t now, int64_t practice_id, int64_t gone);
/* The heartbeat on st (init: glue.store under glue.lock; the timer: its
 * own handle, without it) and a clean stop (under glue.lock). No heartbeat
 * is written once the stop is recorded: the stop's time stays the newest. */
void glue_lifecycle_alive(consult_store *st, int64_t now);
void glue_lifecycle_stopped(int64_t now);

/* --- leases: which practices this instance serves (leases.c) --- */
/* At init, under glue.lock, before the restore: claims the free practices
 * (lease_seconds 0: leases off, every practice served here) and starts the
 * renewer thread. 0 or -1. */
int glue_leases_init(void);
/* Stops the renewer (no renewal after it returns); WITHOUT glue.lock. */
void glue_leases_stop(void);
/* Stops the renewer and frees everything; WITHOUT glue.lock. */
void glue_leases_free(void);
bool glue_leases_on(void);
/* Does this instance serve practice_id now? Always true with leases off. Under glue.lock. */
bool glue_lease_serves(int64_t practice_id);
/* A request about practice_id: OK if served here (a free lease is claimed
 * now and its room restored), else PRACTICE_ELSEWHERE with "instance" (the
 * holder, or null) in c->error_extra. Under glue.lock. */
consult_err glue_lease_require(glue_ctx *c, int64_t practice_id);
/* PRACTICE_ELSEWHERE with "instance" (the holder, or null) in c->error_extra. Under glue.lock. */
consult_err glue_lease_refuse(glue_ctx *c, int64_t practice_id);
/* Timer, once a second, WITHOUT glue.lock: drop, claim (renewals are the renewer's). */
void glue_leases_tick(void);
/* Clean stop, under glue.lock: every lease of this instance given up. */
void glue_leases_release(void);
/* Store failures of the renewer's own handle so far (0 without one); any thread. */
unsigned glue_leases_store_errors(void);
/* `health`'s "lease" object. Under glue.lock. */
json_t *glue_leases_health(void);

/* --- forwarded legs lost (call.c) --- */
/* Ends (CONNECTION_LOST) the calls whose forwarded leg went at least a
 * second ago while its handle stayed, each under its practice's lock (the
 * timer, without any lock); all: forget every entry (shutdown, under glue.lock). */
void glue_forward_losses_run(int64_t now, bool all);

/* --- graceful stop (stop.c) --- */
/* At init: SIGTERM/SIGINT first reach the plugin, which tells every handle
 * `server_restarting`, records the stop and then calls Janus' own handler;
 * 0 or -1 (logged). */
int glue_stop_watch_start(void);
/* At destroy: Janus' handlers back, the watcher thread joined. */
void glue_stop_watch_end(void);

/* A staff handle just resumed its session (resume request). If its doctor holds a call in
 * p's room: resume_call == that visit -> the handle holds the call again (*call_out gets
 * {"visit_id","state", ice fields as in call_accepted}); otherwise, if this very login
 * session held the call (a reloaded page that lost its media), the doctor side is
 * dropped (patient requeued at the head); a call of another login of the doctor (or of
 * an unknown one after a restart) is left alone. *call_out = NULL if no call. Under glue.lock.
 * s must be logged in (GLUE_STAFF, in p->staff). Call it before logging out the member's
 * previous handle: a call that handle still holds moves to s (or is dropped), so the
 * logout no longer ends it. (call.c) */
void glue_doctor_reattach(glue_practice *p, glue_session *s, int64_t resume_call, int64_t now, json_t **call_out);
/* A doctor logged in with the password (a new page: no call's media in it).
 * A call of theirs held with no handle on the doctor side is given up now
 * (patient back at the head, doctor_left) instead of blocking the doctor's
 * next call until its hold ends. Under glue.lock. (call.c) */
void glue_doctor_fresh_login(glue_practice *p, glue_session *s, int64_t now);

/* Staff session leaves its practice (logout, disable, handle gone): ends
 * or drops its call, removes it from the staff list. Under glue.lock. */
void glue_staff_detach(glue_session *s, bool handle_gone, int64_t now);
/* Patient handle gone: its call is held, else PATIENT_DROP (place kept),
 * unless its visit already ended. */
void glue_patient_detach(glue_session *s, int64_t now);

#endif
