/* fuzz_room.c - the waiting room (room.c, visit.c, queue.c) and its
 * decisions (decide.c) driven by random event sequences.
 *
 * The input is a program of 3-byte steps: op, a, b. Visits get fresh ids
 * (never reused), doctors come from 1..3, the clock only moves forward.
 * Steps: join (sometimes with a live id or appointment: must be CONFLICT),
 * any visit event by any actor, grace expiry, position reports. A shadow
 * model keeps what the harness knows independently (live ids, ended ids,
 * arrival order, head flag, appointment time). After every step:
 *   - live set = model's live set; no ended id is live; no visit ENDED;
 *   - one call per doctor: ringing/in-call visits have distinct
 *     call_doctor_id > 0, equal to consult_room_doctor_visit(), visible to
 *     that doctor; waiting/away visits have no call doctor;
 *   - the waiting list is exactly the WAITING+AWAY visits, indexed 0..n-1,
 *     ordered head first, then appointment time, then arrival;
 *   - each waiting visit's "ahead" is the number of competing visits before
 *     it (same doctor or any-doctor; everyone for an any-doctor visit),
 *     non-waiting visits have none; per-doctor lists are the filtered
 *     order; position reports agree and are not repeated;
 *   - consult_room_counts agrees; a refused event changed nothing.
 * Visit events go through consult_room_decide() and the room change of its
 * effect list is carried out as the glue does (consult_room_apply). Per
 * decision: deciding changes nothing; its error is consult_room_check()'s
 * and comes with no effects; otherwise the list starts with the one store
 * write that fits the step, then APPLY (d.changed == 2), and ends with
 * POSITIONS; pushes to a patient name that visit and go to its own handle
 * (the returning one for PATIENT_BACK), never a list, arrival or
 * appointment event; pushes to a doctor go to the call's doctor (the
 * caller for CALL); the call is bound only by CALL and unbound exactly
 * when the visit leaves RINGING/IN_CALL; a connection_lost reporter hears
 * nothing. A late CALL on an ended visit is refused (already_called while
 * remembered). The timer also forgets ended visits after their time.
 */
#include "fuzz.h"
#include "core/room.h"
#include "core/decide.h"
#include "core/queue.h"
#include "core/visit.h"
#include "core/rejoin.h"
#include "core/errors.h"

#define MAXV 12
#define NDOC 3

typedef struct mvisit {
	int64_t id, appt, doctor, appt_time;
	uint64_t arrival;
	bool head, live;
} mvisit;

typedef struct model {
	mvisit v[MAXV];
	size_t n;
	uint64_t arrivals;
	int patients[MAXV];
} model;

static mvisit *mfind(model *m, int64_t id)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].id == id)
			return &m->v[i];
	return NULL;
}

typedef struct snap {
	int64_t id, call_doctor, away_until;
	consult_visit_state st;
	void *patient;
} snap;
typedef struct snaps {
	snap s[MAXV + 1];
	size_t n;
} snaps;

static void snap_cb(const consult_visit *v, uint32_t idx, void *ud)
{
	snaps *s = ud;
	FZ_CHECK(s->n < MAXV);
	snap *x = &s->s[s->n++];
	memset(x, 0, sizeof *x); /* padding too: snapshots are compared with memcmp */
	x->id = v->id;
	x->call_doctor = v->call_doctor_id;
	x->away_until = v->away_until;
	x->st = v->state;
	x->patient = v->patient;
}

static int snap_cmp(const void *a, const void *b)
{
	const snap *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void take(consult_room *r, snaps *s)
{
	s->n = 0;
	consult_room_foreach(r, snap_cb, s);
	qsort(s->s, s->n, sizeof s->s[0], snap_cmp);
}

typedef struct wl {
	const consult_visit *v[MAXV + 1];
	uint32_t idx[MAXV + 1];
	size_t n;
} wl;

static void wl_cb(const consult_visit *v, uint32_t idx, void *ud)
{
	wl *l = ud;
	FZ_CHECK(l->n < MAXV);
	l->v[l->n] = v;
	l->idx[l->n++] = idx;
}

static bool competes(const consult_visit *before, const consult_visit *v)
{
	return v->doctor_id == 0 || before->doctor_id == 0 || before->doctor_id == v->doctor_id;
}

typedef struct posctx {
	consult_room *r;
	size_t n;
} posctx;

static void pos_cb(consult_visit *v, uint32_t ahead, void *ud)
{
	posctx *c = ud;
	FZ_CHECK(v->state == CONSULT_VISIT_WAITING || v->state == CONSULT_VISIT_AWAY);
	FZ_CHECK(consult_room_ahead(c->r, v->id) == ahead);
	c->n++;
}

static void check(consult_room *r, model *m)
{
	snaps s;
	take(r, &s);
	size_t counts[CONSULT_VISIT_STATE_COUNT], mine[CONSULT_VISIT_STATE_COUNT] = { 0 };
	consult_room_counts(r, counts);
	size_t live = 0;
	for (size_t i = 0; i < m->n; i++) {
		mvisit *mv = &m->v[i];
		consult_visit *v = consult_room_visit(r, mv->id);
		if (!mv->live) {
			FZ_CHECK(v == NULL); /* no id both ended and live */
			continue;
		}
		live++;
		FZ_CHECK(v != NULL && v->id == mv->id);
		FZ_CHECK(consult_room_visit_of_appointment(r, mv->appt) == v);
		FZ_CHECK(v->doctor_id == mv->doctor && v->appt_time == mv->appt_time);
		FZ_CHECK((unsigned)v->state < CONSULT_VISIT_ENDED);
		mine[v->state]++;
		bool with_doc = v->state == CONSULT_VISIT_RINGING || v->state == CONSULT_VISIT_IN_CALL;
		if (with_doc) {
			FZ_CHECK(v->call_doctor_id > 0);
			FZ_CHECK(v->doctor_id == 0 || v->doctor_id == v->call_doctor_id);
			FZ_CHECK(consult_room_doctor_visit(r, v->call_doctor_id) == v);
			FZ_CHECK(consult_room_ahead(r, v->id) == CONSULT_AHEAD_UNKNOWN);
		} else {
			FZ_CHECK(v->call_doctor_id == 0); /* its exact "ahead" is checked below */
		}
		/* no handle: AWAY, or a call whose patient side is held */
		FZ_CHECK((v->patient == NULL) ==
		        (v->state == CONSULT_VISIT_AWAY || (v->state == CONSULT_VISIT_IN_CALL && v->away_since > 0)));
		FZ_CHECK(v->state == CONSULT_VISIT_IN_CALL || v->doctor_until == 0);
	}
	FZ_CHECK(s.n == live);
	for (size_t i = 1; i < s.n; i++)
		FZ_CHECK(s.s[i - 1].id != s.s[i].id); /* each visit once, in one state */
	for (int st = 0; st < CONSULT_VISIT_STATE_COUNT; st++)
		FZ_CHECK(counts[st] == mine[st]);
	/* one call per doctor */
	for (size_t i = 0; i < s.n; i++)
		for (size_t j = i + 1; j < s.n; j++)
			FZ_CHECK(s.s[i].call_doctor == 0 || s.s[i].call_doctor != s.s[j].call_doctor);
	for (int64_t d = 0; d <= NDOC + 1; d++) {
		consult_visit *v = consult_room_doctor_visit(r, d);
		FZ_CHECK(d > 0 || v == NULL);
		if (v) {
			FZ_CHECK(v->call_doctor_id == d);
			FZ_CHECK(v->state == CONSULT_VISIT_RINGING || v->state == CONSULT_VISIT_IN_CALL);
		}
	}
	/* the waiting list: order, indexes, positions */
	wl all = { .n = 0 };
	consult_room_foreach_waiting(r, 0, wl_cb, &all);
	FZ_CHECK(all.n == counts[CONSULT_VISIT_WAITING] + counts[CONSULT_VISIT_AWAY]);
	for (size_t i = 0; i < all.n; i++) {
		const consult_visit *v = all.v[i];
		FZ_CHECK(all.idx[i] == i);
		FZ_CHECK(v->state == CONSULT_VISIT_WAITING || v->state == CONSULT_VISIT_AWAY);
		for (size_t j = 0; j < i; j++)
			FZ_CHECK(all.v[j] != v);
		if (i) {
			mvisit *a = mfind(m, all.v[i - 1]->id), *b = mfind(m, v->id);
			FZ_CHECK(a && b && a->live && b->live);
			bool ordered = a->head != b->head      ? a->head
			        : a->appt_time != b->appt_time ? a->appt_time < b->appt_time
			                                       : a->arrival < b->arrival;
			FZ_CHECK(ordered);
		}
		uint32_t ahead = 0; /* AWAY visits count in nobody's position */
		for (size_t j = 0; j < i; j++)
			if (competes(all.v[j], v) && all.v[j]->state != CONSULT_VISIT_AWAY)
				ahead++;
		FZ_CHECK(consult_room_ahead(r, v->id) == ahead);
	}
	for (int64_t d = 1; d <= NDOC; d++) {
		wl mine_d = { .n = 0 };
		consult_room_foreach_waiting(r, d, wl_cb, &mine_d);
		size_t k = 0;
		for (size_t i = 0; i < all.n; i++) {
			if (all.v[i]->doctor_id != 0 && all.v[i]->doctor_id != d)
				continue;
			FZ_CHECK(k < mine_d.n && mine_d.v[k] == all.v[i] && mine_d.idx[k] == k);
			k++;
		}
		FZ_CHECK(k == mine_d.n);
	}
}

static void apply_checked(consult_room *r, model *m, int64_t id, consult_visit_event ev, int64_t actor, int64_t now,
        int64_t grace, void *patient)
{
	snaps before, after;
	take(r, &before);
	consult_visit *old = consult_room_visit(r, id);
	consult_visit_state from = old ? old->state : CONSULT_VISIT_ENDED;
	consult_room_change ch;
	memset(&ch, 0, sizeof ch);
	consult_err e = consult_room_apply(r, id, ev, actor, now, grace, patient, &ch);
	if (e != CONSULT_OK) {
		take(r, &after);
		FZ_CHECK(before.n == after.n && memcmp(before.s, after.s, before.n * sizeof before.s[0]) == 0);
		FZ_CHECK(strcmp(consult_err_name(e), "internal") != 0);
		return;
	}
	mvisit *mv = mfind(m, id);
	FZ_CHECK(mv && mv->live);
	FZ_CHECK(ch.from == from && ch.visit.id == id && ch.visit.state == ch.step.next);
	if (ev == CONSULT_EV_CALL) {
		FZ_CHECK(ch.step.next == CONSULT_VISIT_RINGING && ch.doctor_id == actor);
	}
	if (ch.step.to_head)
		mv->head = true;
	if (ch.step.next == CONSULT_VISIT_ENDED) {
		FZ_CHECK(ch.step.reason != CONSULT_END_NONE);
		mv->live = false;
	} else {
		FZ_CHECK(ch.step.reason == CONSULT_END_NONE);
	}
}

static bool patient_only(consult_push_event ev)
{
	return ev != CONSULT_PUSH_waiting && ev != CONSULT_PUSH_patient_arrived && ev != CONSULT_PUSH_appointment &&
	        ev != CONSULT_PUSH_call_accepted && ev != CONSULT_PUSH_call_declined && ev != CONSULT_PUSH_patient_away;
}

/* A visit event through consult_room_decide(); its room change carried out
 * by apply_checked() as the glue would (see the contract on top). */
static void decide_checked(consult_room *r, model *m, int64_t id, consult_visit_event ev, consult_actor a, int64_t now,
        int64_t grace, void *patient)
{
	snaps before, after;
	take(r, &before);
	const consult_visit *v = consult_room_visit(r, id);
	void *had = v ? v->patient : NULL;
	int64_t call_doctor = v ? v->call_doctor_id : 0;
	consult_room_event in = {
		.in = CONSULT_IN_VISIT, .ev = ev, .visit_id = id, .patient = patient, .grace_s = grace
	};
	consult_decision d;
	consult_err e = consult_room_decide(r, &in, &a, now, &d);
	take(r, &after);
	FZ_CHECK(before.n == after.n && memcmp(before.s, after.s, before.n * sizeof before.s[0]) == 0);
	int64_t actor_doctor = a.kind == CONSULT_ACTOR_DOCTOR ? a.doctor_id : 0;
	FZ_CHECK(e == consult_room_check(r, id, ev, actor_doctor, NULL));
	mvisit *mv = mfind(m, id);
	if (mv && !mv->live && ev == CONSULT_EV_CALL)
		FZ_CHECK(e == CONSULT_ERR_ALREADY_CALLED || e == CONSULT_ERR_NOT_FOUND);
	if (e != CONSULT_OK) {
		FZ_CHECK(d.fx.n == 0 && !d.has_step && e != CONSULT_ERR_INTERNAL);
		return;
	}
	FZ_CHECK(v && d.has_step && d.visit_id == id && d.fx.n >= 3 && d.changed == 2);
	bool ended = d.step.next == CONSULT_VISIT_ENDED;
	bool with_doc = d.step.next == CONSULT_VISIT_RINGING || d.step.next == CONSULT_VISIT_IN_CALL;
	consult_fx_kind store = ended   ? CONSULT_FX_STORE_END
	        : ev == CONSULT_EV_CALL ? CONSULT_FX_STORE_RING
	                                : CONSULT_FX_STORE_STATE;
	FZ_CHECK(d.fx.fx[0].kind == store && d.fx.fx[0].visit_id == id);
	FZ_CHECK(d.fx.fx[1].kind == CONSULT_FX_APPLY && d.fx.fx[1].ev == ev);
	FZ_CHECK(d.fx.fx[d.fx.n - 1].kind == CONSULT_FX_POSITIONS);
	void *own = ev == CONSULT_EV_PATIENT_BACK || ev == CONSULT_EV_PATIENT_RESUME ? patient : had;
	int64_t doc = ev == CONSULT_EV_CALL ? actor_doctor : call_doctor;
	bool lost = ev == CONSULT_EV_CONNECTION_LOST;
	size_t binds = 0, unbinds = 0;
	for (size_t i = 2; i < d.fx.n; i++) {
		const consult_effect *f = &d.fx.fx[i];
		FZ_CHECK(f->kind != CONSULT_FX_STORE_END && f->kind != CONSULT_FX_STORE_RING &&
		        f->kind != CONSULT_FX_STORE_STATE && f->kind != CONSULT_FX_APPLY);
		binds += f->kind == CONSULT_FX_BIND_DOCTOR;
		unbinds += f->kind == CONSULT_FX_UNBIND_DOCTOR;
		if (f->kind != CONSULT_FX_PUSH)
			continue;
		if (f->to == CONSULT_TO_PATIENT) {
			FZ_CHECK(f->patient && f->patient == own && f->visit_id == id && patient_only(f->event));
			FZ_CHECK(!(lost && a.kind == CONSULT_ACTOR_PATIENT));
		} else if (f->to == CONSULT_TO_DOCTOR) {
			FZ_CHECK(doc > 0 && f->doctor_id == doc && f->visit_id == id);
			FZ_CHECK(!(lost && a.kind == CONSULT_ACTOR_DOCTOR));
		} else if (f->to == CONSULT_TO_DOCTORS) {
			FZ_CHECK(f->event == CONSULT_PUSH_waiting && f->doctor_id == v->doctor_id);
		} else {
			FZ_CHECK(f->event == CONSULT_PUSH_appointment && f->appointment_id == v->appointment_id);
		}
	}
	FZ_CHECK(binds == (ev == CONSULT_EV_CALL));
	FZ_CHECK(unbinds == (doc > 0 && !with_doc));
	const consult_effect *ap = &d.fx.fx[1];
	apply_checked(r, m, ap->visit_id, ap->ev, ap->doctor_id, ap->at, ap->grace_s, ap->patient);
	FZ_CHECK(consult_room_visit(r, id) ? consult_room_visit(r, id)->state == d.step.next : ended);
}

static void expire_cb(const consult_room_change *c, void *ud)
{
	model *m = ud;
	FZ_CHECK(c->from == CONSULT_VISIT_AWAY && c->step.next == CONSULT_VISIT_ENDED);
	FZ_CHECK(c->step.reason == CONSULT_END_GRACE_EXPIRED);
	mvisit *mv = mfind(m, c->visit.id);
	FZ_CHECK(mv && mv->live);
	mv->live = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = { data, size };
	consult_room *r = consult_room_new(1);
	FZ_CHECK(r);
	model m;
	memset(&m, 0, sizeof m);
	int64_t now = 1000, grace = 30;
	int64_t next_id = 1;
	while (in.n) {
		uint8_t op = fz_u8(&in), a = fz_u8(&in), b = fz_u8(&in);
		now += b & 7; /* monotonic clock */
		switch (op % 8) {
		case 0:
		case 1: { /* join: fresh id, or a duplicate id/appointment */
			consult_visit_init vi;
			memset(&vi, 0, sizeof vi);
			int64_t doctor = a % (NDOC + 1);
			int64_t appt_time = 10000 + 60 * (int64_t)((a >> 2) % 4);
			bool dup = (b & 0x30) == 0x30 && m.n;
			mvisit *other = dup ? &m.v[(a >> 4) % m.n] : NULL;
			if (!dup && m.n >= MAXV)
				break;
			vi.id = dup && (b & 0x40) ? other->id : next_id;
			vi.appointment_id = dup && !(b & 0x40) ? other->appt : 500 + next_id;
			vi.doctor_id = doctor;
			vi.appt_time = appt_time;
			vi.joined_at = now;
			vi.patient = &m.patients[next_id % MAXV];
			bool id_live = false, appt_live = false;
			for (size_t i = 0; i < m.n; i++) {
				if (!m.v[i].live)
					continue;
				id_live |= m.v[i].id == vi.id;
				appt_live |= m.v[i].appt == vi.appointment_id;
			}
			bool id_used = mfind(&m, vi.id) != NULL;
			if (id_used && !id_live)
				break; /* ids are never reused (the store's visit ids) */
			if (!id_used && m.n >= MAXV)
				break;
			consult_visit *v = NULL;
			consult_err e = consult_room_join(r, &vi, &v);
			if (id_live || appt_live) {
				FZ_CHECK(e == CONSULT_ERR_CONFLICT);
				break;
			}
			FZ_CHECK(e == CONSULT_OK && v && v->state == CONSULT_VISIT_WAITING);
			m.v[m.n++] = (mvisit){ .id = vi.id,
				.appt = vi.appointment_id,
				.doctor = doctor,
				.appt_time = appt_time,
				.arrival = ++m.arrivals,
				.live = true };
			next_id++;
			break;
		}
		case 2:
		case 3:
		case 4:
		case 5: { /* any event, any actor */
			if (!m.n)
				break;
			int64_t id = m.v[a % m.n].id;
			if ((b & 0xc0) == 0xc0)
				id = next_id + 7; /* unknown visit */
			consult_visit_event ev = (consult_visit_event)((a >> 3) % CONSULT_EV_COUNT);
			int64_t actor = (b >> 3) % (NDOC + 2); /* 0..4: 0 patient or nobody, 4 sees nobody's */
			consult_actor who = { actor ? CONSULT_ACTOR_DOCTOR
				        : (b & 1)   ? CONSULT_ACTOR_NONE
				                    : CONSULT_ACTOR_PATIENT,
				actor };
			decide_checked(r, &m, id, ev, who, now, grace, &m.patients[a % MAXV]);
			break;
		}
		case 6: { /* the timer */
			now += a;
			consult_room_expire(r, now, expire_cb, &m);
			if (b & 0x80)
				consult_room_ended_prune(r, now + CONSULT_ENDED_KEEP_S);
			break;
		}
		case 7: { /* position reports: consistent, not repeated */
			posctx c = { r, 0 };
			consult_room_positions(r, pos_cb, &c);
			c.n = 0;
			FZ_CHECK(consult_room_positions(r, pos_cb, &c) == 0 && c.n == 0);
			break;
		}
		}
		check(r, &m);
	}
	consult_room_free(r);
	return 0;
}
