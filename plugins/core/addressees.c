/* addressees.c - who receives a message to waiting patients (see
 * addressees.h). DOCTOR looks at every live visit once: O(live visits). */
#include "addressees.h"

static bool reachable(const consult_visit *v)
{
	return v->state == CONSULT_VISIT_WAITING || v->state == CONSULT_VISIT_AWAY || v->state == CONSULT_VISIT_RINGING;
}

/* May this sender address this visit? */
static bool allowed(const consult_visit *v, int64_t sender_doctor)
{
	return reachable(v) && (sender_doctor == 0 || consult_doctor_sees(v->doctor_id, sender_doctor));
}

typedef struct each_ud {
	int64_t doctor;
	consult_addressee_cb cb;
	void *ud;
	size_t n;
} each_ud;

static void each(const consult_visit *v, uint32_t index, void *ud)
{
	each_ud *u = ud;
	(void)index;
	if (!reachable(v) || !consult_doctor_sees(v->doctor_id, u->doctor))
		return;
	u->n++;
	if (u->cb)
		u->cb(v, u->ud);
}

consult_err consult_message_addressees(consult_room *r, consult_msg_target target, int64_t id, int64_t sender_doctor,
        bool doctor_known, consult_addressee_cb cb, void *ud, size_t *n)
{
	consult_visit *v = NULL;
	*n = 0;
	if (id <= 0 || sender_doctor < 0)
		return CONSULT_ERR_NOT_FOUND;
	switch (target) {
	case CONSULT_MSG_VISIT:
		v = consult_room_visit(r, id);
		break;
	case CONSULT_MSG_APPOINTMENT:
		v = consult_room_visit_of_appointment(r, id);
		break;
	case CONSULT_MSG_DOCTOR: {
		if (sender_doctor ? id != sender_doctor : !doctor_known)
			return CONSULT_ERR_NOT_FOUND;
		each_ud u = { id, cb, ud, 0 };
		consult_room_foreach(r, each, &u);
		*n = u.n;
		return CONSULT_OK;
	}
	default:
		return CONSULT_ERR_NOT_FOUND;
	}
	if (!v || !allowed(v, sender_doctor))
		return CONSULT_ERR_NOT_FOUND;
	*n = 1;
	if (cb)
		cb(v, ud);
	return CONSULT_OK;
}
