/* errors.c - names and English texts of the stable error codes.
 *
 * Contract: total functions over the rows of errors.def; unknown values map
 * to "internal" so a caller never prints NULL.
 */
#include "errors.h"

const char *consult_err_name(consult_err err)
{
	switch (err) {
	case CONSULT_OK:
		return "ok";
#define CONSULT_ERROR(id, number, name, text) \
	case CONSULT_ERR_##id:                \
		return name;
#include "errors.def"
#undef CONSULT_ERROR
	}
	return "internal";
}

const char *consult_err_text(consult_err err)
{
	switch (err) {
	case CONSULT_OK:
		return "Success";
#define CONSULT_ERROR(id, number, name, text) \
	case CONSULT_ERR_##id:                \
		return text;
#include "errors.def"
#undef CONSULT_ERROR
	}
	return "Internal error; nothing changed";
}
