/* messages.h - the message templates (see messages.c). */
#ifndef CONSULT_GLUE_MESSAGES_H
#define CONSULT_GLUE_MESSAGES_H

#include "core/compose.h"

/* Loads and checks all templates from dir; 0 or -1 (logged FATAL). */
int glue_messages_load(const char *dir);
/* The templates of a kind, NULL if not loaded. */
const consult_msg_templates *glue_messages(consult_msg_kind kind);
void glue_messages_free(void);

#endif
