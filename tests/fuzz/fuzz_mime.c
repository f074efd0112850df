/* fuzz_mime.c - the MIME message builder (mime.c) with the output's own
 * invariants.
 *
 * Input: two flag bytes (which fields come from the input; the others are
 * valid defaults), date, offset, the random bytes, then the strings. On
 * success:
 *   - CRLF only (no bare CR or LF), every line <= 998 octets; the header
 *     block is 7-bit printable ASCII; header lines <= 78 octets except the
 *     address lines (From, To, Reply-To) and Message-ID;
 *   - exactly one From, To, Subject, Date, Message-ID, MIME-Version,
 *     Auto-Submitted and top-level Content-Type; Reply-To exactly when given;
 *   - body lines <= 76 octets except boundary and part header lines;
 *     boundaries start with "=_" and occur only as delimiter lines;
 *   - the Subject decodes (raw or RFC 2047 B words) to the input, the
 *     text part decodes from quoted-printable to the input with CRLF line
 *     ends, the calendar part decodes from base64 to the .ics bytes.
 * On failure: no output and one of the documented error codes.
 */
#include "fuzz.h"
#include <sodium.h>
#include "core/mime.h"
#include "core/errors.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (sodium_init() < 0)
		abort();
	return 0;
}

static char *crlf_norm(const char *s, size_t *n)
{
	size_t len = strlen(s);
	char *o = malloc(2 * len + 3), *q = o;
	FZ_CHECK(o);
	for (const char *p = s; *p; p++) {
		if (*p == '\r' || *p == '\n') {
			if (*p == '\r' && p[1] == '\n')
				p++;
			*q++ = '\r';
			*q++ = '\n';
		} else {
			*q++ = *p;
		}
	}
	if (q > o && q[-1] != '\n') { /* the last line gets its CRLF */
		*q++ = '\r';
		*q++ = '\n';
	}
	*q = '\0';
	*n = (size_t)(q - o);
	return o;
}

static int hexv(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decodes quoted-printable s[0..n) into out (malloc'ed). */
static char *qp_decode(const char *s, size_t n, size_t *olen)
{
	char *o = malloc(n + 1), *q = o;
	FZ_CHECK(o);
	for (size_t i = 0; i < n;) {
		if (s[i] != '=') {
			*q++ = s[i++];
			continue;
		}
		if (i + 2 < n + 1 && s[i + 1] == '\r' && s[i + 2] == '\n') {
			i += 3;
			continue;
		}
		FZ_CHECK(i + 2 < n);
		int hi = hexv(s[i + 1]), lo = hexv(s[i + 2]);
		FZ_CHECK(hi >= 0 && lo >= 0);
		*q++ = (char)(hi << 4 | lo);
		i += 3;
	}
	*q = '\0';
	*olen = (size_t)(q - o);
	return o;
}

static bool is_addr_hdr(const char *l)
{
	return strncmp(l, "From:", 5) == 0 || strncmp(l, "To:", 3) == 0 || strncmp(l, "Reply-To:", 9) == 0 ||
	        strncmp(l, "Message-ID:", 11) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = { data, size };
	unsigned f = fz_u8(&in) | (unsigned)fz_u8(&in) << 8;
	consult_mail m;
	memset(&m, 0, sizeof m);
	m.date = f & 0x8000 ? fz_i64(&in) : 1764234000 + (int64_t)(fz_u32(&in) % 100000000);
	m.tz_offset_min = f & 0x4000 ? (int)(int16_t)(fz_u8(&in) << 8 | fz_u8(&in)) : 60 + 60 * (fz_u8(&in) & 1);
	for (size_t i = 0; i < sizeof m.msgid_random; i++)
		m.msgid_random[i] = fz_u8(&in);
	for (size_t i = 0; i < sizeof m.boundary_random; i++)
		m.boundary_random[i] = fz_u8(&in);
	char *s[12];
	for (int i = 0; i < 12; i++)
		s[i] = fz_str(&in, 8192);
	m.from_name = f & 1 ? s[0] : "Hautärzte am Marktplatz";
	m.from_addr = f & 2 ? s[1] : "praxis@example.org";
	m.reply_to = f & 4 ? (s[2][0] ? s[2] : NULL) : NULL;
	m.to_name = f & 8 ? s[3] : NULL;
	m.to_addr = f & 0x10 ? s[4] : "erika@example.org";
	m.subject = f & 0x20 ? s[5] : "Ihr Termin zur Videosprechstunde am Montag, 30. November 2026";
	m.msgid_domain = f & 0x40 ? s[6] : "praxis.example.org";
	m.text = f & 0x80 ? s[7] : "Guten Tag,\n\nIhr Termin: 10:30.\n.\nFrom here\n";
	m.html = f & 0x100 ? s[8] : "<p>Guten Tag,</p>\n<p>Ihr Termin: 10:30</p>\n";
	if (f & 0x200) {
		m.ics = s[9];
		m.ics_len = strlen(s[9]);
	}
	m.ics_method = f & 0x400 ? s[10] : NULL;
	m.ics_filename = f & 0x800 ? s[11] : NULL;

	char *out = (char *)1;
	size_t len = 0;
	consult_err e = consult_mime_build(&m, &out, &len);
	if (e != CONSULT_OK) {
		FZ_CHECK(out == NULL);
		FZ_CHECK(e == CONSULT_ERR_INVALID_FIELD || e == CONSULT_ERR_INVALID_UTF8 || e == CONSULT_ERR_TOO_LONG);
		goto done;
	}
	FZ_CHECK(out && len == strlen(out));
	const char *hend = strstr(out, "\r\n\r\n");
	FZ_CHECK(hend);
	size_t hlen = (size_t)(hend - out) + 2;
	/* lines */
	static const char *const ONE[] = {
		"From:", "To:", "Subject:", "Date:", "Message-ID:", "MIME-Version:", "Auto-Submitted:", "Content-Type:"
	};
	int count[8] = { 0 }, reply = 0;
	bool addr = false;
	char subject[4096];
	size_t subj_len = 0;
	bool in_subject = false;
	for (size_t i = 0; i < len;) {
		const char *crlf = strstr(out + i, "\r\n");
		FZ_CHECK(crlf);
		size_t n = (size_t)(crlf - (out + i));
		const char *l = out + i;
		FZ_CHECK(n <= 998);
		FZ_CHECK(!memchr(l, '\r', n) && !memchr(l, '\n', n));
		if (i < hlen) {
			for (size_t k = 0; k < n; k++)
				FZ_CHECK(l[k] >= 0x20 && l[k] <= 0x7e);
			bool cont = l[0] == ' ' || l[0] == '\t';
			if (!cont) {
				addr = is_addr_hdr(l);
				for (int k = 0; k < 8; k++)
					count[k] += strncmp(l, ONE[k], strlen(ONE[k])) == 0;
				reply += strncmp(l, "Reply-To:", 9) == 0;
				in_subject = strncmp(l, "Subject: ", 9) == 0;
				if (in_subject) {
					FZ_CHECK(n - 9 < sizeof subject);
					memcpy(subject, l + 9, n - 9);
					subj_len = n - 9;
				}
			} else if (in_subject) {
				FZ_CHECK(subj_len + n < sizeof subject);
				memcpy(subject + subj_len, l, n); /* keep the folding white space */
				subj_len += n;
			}
			if (!addr)
				FZ_CHECK(n <= 78);
		} else if (!(n >= 2 && l[0] == '-' && l[1] == '-') && strncmp(l, "Content-", 8) != 0 &&
		        strncmp(l, " boundary=", 10) != 0) {
			FZ_CHECK(n <= 76);
		}
		i += n + 2;
	}
	for (int k = 0; k < 8; k++)
		FZ_CHECK(count[k] == 1);
	FZ_CHECK(reply == (m.reply_to ? 1 : 0));
	/* Subject */
	subject[subj_len] = '\0';
	if (strncmp(subject, "=?UTF-8?B?", 10) == 0) {
		char dec[4096];
		size_t dl = 0;
		for (char *w = subject; *w;) {
			while (*w == ' ')
				w++;
			FZ_CHECK(strncmp(w, "=?UTF-8?B?", 10) == 0);
			char *end = strstr(w + 10, "?=");
			FZ_CHECK(end);
			size_t got = 0;
			FZ_CHECK(
			        sodium_base642bin((unsigned char *)dec + dl, sizeof dec - dl, w + 10,
			                (size_t)(end - w - 10), NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL) == 0);
			FZ_CHECK(fz_utf8(dec + dl, got)); /* no split character in a word */
			dl += got;
			w = end + 2;
		}
		FZ_CHECK(dl == strlen(m.subject) && memcmp(dec, m.subject, dl) == 0);
	} else {
		FZ_CHECK(strcmp(subject, m.subject) == 0);
	}
	/* boundaries */
	const char *bp = strstr(out, "\r\n boundary=\""); /* a raw Subject may say boundary=" too */
	FZ_CHECK(bp);
	for (; bp; bp = strstr(bp + 1, "\r\n boundary=\"")) {
		const char *b0 = bp + 13, *b1 = strchr(b0, '"');
		FZ_CHECK(b1 && b1 - b0 > 2 && b0[0] == '=' && b0[1] == '_' && bp < out + len);
		size_t bl = (size_t)(b1 - b0);
		for (const char *o = strstr(b1, "--"); o; o = strstr(o + 1, "--"))
			if (strncmp(o + 2, b0, bl) == 0) {
				FZ_CHECK(o[-1] == '\n' && o[-2] == '\r');
				FZ_CHECK(strncmp(o + 2 + bl, "\r\n", 2) == 0 || strncmp(o + 2 + bl, "--\r\n", 4) == 0);
			}
	}
	/* text part */
	const char *tp = strstr(
	        hend, "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
	FZ_CHECK(tp);
	tp = strstr(tp, "\r\n\r\n") + 4;
	const char *te = strstr(tp, "--=_alt_");
	FZ_CHECK(te && te >= tp);
	size_t want_len, got_len;
	char *want = crlf_norm(m.text, &want_len);
	char *got = qp_decode(tp, (size_t)(te - tp), &got_len);
	FZ_CHECK(got_len == want_len && memcmp(got, want, want_len) == 0);
	free(want);
	free(got);
	/* calendar part */
	if (m.ics) {
		/* after the closing alt delimiter (QP encodes '=', so "--=_" is never text) */
		const char *cp = hend;
		while ((cp = strstr(cp, "--=_alt_")) &&
		        strncmp(cp + 8 + 2 * CONSULT_MIME_BOUNDARY_RANDOM, "--", 2) != 0)
			cp++;
		FZ_CHECK(cp);
		cp = strstr(cp, "--=_mix_");
		FZ_CHECK(cp && strstr(cp, "\r\nContent-Type: text/calendar; method=") == strchr(cp, '\r'));
		cp = strstr(cp, "\r\n\r\n") + 4;
		const char *ce = strstr(cp, "--=_mix_");
		FZ_CHECK(ce);
		unsigned char *bin = malloc(m.ics_len + 1);
		size_t bl = 0;
		FZ_CHECK(bin &&
		        sodium_base642bin(bin, m.ics_len + 1, cp, (size_t)(ce - cp), "\r\n", &bl, NULL,
		                sodium_base64_VARIANT_ORIGINAL) == 0);
		FZ_CHECK(bl == m.ics_len && memcmp(bin, m.ics, bl) == 0);
		free(bin);
	}
	free(out);
done:
	for (int i = 0; i < 12; i++)
		free(s[i]);
	return 0;
}
