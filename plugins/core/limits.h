/* limits.h - every size limit of the protocol, in one place.
 *
 * Contract: CONSULT_MIN_<ID> and CONSULT_MAX_<ID> for each row of
 * limits.def (lengths in bytes of UTF-8 unless noted there);
 * docs/protocol.md's Limits table lists the same rows. Exceeding a maximum
 * gives CONSULT_ERR_TOO_LONG.
 */
#ifndef CONSULT_LIMITS_H
#define CONSULT_LIMITS_H

enum consult_limit {
#define CONSULT_LIMIT(id, field, min, max) CONSULT_MIN_##id = min, CONSULT_MAX_##id = max,
#include "limits.def"
#undef CONSULT_LIMIT
};

#endif
