/* snapshot.c - freshness of an in-memory copy of store data (snapshot.h). */
#include "snapshot.h"

bool consult_snapshot_fresh(int64_t loaded_ms, int64_t now_ms, int64_t ttl_ms)
{
	if (loaded_ms < 0 || ttl_ms <= 0 || now_ms < loaded_ms)
		return false;
	return now_ms - loaded_ms < ttl_ms;
}
