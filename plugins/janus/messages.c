/* messages.c - the practice's message templates, loaded once at init.
 *
 * Contract: for each kind (invite, reminder, cancel) the four files
 * <templates_dir>/<kind>.{subject,txt,html,sms} are read (at most
 * CONSULT_TPL_MAX bytes each) and checked with consult_compose_check, so
 * an unknown placeholder or a missing file stops Janus at start with one
 * FATAL line naming the file, instead of failing at the first invitation.
 * Only needed when e-mail or SMS is configured. Read-only after init.
 */
#include <string.h>
#include <glib.h>
#include <janus/debug.h>
#include "messages.h"

static char *texts[3][4];
static consult_msg_templates tpl[3];
static const char *const parts[4] = { "subject", "txt", "html", "sms" };

int glue_messages_load(const char *dir)
{
	for (int k = 0; k < 3; k++) {
		const char *kind = consult_msg_kind_name((consult_msg_kind)k);
		for (int i = 0; i < 4; i++) {
			char *name = g_strdup_printf("%s.%s", kind, parts[i]);
			char *path = g_build_filename(dir, name, NULL);
			gsize len = 0;
			GError *err = NULL;
			if (!g_file_get_contents(path, &texts[k][i], &len, &err) || len > CONSULT_TPL_MAX) {
				JANUS_LOG(LOG_FATAL,
				        "[consult] config: message template %s missing or unreadable in templates_dir "
				        "(%s)\n",
				        name, err ? err->message : "too long");
				g_clear_error(&err);
				g_free(name);
				g_free(path);
				glue_messages_free();
				return -1;
			}
			g_free(name);
			g_free(path);
		}
		tpl[k] = (consult_msg_templates){ texts[k][0], texts[k][1], texts[k][2], texts[k][3] };
		const char *part = NULL;
		char bad[CONSULT_TPL_NAME_MAX + 1] = "";
		if (consult_compose_check(&tpl[k], &part, bad) != CONSULT_OK) {
			JANUS_LOG(LOG_FATAL,
			        "[consult] config: message template %s.%s is invalid (placeholder \"%s\"; allowed: "
			        "practice_name practice_phone date time doctor link code)\n",
			        kind, part ? part : "?", bad);
			glue_messages_free();
			return -1;
		}
	}
	return 0;
}

const consult_msg_templates *glue_messages(consult_msg_kind kind)
{
	return (unsigned)kind < 3 && texts[kind][0] ? &tpl[kind] : NULL;
}

void glue_messages_free(void)
{
	for (int k = 0; k < 3; k++) {
		for (int i = 0; i < 4; i++) {
			g_free(texts[k][i]);
			texts[k][i] = NULL;
		}
		memset(&tpl[k], 0, sizeof(tpl[k]));
	}
}
