/* deliver_cli.c - test driver for the delivery layer: composes a message
 * from conf/messages (core/compose + core/mime) and sends it with
 * deliver/smtp or deliver/sms_http, then prints one JSON line
 *   {"cls":"ok|temporary|permanent","code":N,"reason":"...","ms":N,"parts":N}
 * Used by tests/delivery/senders.test.mjs against loopback servers.
 *
 *   deliver_cli mail url=smtp://127.0.0.1:P from=a@b to=c@d [user= pass=]
 *       [starttls=0|1] [timeout=S] [ca=FILE] templates=DIR [kind=invite]
 *       practice=NAME phone=PHONE starts_at=UNIX offset=MIN link=URL code=CODE
 *       [toname=NAME] [doctor=NAME] [dump=FILE]
 *   deliver_cli sms url=http://127.0.0.1:P [method=POST|GET] [format=json|form]
 *       body=TEMPLATE [auth=HEADER] [sender=S] [timeout=S] to=E164
 *       (text=TEXT | templates=DIR kind=... practice= ... as above)
 * Exit status: 0 when a send was attempted (whatever its class), 2 on a
 * usage or compose error (message on stderr).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <sodium.h>
#include "core/compose.h"
#include "core/mime.h"
#include "deliver/sms_http.h"
#include "deliver/smtp.h"

static int g_argc;
static char **g_argv;

static const char *arg(const char *key)
{
	size_t n = strlen(key);
	for (int i = 2; i < g_argc; i++)
		if (strncmp(g_argv[i], key, n) == 0 && g_argv[i][n] == '=')
			return g_argv[i] + n + 1;
	return NULL;
}

static long larg(const char *key, long def)
{
	const char *v = arg(key);
	return v ? strtol(v, NULL, 10) : def;
}

static int die(const char *what, consult_err e, const char *part, const char *bad)
{
	fprintf(stderr, "deliver_cli: %s: %s%s%s%s%s\n", what, consult_err_name(e), part ? " part=" : "",
	        part ? part : "", bad && *bad ? " placeholder=" : "", bad ? bad : "");
	return 2;
}

static char *slurp(const char *dir, const char *kind, const char *ext)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s.%s", dir, kind, ext);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(CONSULT_TPL_MAX + 2);
	size_t n = buf ? fread(buf, 1, CONSULT_TPL_MAX + 1, f) : 0;
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

typedef struct loaded {
	consult_msg_templates t;
	consult_msg_values v;
	char *files[4];
} loaded;

static int load(loaded *l)
{
	memset(l, 0, sizeof *l);
	const char *dir = arg("templates");
	const char *kind = arg("kind") ? arg("kind") : "invite";
	if (!dir || !consult_msg_kind_parse(kind, &l->v.kind)) {
		fprintf(stderr, "deliver_cli: templates= and a valid kind= needed\n");
		return 2;
	}
	static const char *const ext[] = { "subject", "txt", "html", "sms" };
	for (int i = 0; i < 4; i++)
		if (!(l->files[i] = slurp(dir, kind, ext[i]))) {
			fprintf(stderr, "deliver_cli: cannot read %s.%s\n", kind, ext[i]);
			return 2;
		}
	l->t = (consult_msg_templates){ l->files[0], l->files[1], l->files[2], l->files[3] };
	const char *part = NULL;
	char bad[CONSULT_TPL_NAME_MAX + 1];
	consult_err e = consult_compose_check(&l->t, &part, bad);
	if (e != CONSULT_OK)
		return die("template check", e, part, bad);
	l->v.practice_name = arg("practice");
	l->v.practice_phone = arg("phone");
	l->v.starts_at = (int64_t)strtoll(arg("starts_at") ? arg("starts_at") : "0", NULL, 10);
	l->v.tz_offset_min = (int)larg("offset", 60);
	l->v.doctor = arg("doctor");
	l->v.link = arg("link");
	l->v.code = arg("code");
	return 0;
}

static void unload(loaded *l)
{
	for (int i = 0; i < 4; i++)
		free(l->files[i]);
}

static const char *cls_name(consult_delivery d)
{
	return d == CONSULT_DELIVERY_OK ? "ok" : d == CONSULT_DELIVERY_PERMANENT ? "permanent" : "temporary";
}

static void print(const consult_send_result *r, double ms, size_t parts)
{
	printf("{\"cls\":\"%s\",\"code\":%d,\"reason\":\"%s\",\"ms\":%.0f,\"parts\":%zu}\n", cls_name(r->cls), r->code,
	        r->reason, ms, parts);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmd_mail(void)
{
	loaded l;
	int rc = load(&l);
	if (rc) {
		unload(&l);
		return rc;
	}
	consult_msg_ics ics = { .uid = "appt-test-1@consult.test",
		.sequence = l.v.kind == CONSULT_MSG_CANCEL,
		.dtstamp = time(NULL),
		.duration_min = 15 };
	consult_composed_mail cm;
	const char *part = NULL;
	char bad[CONSULT_TPL_NAME_MAX + 1];
	consult_err e = consult_compose_mail(&l.t, &l.v, &ics, &cm, &part, bad);
	if (e != CONSULT_OK) {
		unload(&l);
		return die("compose", e, part, bad);
	}
	const char *from = arg("from");
	const char *at = from ? strchr(from, '@') : NULL;
	consult_mail m = {
		.from_name = l.v.practice_name,
		.from_addr = from,
		.to_name = arg("toname"),
		.to_addr = arg("to"),
		.date = time(NULL),
		.tz_offset_min = l.v.tz_offset_min,
		.msgid_domain = at ? at + 1 : "consult.test",
	};
	randombytes_buf(m.msgid_random, sizeof m.msgid_random);
	randombytes_buf(m.boundary_random, sizeof m.boundary_random);
	consult_composed_mail_apply(&cm, &m);
	char *msg = NULL;
	size_t len = 0;
	e = consult_mime_build(&m, &msg, &len);
	consult_composed_mail_free(&cm);
	unload(&l);
	if (e != CONSULT_OK)
		return die("mime", e, NULL, NULL);
	if (arg("dump")) {
		FILE *f = fopen(arg("dump"), "wb");
		if (f) {
			fwrite(msg, 1, len, f);
			fclose(f);
		}
	}
	consult_smtp_cfg cfg = {
		.url = arg("url"),
		.starttls = larg("starttls", 0) != 0,
		.user = arg("user"),
		.password = arg("pass"),
		.from = from,
		.timeout_s = larg("timeout", 10),
		.ca_file = arg("ca"),
	};
	consult_send_result r;
	double t0 = now_ms();
	consult_smtp_send(&cfg, arg("to"), msg, len, &r);
	print(&r, now_ms() - t0, 0);
	free(msg);
	return 0;
}

static int cmd_sms(void)
{
	char *text = NULL;
	consult_sms_info info = { 0 };
	if (arg("text")) {
		text = strdup(arg("text"));
		consult_sms_analyse(text, strlen(text), &info);
	} else {
		loaded l;
		int rc = load(&l);
		char bad[CONSULT_TPL_NAME_MAX + 1];
		consult_err e = rc ? CONSULT_OK : consult_compose_sms(&l.t, &l.v, &text, &info, bad);
		unload(&l);
		if (rc)
			return rc;
		if (e != CONSULT_OK)
			return die("compose sms", e, "sms", bad);
	}
	consult_sms_http_cfg cfg = { .url = arg("url"),
		.auth_header = arg("auth"),
		.body = arg("body"),
		.sender = arg("sender"),
		.timeout_s = larg("timeout", 5) };
	if (!consult_sms_method_parse(arg("method") ? arg("method") : "POST", &cfg.method) ||
	        !consult_sms_format_parse(arg("format") ? arg("format") : "json", &cfg.format)) {
		free(text);
		fprintf(stderr, "deliver_cli: bad method/format\n");
		return 2;
	}
	const char *field = NULL;
	char bad[CONSULT_TPL_NAME_MAX + 1];
	consult_err e = consult_sms_http_check(&cfg, &field, bad);
	if (e != CONSULT_OK) {
		free(text);
		return die("sms config", e, field, bad);
	}
	consult_send_result r;
	double t0 = now_ms();
	consult_sms_http_send(&cfg, arg("to"), text, &r);
	print(&r, now_ms() - t0, info.parts);
	free(text);
	return 0;
}

int main(int argc, char **argv)
{
	g_argc = argc;
	g_argv = argv;
	if (argc < 2 || sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "usage: deliver_cli mail|sms key=value...\n");
		return 2;
	}
	int rc = 2;
	if (strcmp(argv[1], "mail") == 0)
		rc = cmd_mail();
	else if (strcmp(argv[1], "sms") == 0)
		rc = cmd_sms();
	else
		fprintf(stderr, "usage: deliver_cli mail|sms key=value...\n");
	curl_global_cleanup();
	return rc;
}
