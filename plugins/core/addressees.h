/* addressees.h - who receives a message to waiting patients
 * (message_waiting): the rule, apart from the text and its delivery.
 *
 * Contract: a message reaches live visits of one room that are WAITING,
 * AWAY (it waits for the patient's return) or RINGING - never a visit in a
 * call or ended. The target names them:
 *   VISIT        that visit;
 *   APPOINTMENT  the live visit of that appointment;
 *   DOCTOR       every such visit in that doctor's list: own appointments
 *                and "any doctor" ones (consult_doctor_sees).
 * Reception (sender_doctor 0) may address any visit of its practice and any
 * doctor of it (doctor_known: the caller found target id to be a doctor of
 * this practice). A doctor addresses only visits they see, and with DOCTOR
 * only their own list. Anything else is NOT_FOUND (also: no such live
 * visit here, or not in one of those states), so a sender learns nothing
 * about visits it may not address. Pure; the room is not changed.
 */
#ifndef CONSULT_ADDRESSEES_H
#define CONSULT_ADDRESSEES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "errors.h"
#include "request.h"
#include "room.h"

typedef void (*consult_addressee_cb)(const consult_visit *v, void *ud);

/* OK and cb(v) for each addressee (*n: how many, may be 0 for DOCTOR), or
 * NOT_FOUND (nobody is called). */
consult_err consult_message_addressees(consult_room *r, consult_msg_target target, int64_t id, int64_t sender_doctor,
        bool doctor_known, consult_addressee_cb cb, void *ud, size_t *n);

#endif
