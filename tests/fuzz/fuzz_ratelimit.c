/* fuzz_ratelimit.c - the failure counter with lockout (ratelimit.c) under
 * random keys (the caller passes user names, handles, practice slugs:
 * outside input, any bytes) and random sequences of checks, failures,
 * successes and prunes on a clock that only moves forward.
 *
 * Checks only what the contract promises whatever the counting details:
 * memory stays bounded (size <= max_keys), a refusal always says when to
 * come back (1 <= retry_after <= max(lockout_s, max_lockout_s)), and
 * nothing crashes, leaks or overflows with any configuration in range.
 */
#include "fuzz.h"
#include "core/ratelimit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = { data, size };
	consult_ratelimit_cfg cfg = {
		.max_failures = 1 + fz_u8(&in) % 8,
		.window_s = 1 + fz_u8(&in) % 120,
		.lockout_s = fz_u8(&in) % 60,
		.max_lockout_s = fz_u8(&in) * 16,
		.max_keys = 1 + fz_u8(&in) % 8,
	};
	int64_t cap = cfg.max_lockout_s > cfg.lockout_s ? cfg.max_lockout_s : cfg.lockout_s;
	if (cap < 1)
		cap = 1;
	consult_ratelimit *rl = consult_ratelimit_new(&cfg);
	FZ_CHECK(rl);
	char *keys[6];
	for (int i = 0; i < 6; i++)
		keys[i] = fz_str(&in, 80);
	int64_t now = (int64_t)fz_u32(&in);
	while (in.n) {
		uint8_t op = fz_u8(&in);
		const char *key = keys[(op >> 2) % 6];
		now += (op >> 5) == 7 ? fz_u8(&in) * 10 : (op >> 5);
		switch (op & 3) {
		case 0: {
			int64_t ra = -7;
			if (!consult_ratelimit_allowed(rl, key, now, &ra))
				FZ_CHECK(ra >= 1 && ra <= cap);
			break;
		}
		case 1:
			consult_ratelimit_failure(rl, key, now);
			break;
		case 2:
			consult_ratelimit_success(rl, key);
			break;
		case 3:
			consult_ratelimit_prune(rl, now);
			break;
		}
		FZ_CHECK(consult_ratelimit_size(rl) <= cfg.max_keys);
	}
	consult_ratelimit_free(rl);
	for (int i = 0; i < 6; i++)
		free(keys[i]);
	return 0;
}
