/* mime.c - RFC 5322 / MIME message builder, see mime.h. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "mime.h"
#include "email.h"
#include "ics.h"
#include "strbuf.h"
#include "text.h"

#define WORD_OCTETS 42 /* text per encoded-word: 56 base64 chars, word 68 */
#define QP_LINE     76
#define B64_CHUNK   57 /* 57 octets -> 76 base64 characters */
#define MAIL_MAX    (8 * CONSULT_MIME_BODY_MAX)
#define DATE_MAX    253402300799LL

static const char hexd[] = "0123456789ABCDEF";

static void hex_lower(const uint8_t *r, size_t n, char *out)
{
	static const char h[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = h[r[i] >> 4];
		out[2 * i + 1] = h[r[i] & 15];
	}
	out[2 * n] = '\0';
}

/* "<hex(random)@domain>"; CONSULT_ERR_INVALID_FIELD for a bad domain. */
static consult_err message_id(
        const uint8_t random[CONSULT_MIME_MSGID_RANDOM], const char *domain, char out[CONSULT_MIME_MSGID_LEN])
{
	out[0] = '\0';
	if (!domain)
		return CONSULT_ERR_MISSING_FIELD;
	if (!consult_email_domain_ok(domain))
		return CONSULT_ERR_INVALID_FIELD;
	char h[2 * CONSULT_MIME_MSGID_RANDOM + 1];
	hex_lower(random, CONSULT_MIME_MSGID_RANDOM, h);
	snprintf(out, CONSULT_MIME_MSGID_LEN, "<%s@%s>", h, domain);
	return CONSULT_OK;
}

/* RFC 5322 date-time, e.g. "Fri, 31 Jan 2025 15:30:00 +0100" for
 * t = 2025-01-31T14:30:00Z and offset 60. */
static consult_err date_time(int64_t t, int tz_offset_min, char out[CONSULT_MIME_DATE_LEN])
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
		"Nov", "Dec" };
	out[0] = '\0';
	if (tz_offset_min < -1439 || tz_offset_min > 1439 || t < 86400 || t > DATE_MAX - 86400)
		return CONSULT_ERR_INVALID_FIELD;
	time_t local = (time_t)(t + (int64_t)tz_offset_min * 60);
	struct tm tm;
	if (!gmtime_r(&local, &tm))
		return CONSULT_ERR_INVALID_FIELD;
	int off = tz_offset_min < 0 ? -tz_offset_min : tz_offset_min;
	char tmp[128];
	int n = snprintf(tmp, sizeof tmp, "%s, %02d %s %04d %02d:%02d:%02d %c%02d%02d", days[tm.tm_wday], tm.tm_mday,
	        months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, tz_offset_min < 0 ? '-' : '+',
	        off / 60, off % 60);
	if (n < 0 || n >= CONSULT_MIME_DATE_LEN)
		return CONSULT_ERR_INVALID_FIELD;
	memcpy(out, tmp, (size_t)n + 1);
	return CONSULT_OK;
}

/* A header value: clean UTF-8 without any control character. */
static consult_err header_text(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (!consult_text_clean(s, n, false))
		return CONSULT_ERR_INVALID_UTF8;
	return n > max ? CONSULT_ERR_TOO_LONG : CONSULT_OK;
}

static bool plain_ascii(const char *s, bool phrase)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p > 0x7e)
			return false;
		if (phrase &&
		        !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		                *p == ' ' || strchr("!#$%&'*+-/=?^_`{|}~", *p)))
			return false;
	}
	return strstr(s, "=?") == NULL;
}

/* Appends s as encoded-words, one per line (CRLF SP between words). */
static void encoded_words(consult_strbuf *b, const char *s)
{
	size_t n = strlen(s), i = 0;
	while (i < n) {
		size_t k = n - i > WORD_OCTETS ? WORD_OCTETS : n - i;
		while (i + k < n && k > 0 && ((unsigned char)s[i + k] & 0xc0) == 0x80)
			k--; /* never split a UTF-8 character */
		char enc[sodium_base64_ENCODED_LEN(WORD_OCTETS, sodium_base64_VARIANT_ORIGINAL)];
		sodium_bin2base64(enc, sizeof enc, (const unsigned char *)s + i, k, sodium_base64_VARIANT_ORIGINAL);
		if (i)
			consult_sb_add(b, "\r\n ", 3);
		consult_sb_str(b, "=?UTF-8?B?");
		consult_sb_str(b, enc);
		consult_sb_str(b, "?=");
		i += k;
	}
}

/* "Name: [display] <addr>" or "Name: addr". */
static void address_header(consult_strbuf *b, const char *hdr, const char *name, const char *addr)
{
	consult_sb_str(b, hdr);
	consult_sb_str(b, ": ");
	if (name && name[0]) {
		if (plain_ascii(name, true) && strlen(name) <= 60)
			consult_sb_str(b, name);
		else
			encoded_words(b, name);
		consult_sb_str(b, " <");
		consult_sb_str(b, addr);
		consult_sb_str(b, ">\r\n");
	} else {
		consult_sb_str(b, addr);
		consult_sb_str(b, "\r\n");
	}
}

static void header(consult_strbuf *b, const char *name, const char *value)
{
	consult_sb_str(b, name);
	consult_sb_str(b, ": ");
	consult_sb_str(b, value);
	consult_sb_str(b, "\r\n");
}

/* Body text check: valid UTF-8, controls only CR LF TAB. */
static consult_err body_ok(const char *s)
{
	size_t n = strlen(s);
	if (n > CONSULT_MIME_BODY_MAX)
		return CONSULT_ERR_TOO_LONG;
	return consult_text_clean(s, n, true) ? CONSULT_OK : CONSULT_ERR_INVALID_UTF8;
}

/* Quoted-printable with CRLF hard line breaks and soft breaks at <= 76. */
static void qp(consult_strbuf *b, const char *s)
{
	size_t col = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		if (*p == '\r' || *p == '\n') {
			p += (p[0] == '\r' && p[1] == '\n') ? 2 : 1;
			consult_sb_add(b, "\r\n", 2);
			col = 0;
			continue;
		}
		unsigned char c = *p;
		bool eol = p[1] == '\0' || p[1] == '\r' || p[1] == '\n';
		bool enc = c == '=' || c > 0x7e || (c < 0x20 && c != '\t') || ((c == ' ' || c == '\t') && eol) ||
		        (col == 0 && c == '.') || (col == 0 && c == 'F' && strncmp((const char *)p, "From ", 5) == 0);
		char tok[3];
		size_t tl;
		if (enc) {
			tok[0] = '=';
			tok[1] = hexd[c >> 4];
			tok[2] = hexd[c & 15];
			tl = 3;
		} else {
			tok[0] = (char)c;
			tl = 1;
		}
		/* room for the token plus a trailing soft-break '=', unless this
		 * is the last character of the line */
		if (col + tl > QP_LINE - (eol ? 0 : 1)) {
			consult_sb_add(b, "=\r\n", 3);
			col = 0;
			if (!enc && (c == '.' || (c == 'F' && strncmp((const char *)p, "From ", 5) == 0))) {
				continue; /* re-evaluate at column 0 */
			}
		}
		consult_sb_add(b, tok, tl);
		col += tl;
		p++;
	}
	if (col)
		consult_sb_add(b, "\r\n", 2);
}

static void base64_body(consult_strbuf *b, const char *data, size_t n)
{
	for (size_t i = 0; i < n; i += B64_CHUNK) {
		size_t k = n - i > B64_CHUNK ? B64_CHUNK : n - i;
		char enc[sodium_base64_ENCODED_LEN(B64_CHUNK, sodium_base64_VARIANT_ORIGINAL)];
		sodium_bin2base64(enc, sizeof enc, (const unsigned char *)data + i, k, sodium_base64_VARIANT_ORIGINAL);
		consult_sb_str(b, enc);
		consult_sb_add(b, "\r\n", 2);
	}
}

static bool token_ok(const char *s, size_t max, bool filename)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (; *s; s++) {
		char c = *s;
		bool ok = filename ? ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		                             c == '.' || c == '_' || c == '-')
		                   : (c >= 'A' && c <= 'Z');
		if (!ok)
			return false;
	}
	return true;
}

static consult_err check(const consult_mail *m)
{
	if (!m->from_addr || !m->to_addr || !m->subject || !m->text || !m->html || !m->msgid_domain)
		return CONSULT_ERR_MISSING_FIELD;
	const char *addrs[] = { m->from_addr, m->to_addr, m->reply_to };
	for (size_t i = 0; i < 3; i++) {
		if (!addrs[i])
			continue;
		consult_err e = consult_email_check(addrs[i]);
		if (e != CONSULT_OK)
			return e;
	}
	const char *names[] = { m->from_name, m->to_name };
	for (size_t i = 0; i < 2; i++) {
		if (!names[i])
			continue;
		consult_err e = header_text(names[i], CONSULT_MIME_NAME_MAX);
		if (e != CONSULT_OK)
			return e;
	}
	consult_err e = header_text(m->subject, CONSULT_MIME_SUBJECT_MAX);
	if (e == CONSULT_OK)
		e = body_ok(m->text);
	if (e == CONSULT_OK)
		e = body_ok(m->html);
	if (e != CONSULT_OK)
		return e;
	if (m->ics && (m->ics_len > CONSULT_MIME_BODY_MAX))
		return CONSULT_ERR_TOO_LONG;
	if (m->ics_method && !token_ok(m->ics_method, 16, false))
		return CONSULT_ERR_INVALID_FIELD;
	if (m->ics_filename && !token_ok(m->ics_filename, 64, true))
		return CONSULT_ERR_INVALID_FIELD;
	return CONSULT_OK;
}

consult_err consult_mime_build(const consult_mail *m, char **out, size_t *out_len)
{
	*out = NULL;
	if (out_len)
		*out_len = 0;
	if (!m)
		return CONSULT_ERR_MISSING_FIELD;
	consult_err e = check(m);
	char msgid[CONSULT_MIME_MSGID_LEN], date[CONSULT_MIME_DATE_LEN];
	if (e == CONSULT_OK)
		e = message_id(m->msgid_random, m->msgid_domain, msgid);
	if (e == CONSULT_OK)
		e = date_time(m->date, m->tz_offset_min, date);
	if (e != CONSULT_OK)
		return e;

	char rnd[2 * CONSULT_MIME_BOUNDARY_RANDOM + 1], mix[64], alt[64];
	hex_lower(m->boundary_random, CONSULT_MIME_BOUNDARY_RANDOM, rnd);
	snprintf(mix, sizeof mix, "=_mix_%s", rnd);
	snprintf(alt, sizeof alt, "=_alt_%s", rnd);
	bool with_ics = m->ics != NULL;

	consult_strbuf b;
	consult_sb_init(&b, MAIL_MAX);
	address_header(&b, "From", m->from_name, m->from_addr);
	address_header(&b, "To", m->to_name, m->to_addr);
	if (m->reply_to)
		address_header(&b, "Reply-To", NULL, m->reply_to);
	consult_sb_str(&b, "Subject: ");
	if (plain_ascii(m->subject, false) && strlen(m->subject) <= 78 - 9)
		consult_sb_str(&b, m->subject);
	else
		encoded_words(&b, m->subject);
	consult_sb_str(&b, "\r\n");
	header(&b, "Date", date);
	header(&b, "Message-ID", msgid);
	header(&b, "MIME-Version", "1.0");
	header(&b, "Auto-Submitted", "auto-generated");
	if (with_ics) {
		consult_sb_str(&b, "Content-Type: multipart/mixed;\r\n boundary=\"");
		consult_sb_str(&b, mix);
		consult_sb_str(&b, "\"\r\n\r\nThis is a multi-part message in MIME format.\r\n\r\n--");
		consult_sb_str(&b, mix);
		consult_sb_str(&b, "\r\n");
	}
	consult_sb_str(&b, "Content-Type: multipart/alternative;\r\n boundary=\"");
	consult_sb_str(&b, alt);
	consult_sb_str(&b, "\"\r\n\r\n");
	if (!with_ics)
		consult_sb_str(&b, "This is a multi-part message in MIME format.\r\n\r\n");
	const char *types[2] = { "text/plain", "text/html" };
	const char *bodies[2] = { m->text, m->html };
	for (size_t i = 0; i < 2; i++) {
		consult_sb_str(&b, "--");
		consult_sb_str(&b, alt);
		consult_sb_str(&b, "\r\nContent-Type: ");
		consult_sb_str(&b, types[i]);
		consult_sb_str(&b, "; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
		qp(&b, bodies[i]);
	}
	consult_sb_str(&b, "--");
	consult_sb_str(&b, alt);
	consult_sb_str(&b, "--\r\n");
	if (with_ics) {
		consult_sb_str(&b, "\r\n--");
		consult_sb_str(&b, mix);
		consult_sb_str(&b, "\r\nContent-Type: text/calendar; method=");
		consult_sb_str(&b, m->ics_method ? m->ics_method : CONSULT_ICS_METHOD);
		consult_sb_str(&b,
		        "; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n"
		        "Content-Disposition: attachment; filename=\"");
		consult_sb_str(&b, m->ics_filename ? m->ics_filename : "termin.ics");
		consult_sb_str(&b, "\"\r\n\r\n");
		base64_body(&b, m->ics, m->ics_len);
		consult_sb_str(&b, "--");
		consult_sb_str(&b, mix);
		consult_sb_str(&b, "--\r\n");
	}
	return consult_sb_finish(&b, out, out_len);
}
