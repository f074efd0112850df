/* room.c - one practice's live waiting room.
 *
 * Contract: see room.h. Visits live in hash maps by id, by appointment and
 * (while ringing or in a call) by doctor; the queue holds exactly the
 * WAITING and AWAY visits, the AWAY ones marked away (counted in nobody's
 * position) and unmarked when they come back. A visit keeps its queue keys
 * (appt_time, arrival_seq, head) while it is RINGING/IN_CALL, so
 * DECLINE/CANCEL_RING puts it back at the same place and DOCTOR_DROP at the
 * head.
 * Capacity for every live visit, and for its later place in the memory of
 * ended visits, is reserved at join time, so consult_room_apply() never
 * allocates and never fails half-way: an ended visit's record moves from
 * the live map to the ended map.
 *
 * Check order for CALL (documented decision): the visit must exist and be
 * visible to the actor (consult_doctor_sees), else NOT_FOUND - unless it
 * ended recently and the actor saw it: ALREADY_CALLED; then the visit's
 * state (ALREADY_CALLED / PATIENT_AWAY / WRONG_STATE from visit.h); then
 * the actor must not be ringing/in a call, else DOCTOR_BUSY. So a busy
 * doctor calling a patient someone else already rings learns
 * ALREADY_CALLED. CANCEL_RING, HANGUP_DOCTOR and DOCTOR_DROP need actor ==
 * the visit's call_doctor_id (> 0), else NOT_FOUND, before the state table
 * is consulted. Patient events ignore the actor.
 */
#include <stdlib.h>
#include <string.h>
#include "room.h"
#include "queue.h"
#include "imap.h"
#include "rejoin.h"

typedef struct room_visit {
	consult_visit v; /* first: &rv->v and rv are the same pointer */
	uint64_t arrival_seq;
	int64_t ended_at; /* in the ended map: when the visit ended */
} room_visit;

struct consult_room {
	int64_t practice_id;
	consult_queue *q;
	consult_imap by_id, by_appt, by_doctor;
	consult_imap ended; /* id -> room_visit of an ended visit, kept CONSULT_ENDED_KEEP_S */
	uint64_t arrivals;
};

static bool queued(consult_visit_state s)
{
	return s == CONSULT_VISIT_WAITING || s == CONSULT_VISIT_AWAY;
}

static bool with_doctor(consult_visit_state s)
{
	return s == CONSULT_VISIT_RINGING || s == CONSULT_VISIT_IN_CALL;
}

consult_room *consult_room_new(int64_t practice_id)
{
	consult_room *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->practice_id = practice_id;
	r->q = consult_queue_new();
	if (!r->q) {
		free(r);
		return NULL;
	}
	consult_imap_init(&r->by_id);
	consult_imap_init(&r->by_appt);
	consult_imap_init(&r->by_doctor);
	consult_imap_init(&r->ended);
	return r;
}

void consult_room_free(consult_room *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->by_id.cap; i++)
		free(r->by_id.slots[i].val);
	for (size_t i = 0; i < r->ended.cap; i++)
		free(r->ended.slots[i].val);
	consult_imap_clear(&r->ended);
	consult_imap_clear(&r->by_id);
	consult_imap_clear(&r->by_appt);
	consult_imap_clear(&r->by_doctor);
	consult_queue_free(r->q);
	free(r);
}

int64_t consult_room_practice(const consult_room *r)
{
	return r->practice_id;
}

static bool enqueue(consult_room *r, room_visit *rv)
{
	consult_queue_entry e = {
		.visit_id = rv->v.id,
		.doctor_id = rv->v.doctor_id,
		.appt_time = rv->v.appt_time,
		.arrival_seq = rv->arrival_seq,
		.head = rv->v.head,
		.away = rv->v.state == CONSULT_VISIT_AWAY,
		.told_ahead = CONSULT_AHEAD_UNKNOWN,
		.user = rv,
	};
	return consult_queue_insert(r->q, &e);
}

/* A new live visit record with room reserved for it everywhere, not yet
 * in any map; NULL with *err set (CONFLICT, INTERNAL). */
static room_visit *admit(consult_room *r, const consult_visit_init *in, consult_err *err)
{
	*err = CONSULT_ERR_CONFLICT;
	if (consult_imap_get(&r->by_id, in->id))
		return NULL;
	if (in->appointment_id && consult_imap_get(&r->by_appt, in->appointment_id))
		return NULL;
	*err = CONSULT_ERR_INTERNAL;
	size_t n = r->by_id.len + 1;
	if (!consult_imap_reserve(&r->by_id, n) || !consult_imap_reserve(&r->by_appt, n) ||
	        !consult_imap_reserve(&r->by_doctor, n) || !consult_queue_reserve(r->q, n) ||
	        !consult_imap_reserve(&r->ended, r->ended.len + n))
		return NULL;
	room_visit *rv = calloc(1, sizeof *rv);
	if (!rv)
		return NULL;
	*err = CONSULT_OK;
	rv->v.id = in->id;
	rv->v.appointment_id = in->appointment_id;
	rv->v.doctor_id = in->doctor_id;
	rv->v.appt_time = in->appt_time;
	rv->v.joined_at = in->joined_at;
	rv->v.state = CONSULT_VISIT_WAITING;
	rv->v.patient = in->patient;
	rv->arrival_seq = ++r->arrivals;
	return rv;
}

/* Puts an admitted record in the maps (all reserved: cannot fail). */
static void admit_put(consult_room *r, room_visit *rv)
{
	consult_imap_put(&r->by_id, rv->v.id, rv);
	if (rv->v.appointment_id)
		consult_imap_put(&r->by_appt, rv->v.appointment_id, rv);
	if (queued(rv->v.state))
		enqueue(r, rv);
	else
		consult_imap_put(&r->by_doctor, rv->v.call_doctor_id, rv);
}

consult_err consult_room_join(consult_room *r, const consult_visit_init *in, consult_visit **out)
{
	consult_err err;
	room_visit *rv = admit(r, in, &err);
	if (!rv)
		return err;
	admit_put(r, rv);
	if (out)
		*out = &rv->v;
	return CONSULT_OK;
}

consult_err consult_room_restore(consult_room *r, const consult_visit_restore *in, consult_visit **out)
{
	if (in->state != CONSULT_VISIT_WAITING && in->state != CONSULT_VISIT_AWAY &&
	        in->state != CONSULT_VISIT_RINGING && in->state != CONSULT_VISIT_IN_CALL)
		return CONSULT_ERR_WRONG_STATE;
	consult_visit_init init = { .id = in->id,
		.appointment_id = in->appointment_id,
		.doctor_id = in->doctor_id,
		.appt_time = in->appt_time,
		.joined_at = in->joined_at };
	consult_err err;
	room_visit *rv = admit(r, &init, &err);
	if (!rv)
		return err;
	consult_visit *v = &rv->v;
	bool held = in->state == CONSULT_VISIT_IN_CALL && in->called_by > 0 &&
	        consult_doctor_sees(in->doctor_id, in->called_by) && !consult_imap_get(&r->by_doctor, in->called_by);
	v->head = in->head || in->state == CONSULT_VISIT_RINGING || (in->state == CONSULT_VISIT_IN_CALL && !held);
	v->away_since = in->away_since ? in->away_since : in->gone_at;
	v->away_until = in->until;
	if (held) {
		v->state = CONSULT_VISIT_IN_CALL;
		v->call_doctor_id = in->called_by;
		v->doctor_until = in->until;
	} else {
		v->state = CONSULT_VISIT_AWAY;
	}
	admit_put(r, rv);
	if (out)
		*out = v;
	return CONSULT_OK;
}

consult_visit *consult_room_visit(consult_room *r, int64_t visit_id)
{
	return consult_imap_get(&r->by_id, visit_id);
}

consult_visit *consult_room_visit_of_appointment(consult_room *r, int64_t appointment_id)
{
	return consult_imap_get(&r->by_appt, appointment_id);
}

consult_visit *consult_room_doctor_visit(consult_room *r, int64_t doctor_id)
{
	return consult_imap_get(&r->by_doctor, doctor_id);
}

static bool doctor_event(consult_visit_event ev)
{
	return ev == CONSULT_EV_CANCEL_RING || ev == CONSULT_EV_HANGUP_DOCTOR || ev == CONSULT_EV_DOCTOR_DROP ||
	        ev == CONSULT_EV_DOCTOR_HOLD || ev == CONSULT_EV_DOCTOR_RESUME;
}

consult_err consult_room_check(
        const consult_room *r, int64_t visit_id, consult_visit_event ev, int64_t actor_doctor, consult_visit_step *step)
{
	const room_visit *rv = consult_imap_get(&r->by_id, visit_id);
	if (!rv) {
		const room_visit *gone = consult_imap_get(&r->ended, visit_id);
		if (ev == CONSULT_EV_CALL && gone && consult_doctor_sees(gone->v.doctor_id, actor_doctor))
			return CONSULT_ERR_ALREADY_CALLED;
		return CONSULT_ERR_NOT_FOUND;
	}
	const consult_visit *v = &rv->v;
	if (ev == CONSULT_EV_CALL) {
		if (!consult_doctor_sees(v->doctor_id, actor_doctor))
			return CONSULT_ERR_NOT_FOUND;
	} else if (doctor_event(ev)) {
		if (actor_doctor <= 0 || v->call_doctor_id != actor_doctor)
			return CONSULT_ERR_NOT_FOUND;
	}
	consult_visit_step st;
	consult_err err = consult_visit_step_for(v->state, ev, &st);
	if (err != CONSULT_OK)
		return err;
	if (ev == CONSULT_EV_CALL && consult_imap_get(&r->by_doctor, actor_doctor))
		return CONSULT_ERR_DOCTOR_BUSY;
	/* a side is held once and resumed only while held */
	if ((ev == CONSULT_EV_PATIENT_HOLD && !v->patient) || (ev == CONSULT_EV_DOCTOR_HOLD && v->doctor_until) ||
	        (ev == CONSULT_EV_DOCTOR_RESUME && !v->doctor_until))
		return CONSULT_ERR_WRONG_STATE;
	/* the doctor side of a call goes while the patient side is detached */
	if (ev == CONSULT_EV_DOCTOR_DROP && v->state == CONSULT_VISIT_IN_CALL && !v->patient)
		st.next = CONSULT_VISIT_AWAY;
	if (step)
		*step = st;
	return CONSULT_OK;
}

consult_err consult_room_apply(consult_room *r, int64_t visit_id, consult_visit_event ev, int64_t actor_doctor,
        int64_t now, int64_t grace_s, void *patient, consult_room_change *out)
{
	consult_visit_step step;
	consult_err err = consult_room_check(r, visit_id, ev, actor_doctor, &step);
	if (err != CONSULT_OK)
		return err;
	room_visit *rv = consult_imap_get(&r->by_id, visit_id);
	consult_visit *v = &rv->v;

	/* from here on nothing can fail */
	consult_visit_state from = v->state;
	int64_t concerned = ev == CONSULT_EV_CALL ? actor_doctor : v->call_doctor_id;
	if (queued(from) && !queued(step.next))
		consult_queue_remove(r->q, v->id);
	if (with_doctor(from) && !with_doctor(step.next)) {
		consult_imap_del(&r->by_doctor, v->call_doctor_id);
		v->call_doctor_id = 0;
		v->doctor_until = 0;
	}
	if (ev == CONSULT_EV_CALL) {
		v->call_doctor_id = actor_doctor;
		consult_imap_put(&r->by_doctor, actor_doctor, rv);
	}
	if ((ev == CONSULT_EV_PATIENT_DROP || ev == CONSULT_EV_PATIENT_HOLD) && v->patient) {
		v->patient = NULL;
		v->away_until = now + grace_s;
		v->away_since = now;
	} else if (ev == CONSULT_EV_PATIENT_BACK || ev == CONSULT_EV_PATIENT_RESUME) {
		v->patient = patient;
		v->away_until = 0;
		v->away_since = 0;
		v->camera = v->microphone = CONSULT_READY_UNCHECKED; /* a new page checks anew */
	} else if (ev == CONSULT_EV_DOCTOR_HOLD) {
		v->doctor_until = now + grace_s;
	} else if (ev == CONSULT_EV_DOCTOR_RESUME) {
		v->doctor_until = 0;
	}
	if (step.to_head)
		v->head = true;
	v->state = step.next;
	if (!queued(from) && queued(step.next))
		enqueue(r, rv);
	else if (queued(from) && queued(step.next))
		consult_queue_set_away(r->q, v->id, step.next == CONSULT_VISIT_AWAY);
	if (out) {
		out->from = from;
		out->step = step;
		out->doctor_id = concerned;
		out->visit = *v;
	}
	if (step.next == CONSULT_VISIT_ENDED) {
		consult_imap_del(&r->by_id, v->id);
		if (v->appointment_id && consult_imap_get(&r->by_appt, v->appointment_id) == rv)
			consult_imap_del(&r->by_appt, v->appointment_id);
		v->patient = NULL;
		rv->ended_at = now;
		free(consult_imap_del(&r->ended, v->id)); /* an id ends once; defensive */
		consult_imap_put(&r->ended, v->id, rv);   /* reserved at join */
	}
	return CONSULT_OK;
}

consult_err consult_room_take_over(consult_room *r, int64_t visit_id, void *patient)
{
	room_visit *rv = consult_imap_get(&r->by_id, visit_id);
	if (!rv)
		return CONSULT_ERR_NOT_FOUND;
	if (rv->v.state != CONSULT_VISIT_WAITING && rv->v.state != CONSULT_VISIT_RINGING)
		return CONSULT_ERR_WRONG_STATE;
	rv->v.patient = patient;
	rv->v.camera = rv->v.microphone = CONSULT_READY_UNCHECKED;
	return CONSULT_OK;
}

consult_err consult_room_set_readiness(
        consult_room *r, int64_t visit_id, consult_readiness camera, consult_readiness microphone, bool *changed)
{
	room_visit *rv = consult_imap_get(&r->by_id, visit_id);
	if (changed)
		*changed = false;
	if (!rv)
		return CONSULT_ERR_NOT_FOUND;
	if (rv->v.state != CONSULT_VISIT_WAITING && rv->v.state != CONSULT_VISIT_RINGING)
		return CONSULT_ERR_WRONG_STATE;
	if ((unsigned)camera >= CONSULT_READINESS_COUNT || (unsigned)microphone >= CONSULT_READINESS_COUNT)
		return CONSULT_ERR_INVALID_FIELD;
	if (changed)
		*changed = rv->v.camera != camera || rv->v.microphone != microphone;
	rv->v.camera = camera;
	rv->v.microphone = microphone;
	return CONSULT_OK;
}

const consult_visit *consult_room_ended(const consult_room *r, int64_t visit_id)
{
	const room_visit *rv = consult_imap_get(&r->ended, visit_id);
	return rv ? &rv->v : NULL;
}

size_t consult_room_ended_count(const consult_room *r)
{
	return r->ended.len;
}

size_t consult_room_ended_prune(consult_room *r, int64_t now)
{
	size_t gone = 0;
	/* Deleting shifts later entries of a cluster back into slot i (or, at
	 * the wrap, to slots already seen): look at slot i again after a delete. */
	for (size_t i = 0; i < r->ended.cap;) {
		room_visit *rv = r->ended.slots[i].val;
		if (rv && !consult_ended_kept(rv->ended_at, now)) {
			free(consult_imap_del(&r->ended, rv->v.id));
			gone++;
		} else {
			i++;
		}
	}
	return gone;
}

typedef struct collect {
	int64_t *ids;
	size_t n, max;
	int64_t now;
} collect;

static void collect_due(const consult_queue_entry *e, void *ud)
{
	collect *c = ud;
	const room_visit *rv = e->user;
	if (rv->v.state == CONSULT_VISIT_AWAY && c->now >= rv->v.away_until) {
		if (c->n < c->max)
			c->ids[c->n] = e->visit_id;
		c->n++;
	}
}

size_t consult_room_due(consult_room *r, int64_t now, int64_t *ids, size_t max)
{
	collect c = { .ids = ids, .n = 0, .max = max, .now = now };
	consult_queue_foreach(r->q, 0, collect_due, &c);
	return c.n;
}

size_t consult_room_held_due(consult_room *r, int64_t now, consult_room_due_item *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < r->by_doctor.cap; i++) {
		const room_visit *rv = r->by_doctor.slots[i].val;
		if (!rv || rv->v.state != CONSULT_VISIT_IN_CALL)
			continue;
		consult_room_due_item it = { rv->v.id, CONSULT_EV_COUNT, 0 };
		if (!rv->v.patient && rv->v.away_until && now >= rv->v.away_until)
			it.ev = CONSULT_EV_PATIENT_DROP;
		else if (rv->v.doctor_until && now >= rv->v.doctor_until) {
			it.ev = CONSULT_EV_DOCTOR_DROP;
			it.doctor_id = rv->v.call_doctor_id;
		}
		if (it.ev == CONSULT_EV_COUNT)
			continue;
		if (n < max)
			out[n] = it;
		n++;
	}
	return n;
}

size_t consult_room_expire(consult_room *r, int64_t now, consult_room_change_cb cb, void *ud)
{
	size_t len = consult_queue_len(r->q);
	if (!len)
		return 0;
	int64_t *ids = malloc(len * sizeof(int64_t));
	if (!ids)
		return 0; /* try again at the next tick */
	size_t n = consult_room_due(r, now, ids, len);
	size_t done = 0;
	for (size_t i = 0; i < n; i++) {
		consult_room_change ch;
		if (consult_room_apply(r, ids[i], CONSULT_EV_GRACE_EXPIRED, 0, now, 0, NULL, &ch) != CONSULT_OK)
			continue;
		done++;
		if (cb)
			cb(&ch, ud);
	}
	free(ids);
	return done;
}

typedef struct each_ctx {
	consult_room_each_cb cb;
	void *ud;
	uint32_t index;
} each_ctx;

static void each_waiting(const consult_queue_entry *e, void *ud)
{
	each_ctx *c = ud;
	c->cb(&((const room_visit *)e->user)->v, c->index++, c->ud);
}

void consult_room_foreach_waiting(consult_room *r, int64_t doctor_id, consult_room_each_cb cb, void *ud)
{
	each_ctx c = { cb, ud, 0 };
	consult_queue_foreach(r->q, doctor_id, each_waiting, &c);
}

void consult_room_foreach(consult_room *r, consult_room_each_cb cb, void *ud)
{
	uint32_t idx = 0;
	for (size_t i = 0; i < r->by_id.cap; i++)
		if (r->by_id.slots[i].val)
			cb(&((room_visit *)r->by_id.slots[i].val)->v, idx++, ud);
}

uint32_t consult_room_ahead(consult_room *r, int64_t visit_id)
{
	return consult_queue_ahead(r->q, visit_id);
}

typedef struct pos_ctx {
	consult_room_pos_cb cb;
	void *ud;
} pos_ctx;

static void each_pos(consult_queue_entry *e, uint32_t ahead, void *ud)
{
	pos_ctx *c = ud;
	if (c->cb)
		c->cb(&((room_visit *)e->user)->v, ahead, c->ud);
}

size_t consult_room_positions(consult_room *r, consult_room_pos_cb cb, void *ud)
{
	pos_ctx c = { cb, ud };
	return consult_queue_positions(r->q, each_pos, &c);
}

typedef struct wait_ctx {
	consult_room_wait_cb wait;
	consult_room_told_cb cb;
	void *ud;
	consult_wait last; /* the estimate just computed for the entry the queue may report next */
} wait_ctx;

static uint64_t each_wait(const consult_queue_entry *e, uint32_t ahead, void *ud)
{
	wait_ctx *c = ud;
	consult_wait none = { false, 0, 0 };
	c->last = c->wait ? c->wait(&((const room_visit *)e->user)->v, ahead, c->ud) : none;
	return consult_wait_pack(c->last);
}

static void each_told(consult_queue_entry *e, uint32_t ahead, void *ud)
{
	wait_ctx *c = ud;
	if (c->cb) /* the queue asks for an entry's extra value just before reporting it */
		c->cb(&((room_visit *)e->user)->v, ahead, c->last, c->ud);
}

size_t consult_room_positions_wait(consult_room *r, consult_room_wait_cb wait, consult_room_told_cb cb, void *ud)
{
	wait_ctx c = { .wait = wait, .cb = cb, .ud = ud };
	return consult_queue_positions_with(r->q, each_wait, each_told, &c);
}

void consult_room_counts(const consult_room *r, size_t counts[CONSULT_VISIT_STATE_COUNT])
{
	memset(counts, 0, CONSULT_VISIT_STATE_COUNT * sizeof counts[0]);
	for (size_t i = 0; i < r->by_id.cap; i++) {
		const room_visit *rv = r->by_id.slots[i].val;
		if (rv && (unsigned)rv->v.state < CONSULT_VISIT_STATE_COUNT)
			counts[rv->v.state]++;
	}
}
