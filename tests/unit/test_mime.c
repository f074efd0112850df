/* test_mime.c - the invitation e-mail: header lines (addresses, encoded
 * display names and subject decoded back, Date vectors from python's
 * email.utils.format_datetime, Message-ID), the multipart structure and
 * boundaries, CRLF everywhere, line limits (998 / 78 headers / 76 bodies),
 * quoted-printable and base64 bodies decoded back to the inputs, header
 * injection refused in every header field (nothing built), and finally an
 * independent parse of the message by python3's email package (skipped
 * only if python3 is missing). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>
#include "core/mime.h"

#define SUBJECT                                                                                                        \
	"Ihr Termin zur Videosprechstunde bei Praxis Dr. M\xc3\xbcller am 31.01.2025 um 15:30 Uhr \xe2\x80\x93 bitte " \
	"lesen"
#define TEXT                                                                                                   \
	"Guten Tag,\n\nIhr Termin: 31.01.2025, 15:30 Uhr.\nLink: "                                             \
	"https://praxis.example/p/dr-x?code=ABCD-EFGH-JKMN&lang=de\n"                                          \
	"Code: ABCD-EFGH-JKMN\n.\n.Punkt am Zeilenanfang\nFrom here on = gleich \nTab am Ende\t\n"             \
	"Eine sehr lange Zeile mit Umlauten \xc3\xa4\xc3\xb6\xc3\xbc\xc3\x9f und mehr Text, der weit \xc3\xbc" \
	"ber sechsundsiebzig Zeichen hinausgeht, damit weiche Umbr\xc3\xbc"                                    \
	"che n\xc3\xb6tig werden ..........\n"                                                                 \
	"Sie ben\xc3\xb6tigen Chrome, Firefox oder Safari; Kamera, Mikrofon, Lautsprecher.\nEnde"
#define HTML                                                                                          \
	"<!doctype html><html><body><p>Guten Tag,</p><p>Ihr Termin: <b>31.01.2025, 15:30 Uhr</b></p>" \
	"<p><a href=\"https://praxis.example/p/dr-x?code=ABCD-EFGH-JKMN&amp;lang=de\">Zur "           \
	"Videosprechstunde</a></p></body></html>"
#define ICS                                                                                                     \
	"BEGIN:VCALENDAR\r\nPRODID:-//consult//Videosprechstunde//DE\r\nVERSION:2.0\r\nMETHOD:PUBLISH\r\n"      \
	"BEGIN:VEVENT\r\nUID:appt-1@praxis.example\r\nDTSTAMP:20250127T174640Z\r\nDTSTART:20250131T143000Z\r\n" \
	"DTEND:20250131T150000Z\r\nSUMMARY:Videosprechstunde Praxis Dr. "                                       \
	"M\xc3\xbcller\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

static consult_mail base(void)
{
	consult_mail m;
	memset(&m, 0, sizeof m);
	m.from_name = "Praxis Dr. M\xc3\xbcller";
	m.from_addr = "praxis@praxis.example";
	m.to_addr = "patient@example.org";
	m.to_name = "Erika Mustermann";
	m.subject = SUBJECT;
	m.date = 1738333800;
	m.tz_offset_min = 60;
	for (int i = 0; i < CONSULT_MIME_MSGID_RANDOM; i++)
		m.msgid_random[i] = (uint8_t)(0xa0 + i);
	m.msgid_domain = "praxis.example";
	for (int i = 0; i < CONSULT_MIME_BOUNDARY_RANDOM; i++)
		m.boundary_random[i] = (uint8_t)(i * 17);
	m.text = TEXT;
	m.html = HTML;
	m.ics = ICS;
	m.ics_len = strlen(ICS);
	return m;
}

static size_t count(const char *h, const char *n)
{
	size_t c = 0;
	for (const char *p = strstr(h, n); p; p = strstr(p + 1, n))
		c++;
	return c;
}

/* The header block (up to the first empty line) as a copy. */
static char *headers_of(const char *msg)
{
	const char *e = strstr(msg, "\r\n\r\n");
	assert_non_null(e);
	size_t n = (size_t)(e - msg) + 2;
	char *h = malloc(n + 1);
	memcpy(h, msg, n);
	h[n] = '\0';
	return h;
}

/* Decodes the concatenated B encoded-words of one (unfolded) header value. */
static void decode_words(const char *v, char *out, size_t cap)
{
	size_t k = 0;
	const char *p = v;
	while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
		p += 10;
		const char *e = strstr(p, "?=");
		assert_non_null(e);
		size_t bin = 0;
		assert_int_equal(sodium_base642bin((unsigned char *)out + k, cap - k - 1, p, (size_t)(e - p), NULL,
		                         &bin, NULL, sodium_base64_VARIANT_ORIGINAL),
		        0);
		k += bin;
		p = e + 2;
	}
	out[k] = '\0';
}

static void qp_decode(const char *s, size_t n, char *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=' && s[i + 1] == '\r' && s[i + 2] == '\n') {
			i += 2;
		} else if (s[i] == '=') {
			unsigned v;
			assert_int_equal(sscanf(s + i + 1, "%2X", &v), 1);
			out[k++] = (char)v;
			i += 2;
		} else {
			out[k++] = s[i];
		}
	}
	out[k] = '\0';
}

/* TEXT with CRLF line ends, as the QP part must decode. */
static char *crlf(const char *s)
{
	char *o = malloc(2 * strlen(s) + 3);
	size_t k = 0;
	for (; *s; s++) {
		if (*s == '\n')
			o[k++] = '\r';
		o[k++] = *s;
	}
	o[k++] = '\r';
	o[k++] = '\n';
	o[k] = '\0';
	return o;
}

static void test_lines(void **st)
{
	consult_mail m = base();
	char *msg;
	size_t len;
	assert_int_equal(consult_mime_build(&m, &msg, &len), CONSULT_OK);
	assert_int_equal(len, strlen(msg));
	/* CRLF only; every line <= 998; header lines <= 78; body lines <= 76 */
	size_t col = 0, lines = 0;
	bool in_headers = true;
	for (size_t i = 0; i < len; i++) {
		if (msg[i] == '\n')
			fail_msg("bare LF at %zu", i);
		if (msg[i] == '\r') {
			assert_int_equal(msg[i + 1], '\n');
			if (col == 0)
				in_headers = false;
			assert_true(col <= (in_headers ? 78u : 76u));
			col = 0;
			lines++;
			i++;
			continue;
		}
		assert_true((unsigned char)msg[i] >= 0x20 && (unsigned char)msg[i] < 0x7f); /* 7-bit clean */
		col++;
	}
	assert_int_equal(col, 0); /* ends with CRLF */
	assert_true(lines > 30);
	free(msg);
}

static void test_headers(void **st)
{
	consult_mail m = base();
	char *msg;
	assert_int_equal(consult_mime_build(&m, &msg, NULL), CONSULT_OK);
	char *h = headers_of(msg);
	assert_non_null(strstr(h, "\r\nTo: Erika Mustermann <patient@example.org>\r\n"));
	assert_non_null(strstr(h, "\r\nDate: Fri, 31 Jan 2025 15:30:00 +0100\r\n"));
	assert_non_null(strstr(h, "\r\nMessage-ID: <a0a1a2a3a4a5a6a7a8a9aaabacadaeaf@praxis.example>\r\n"));
	assert_non_null(strstr(h, "\r\nMIME-Version: 1.0\r\n"));
	assert_non_null(strstr(h, "\r\nAuto-Submitted: auto-generated\r\n"));
	assert_non_null(
	        strstr(h, "\r\nContent-Type: multipart/mixed;\r\n boundary=\"=_mix_00112233445566778899aabb\"\r\n"));
	assert_int_equal(strncmp(h, "From: =?UTF-8?B?", 16), 0);
	assert_non_null(strstr(h, "?= <praxis@praxis.example>\r\n"));
	assert_null(strstr(h, "Reply-To"));

	/* From display name decodes back */
	char buf[1024];
	const char *subj = strstr(h, "\r\nSubject: ");
	assert_non_null(subj);
	char from_part[512];
	size_t fl = (size_t)(subj - h);
	memcpy(from_part, h, fl);
	from_part[fl] = '\0';
	decode_words(from_part, buf, sizeof buf);
	assert_string_equal(buf, "Praxis Dr. M\xc3\xbcller");

	/* Subject: folded encoded-words that decode to the UTF-8 subject */
	const char *end = strstr(subj + 2, "\r\nDate:");
	char sv[1024];
	memcpy(sv, subj, (size_t)(end - subj));
	sv[end - subj] = '\0';
	assert_true(count(sv, "\r\n ") >= 2); /* folded */
	decode_words(sv, buf, sizeof buf);
	assert_string_equal(buf, SUBJECT);
	free(h);
	free(msg);

	/* plain ASCII subject and names stay readable; reply-to, no display name */
	m.subject = "Ihr Termin";
	m.from_name = "Praxis Beispiel";
	m.to_name = NULL;
	m.reply_to = "empfang@praxis.example";
	assert_int_equal(consult_mime_build(&m, &msg, NULL), CONSULT_OK);
	h = headers_of(msg);
	assert_int_equal(
	        strncmp(h,
	                "From: Praxis Beispiel <praxis@praxis.example>\r\n"
	                "To: patient@example.org\r\nReply-To: empfang@praxis.example\r\nSubject: Ihr Termin\r\n",
	                120),
	        0);
	free(h);
	free(msg);

	/* an ASCII name with specials, or a subject with "=?", is encoded */
	m.from_name = "Dr. X, Praxis";
	m.subject = "=?UTF-8?B?QQ==?=";
	assert_int_equal(consult_mime_build(&m, &msg, NULL), CONSULT_OK);
	assert_null(strstr(msg, "Dr. X, Praxis"));
	assert_null(strstr(msg, "Subject: =?UTF-8?B?QQ==?=\r\n"));
	free(msg);
}

static void test_structure(void **st)
{
	consult_mail m = base();
	char *msg;
	assert_int_equal(consult_mime_build(&m, &msg, NULL), CONSULT_OK);
	const char *mix = "=_mix_00112233445566778899aabb", *alt = "=_alt_00112233445566778899aabb";
	char d[128];
	snprintf(d, sizeof d, "\r\n--%s\r\n", mix);
	assert_int_equal(count(msg, d), 2);
	snprintf(d, sizeof d, "\r\n--%s--\r\n", mix);
	assert_int_equal(count(msg, d), 1);
	snprintf(d, sizeof d, "\r\n--%s\r\n", alt);
	assert_int_equal(count(msg, d), 2);
	snprintf(d, sizeof d, "\r\n--%s--\r\n", alt);
	assert_int_equal(count(msg, d), 1);
	snprintf(d, sizeof d, "\r\n--%s--\r\n", mix);
	assert_true(strlen(strstr(msg, d)) == strlen(d)); /* the last line */

	/* order: alternative (plain, html) then the calendar */
	const char *pa = strstr(msg, "Content-Type: multipart/alternative;\r\n boundary=\"=_alt_");
	const char *pt = strstr(
	        msg, "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
	const char *ph = strstr(
	        msg, "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
	const char *pc = strstr(msg,
	        "Content-Type: text/calendar; method=PUBLISH; charset=utf-8\r\n"
	        "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; "
	        "filename=\"termin.ics\"\r\n\r\n");
	assert_true(pa && pt && ph && pc && pa < pt && pt < ph && ph < pc);

	/* the plain part decodes back to TEXT (CRLF line ends) */
	pt = strstr(pt, "\r\n\r\n") + 4;
	snprintf(d, sizeof d, "\r\n--%s", alt); /* the part's last CRLF belongs to it here */
	const char *pe = strstr(pt, d) + 2;
	char *dec = malloc(8192);
	qp_decode(pt, (size_t)(pe - pt), dec);
	char *want = crlf(TEXT);
	assert_string_equal(dec, want);
	free(want);
	/* QP details: '=' and 8-bit encoded, '.' and "From " at line start,
	 * white space before the line end, soft breaks */
	assert_non_null(strstr(pt, "\r\n=2E\r\n=2EPunkt"));
	assert_non_null(strstr(pt, "\r\n=46rom here on =3D gleich=20\r\nTab am Ende=09\r\n"));
	assert_non_null(strstr(pt, "=C3=A4=C3=B6=C3=BC=C3=9F"));
	assert_non_null(strstr(pt, "=\r\n"));

	ph = strstr(ph, "\r\n\r\n") + 4;
	pe = strstr(ph, d) + 2;
	qp_decode(ph, (size_t)(pe - ph), dec);
	assert_string_equal(dec, HTML "\r\n");

	/* the calendar decodes back; base64 lines are 76 characters */
	pc = strstr(pc, "\r\n\r\n") + 4;
	assert_int_equal(strstr(pc, "\r\n") - pc, 76);
	const char *ce = strstr(pc, "\r\n--=_mix_");
	assert_non_null(ce);
	for (const char *q = pc; q < ce; q = strstr(q, "\r\n") + 2)
		assert_true(strstr(q, "\r\n") - q <= 76);
	size_t bin = 0;
	assert_int_equal(sodium_base642bin((unsigned char *)dec, 8192, pc, (size_t)(ce - pc), "\r\n", &bin, NULL,
	                         sodium_base64_VARIANT_ORIGINAL),
	        0);
	assert_int_equal(bin, strlen(ICS));
	assert_memory_equal(dec, ICS, strlen(ICS));
	free(dec);
	free(msg);

	/* without a calendar: multipart/alternative at the top */
	m.ics = NULL;
	assert_int_equal(consult_mime_build(&m, &msg, NULL), CONSULT_OK);
	assert_null(strstr(msg, "multipart/mixed"));
	assert_null(strstr(msg, "text/calendar"));
	assert_non_null(strstr(msg, "\r\nContent-Type: multipart/alternative;\r\n boundary=\"=_alt_"));
	free(msg);
	/* another method and file name */
	m = base();
	m.ics_method = "CANCEL";
	m.ics_filename = "absage.ics";
	assert_int_equal(consult_mime_build(&m, &msg, NULL), CONSULT_OK);
	assert_non_null(strstr(msg, "text/calendar; method=CANCEL;"));
	assert_non_null(strstr(msg, "filename=\"absage.ics\""));
	free(msg);
}

static void test_injection(void **st)
{
	static const char *evil[] = {
		"x\r\nBcc: all@example.org",
		"x\nBcc: all@example.org",
		"x\rBcc: y",
		"x\x01y",
		"x\ty",
		"bad \xc3",
		"x\xc2\x85y",
	};
	for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
		for (int f = 0; f < 4; f++) {
			consult_mail m = base();
			const char **field = f == 0 ? &m.from_name
			        : f == 1            ? &m.to_name
			        : f == 2            ? &m.subject
			                            : &m.to_addr;
			*field = evil[i];
			char *msg = (char *)1;
			size_t len = 99;
			consult_err e = consult_mime_build(&m, &msg, &len);
			if (e == CONSULT_OK)
				fail_msg("field %d accepted evil %zu", f, i);
			assert_null(msg);
			assert_int_equal(len, 0);
		}
	}
	consult_mail m = base();
	char *msg;
	m.from_addr = "praxis@praxis.example\r\nBcc: x@example.org";
	assert_int_equal(consult_mime_build(&m, &msg, NULL), CONSULT_ERR_INVALID_UTF8);
	m = base();
	m.reply_to = "a@b.de\nX: y";
	assert_int_equal(consult_mime_build(&m, &msg, NULL), CONSULT_ERR_INVALID_UTF8);
	m = base();
	m.to_addr = "Patient <patient@example.org>";
	assert_int_equal(consult_mime_build(&m, &msg, NULL), CONSULT_ERR_INVALID_FIELD);
	m = base();
	m.msgid_domain = "praxis.example>\r\nX: y";
	assert_int_equal(consult_mime_build(&m, &msg, NULL), CONSULT_ERR_INVALID_FIELD);
	m = base();
	m.ics_filename = "termin.ics\"\r\nX: y";
	assert_int_equal(consult_mime_build(&m, &msg, NULL), CONSULT_ERR_INVALID_FIELD);
	m = base();
	m.ics_method = "PUBLISH\r\n";
	assert_int_equal(consult_mime_build(&m, &msg, NULL), CONSULT_ERR_INVALID_FIELD);
	/* bodies: controls other than line ends/tab, bad UTF-8, missing parts */
	m = base();
	m.text = "a\x1b"
	         "b";
	assert_int_equal(consult_mime_build(&m, &msg, NULL), CONSULT_ERR_INVALID_UTF8);
	m = base();
	m.html = "\xff";
	assert_int_equal(consult_mime_build(&m, &msg, NULL), CONSULT_ERR_INVALID_UTF8);
	m = base();
	m.html = NULL;
	assert_int_equal(consult_mime_build(&m, &msg, NULL), CONSULT_ERR_MISSING_FIELD);
	m = base();
	m.subject = NULL;
	assert_int_equal(consult_mime_build(&m, &msg, NULL), CONSULT_ERR_MISSING_FIELD);
	/* limits */
	char big[1100];
	memset(big, 'n', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	m = base();
	big[CONSULT_MIME_NAME_MAX + 1] = '\0';
	m.from_name = big;
	assert_int_equal(consult_mime_build(&m, &msg, NULL), CONSULT_ERR_TOO_LONG);
	big[CONSULT_MIME_NAME_MAX] = '\0';
	assert_int_equal(consult_mime_build(&m, &msg, NULL), CONSULT_OK);
	free(msg);
	m = base();
	memset(big, 's', sizeof big - 1);
	big[CONSULT_MIME_SUBJECT_MAX + 1] = '\0';
	m.subject = big;
	assert_int_equal(consult_mime_build(&m, &msg, NULL), CONSULT_ERR_TOO_LONG);
	big[CONSULT_MIME_SUBJECT_MAX] = '\0';
	assert_int_equal(consult_mime_build(&m, &msg, NULL), CONSULT_OK); /* long ASCII: encoded, folded */
	free(msg);
	m = base();
	m.tz_offset_min = 1440;
	assert_int_equal(consult_mime_build(&m, &msg, NULL), CONSULT_ERR_INVALID_FIELD);
}

/* The value of header `name` in the message built from m ("" if the
 * build fails); returns the build's result. */
static consult_err built_header(const consult_mail *m, const char *name, char *out, size_t cap)
{
	char *msg = NULL, want[64];
	out[0] = '\0';
	consult_err e = consult_mime_build(m, &msg, NULL);
	if (e != CONSULT_OK)
		return e;
	snprintf(want, sizeof want, "\r\n%s: ", name);
	const char *v = strstr(msg, want);
	assert_non_null(v);
	v += strlen(want);
	size_t n = strcspn(v, "\r");
	assert_true(n < cap);
	memcpy(out, v, n);
	out[n] = '\0';
	free(msg);
	return CONSULT_OK;
}

static void test_date_msgid(void **st)
{
	char d[CONSULT_MIME_DATE_LEN];
	consult_mail m = base();
	assert_int_equal(built_header(&m, "Date", d, sizeof d), CONSULT_OK);
	assert_string_equal(d, "Fri, 31 Jan 2025 15:30:00 +0100");
	m.tz_offset_min = -330;
	assert_int_equal(built_header(&m, "Date", d, sizeof d), CONSULT_OK);
	assert_string_equal(d, "Fri, 31 Jan 2025 09:00:00 -0530");
	m.date = 951782400 + 13 * 3600;
	m.tz_offset_min = 0;
	assert_int_equal(built_header(&m, "Date", d, sizeof d), CONSULT_OK);
	assert_string_equal(d, "Tue, 29 Feb 2000 13:00:00 +0000");
	m = base();
	m.tz_offset_min = 1440;
	assert_int_equal(built_header(&m, "Date", d, sizeof d), CONSULT_ERR_INVALID_FIELD);
	m = base();
	m.date = -1;
	assert_int_equal(built_header(&m, "Date", d, sizeof d), CONSULT_ERR_INVALID_FIELD);

	char id[CONSULT_MIME_MSGID_LEN];
	m = base();
	memset(m.msgid_random, 0, sizeof m.msgid_random);
	m.msgid_random[1] = 1;
	m.msgid_random[2] = 2;
	m.msgid_random[3] = 0xff;
	m.msgid_domain = "mail.example.de";
	assert_int_equal(built_header(&m, "Message-ID", id, sizeof id), CONSULT_OK);
	assert_string_equal(id, "<000102ff000000000000000000000000@mail.example.de>");
	m.msgid_domain = "localhost";
	assert_int_equal(built_header(&m, "Message-ID", id, sizeof id), CONSULT_ERR_INVALID_FIELD);
	m.msgid_domain = NULL;
	assert_int_equal(built_header(&m, "Message-ID", id, sizeof id), CONSULT_ERR_MISSING_FIELD);
}

/* python3's email package parses the message and finds what we put in. */
static const char py_check[] =
        "import sys, os, email, email.policy\n"
        "raw = open(sys.argv[1], 'rb').read()\n"
        "assert b'\\r\\n' in raw and b'\\n' not in raw.replace(b'\\r\\n', b'')\n"
        "m = email.message_from_bytes(raw, policy=email.policy.default)\n"
        "assert m['Subject'] == os.environ['EXP_SUBJECT'], m['Subject']\n"
        "assert m['From'].addresses[0].display_name == os.environ['EXP_FROM']\n"
        "assert m['From'].addresses[0].addr_spec == 'praxis@praxis.example'\n"
        "assert m['To'].addresses[0].addr_spec == 'patient@example.org'\n"
        "assert m['Message-ID'] == '<a0a1a2a3a4a5a6a7a8a9aaabacadaeaf@praxis.example>'\n"
        "assert m['Date'].datetime.timestamp() == 1738333800\n"
        "assert m.get_content_type() == 'multipart/mixed'\n"
        "assert not m.defects, m.defects\n"
        "types = [p.get_content_type() for p in m.walk()]\n"
        "assert types == ['multipart/mixed', 'multipart/alternative', 'text/plain', 'text/html', 'text/calendar'], "
        "types\n"
        "for p in m.walk(): assert not p.defects, (p.get_content_type(), p.defects)\n"
        "plain = m.get_body(('plain',)).get_content()\n"
        "assert plain.replace('\\r\\n', '\\n').rstrip('\\n') == os.environ['EXP_TEXT'], repr(plain)\n"
        "assert m.get_body(('html',)).get_content().rstrip() == os.environ['EXP_HTML']\n"
        "cal = [p for p in m.iter_attachments()]\n"
        "assert len(cal) == 1 and cal[0].get_filename() == 'termin.ics'\n"
        "assert cal[0].get_param('method') == 'PUBLISH'\n"
        "assert cal[0].get_content().encode() == os.environ['EXP_ICS'].encode() or cal[0].get_payload(decode=True) == "
        "os.environ['EXP_ICS'].encode()\n";

static void test_python_parses(void **st)
{
	if (system("python3 -c 'import email' >/dev/null 2>&1") != 0) {
		skip();
		return;
	}
	consult_mail m = base();
	char *msg;
	size_t len;
	assert_int_equal(consult_mime_build(&m, &msg, &len), CONSULT_OK);
	char mf[] = "/tmp/consult-mime-XXXXXX", pf[] = "/tmp/consult-mimepy-XXXXXX";
	int fd = mkstemp(mf), pd = mkstemp(pf);
	assert_true(fd >= 0 && pd >= 0);
	assert_int_equal(write(fd, msg, len), (ssize_t)len);
	assert_int_equal(write(pd, py_check, strlen(py_check)), (ssize_t)strlen(py_check));
	close(fd);
	close(pd);
	setenv("EXP_SUBJECT", SUBJECT, 1);
	setenv("EXP_FROM", "Praxis Dr. M\xc3\xbcller", 1);
	setenv("EXP_TEXT", TEXT, 1);
	setenv("EXP_HTML", HTML, 1);
	setenv("EXP_ICS", ICS, 1);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "python3 %s %s", pf, mf);
	int rc = system(cmd);
	const char *keep = getenv("CONSULT_MIME_KEEP");
	if (keep && *keep) {
		char c2[300];
		snprintf(c2, sizeof c2, "cp %s %s", mf, keep);
		assert_int_equal(system(c2), 0);
	}
	unlink(mf);
	unlink(pf);
	free(msg);
	assert_int_equal(rc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_injection),
		cmocka_unit_test(test_date_msgid),
		cmocka_unit_test(test_python_parses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
