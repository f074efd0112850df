/* fuzz_sms.c - SMS encoding and segmentation (sms.c).
 *
 * Checks against an independent count: valid text is GSM-7 exactly when
 * every code point has a GSM-7 cost (then units = sum of septets), else
 * UCS-2 (units = UTF-16 code units, 2 above U+FFFF); invalid UTF-8 or a
 * control character (C0, DEL, C1) other than CR/LF is refused. consult_sms_split agrees
 * with consult_sms_analyse; its parts cover the text contiguously, start
 * and end on character boundaries, hold at most 160/70 units (one part) or
 * 153/67 (several), and their units add up; a cap below the need gives
 * too_long with the number needed.
 */
#include "fuzz.h"
#include "core/sms.h"

#define MAXP 64

/* Prefix sums of septets and UTF-16 units by byte offset (one pass over the
 * text: consult_sms_gsm7_septets is a table scan, so call it once per
 * character); SIZE_MAX marks offsets inside a character. */
typedef struct sums {
	size_t *g, *u;
	bool gsm;
} sums;

static void sums_make(const char *s, size_t n, sums *m)
{
	m->g = malloc((n + 1) * sizeof *m->g);
	m->u = malloc((n + 1) * sizeof *m->u);
	FZ_CHECK(m->g && m->u);
	m->gsm = true;
	size_t g = 0, u = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = fz_utf8_one((const unsigned char *)s + i, n - i, &cp);
		FZ_CHECK(k);
		unsigned sep = consult_sms_gsm7_septets(cp);
		FZ_CHECK(sep <= 2);
		m->gsm &= sep > 0;
		m->g[i] = g;
		m->u[i] = u;
		for (size_t j = 1; j < k; j++)
			m->g[i + j] = m->u[i + j] = SIZE_MAX;
		g += sep;
		u += cp > 0xffff ? 2 : 1;
		i += k;
	}
	m->g[n] = g;
	m->u[n] = u;
}

/* Units of s[a..b), both character boundaries. */
static size_t units(const sums *m, size_t a, size_t b)
{
	const size_t *p = m->gsm ? m->g : m->u;
	FZ_CHECK(p[a] != SIZE_MAX && p[b] != SIZE_MAX);
	return p[b] - p[a];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = { data, size };
	uint8_t cap = fz_u8(&in);
	const char *s = (const char *)in.p;
	size_t n = in.n;
	consult_sms_info info;
	consult_err e = consult_sms_analyse(s, n, &info);
	bool valid = fz_utf8(s, n) && !fz_has_ctl(s, n, "\r\n") && !fz_has_c1(s, n);
	if (!valid) {
		FZ_CHECK(e == CONSULT_ERR_INVALID_UTF8);
		return 0;
	}
	FZ_CHECK(e == CONSULT_OK);
	sums m;
	sums_make(s, n, &m);
	bool gsm = m.gsm;
	FZ_CHECK(info.encoding == (gsm ? CONSULT_SMS_GSM7 : CONSULT_SMS_UCS2));
	FZ_CHECK(info.units == units(&m, 0, n));
	FZ_CHECK((info.parts == 0) == (n == 0));
	size_t single = gsm ? CONSULT_SMS_GSM7_SINGLE : CONSULT_SMS_UCS2_SINGLE;
	size_t part = gsm ? CONSULT_SMS_GSM7_PART : CONSULT_SMS_UCS2_PART;
	FZ_CHECK((info.parts <= 1) == (info.units <= single));
	if (info.parts > 1)
		FZ_CHECK(info.parts >= (info.units + part - 1) / part);

	static consult_sms_part parts[MAXP];
	size_t max_parts = cap % (MAXP + 1), np = 0;
	consult_sms_info info2;
	e = consult_sms_split(s, n, parts, max_parts, &np, &info2);
	if (info.parts > max_parts) {
		FZ_CHECK(e == CONSULT_ERR_TOO_LONG && np == info.parts);
		goto done;
	}
	FZ_CHECK(e == CONSULT_OK && np == info.parts);
	FZ_CHECK(info2.encoding == info.encoding && info2.units == info.units && info2.parts == info.parts);
	size_t off = 0, total = 0;
	for (size_t i = 0; i < np; i++) {
		FZ_CHECK(parts[i].offset == off && parts[i].length > 0);
		FZ_CHECK(off + parts[i].length <= n);
		/* whole characters only (units() checks both ends) */
		FZ_CHECK(parts[i].units == units(&m, off, off + parts[i].length));
		FZ_CHECK(parts[i].units <= (np == 1 ? single : part));
		off += parts[i].length;
		total += parts[i].units;
	}
	FZ_CHECK(off == n && total == info.units);
done:
	free(m.g);
	free(m.u);
	return 0;
}
