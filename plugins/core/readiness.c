/* readiness.c - the device check words (see readiness.h). */
#include <string.h>
#include "readiness.h"

static const char *const names[CONSULT_READINESS_COUNT] = {
	[CONSULT_READY_UNCHECKED] = "unchecked",
	[CONSULT_READY_OK] = "ok",
	[CONSULT_READY_BLOCKED] = "blocked",
	[CONSULT_READY_MISSING] = "missing",
};

const char *consult_readiness_name(consult_readiness r)
{
	return (unsigned)r < CONSULT_READINESS_COUNT ? names[r] : "";
}

bool consult_readiness_parse(const char *s, size_t len, consult_readiness *out)
{
	if (!s)
		return false;
	for (int i = 0; i < CONSULT_READINESS_COUNT; i++)
		if (strlen(names[i]) == len && memcmp(s, names[i], len) == 0) {
			*out = (consult_readiness)i;
			return true;
		}
	return false;
}
