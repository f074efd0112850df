/* clock.c - the glue's one clock, see clock.h. */
#include <stdlib.h>
#include <time.h>
#include <glib.h>
#include "clock.h"
#include "core/request.h"

static gint test_mode; /* CONSULT_TEST=1 at init */
static gint offset_s;  /* seconds; |offset| <= 10 years fits a gint */

void glue_clock_init(void)
{
	g_atomic_int_set(&test_mode, g_strcmp0(g_getenv("CONSULT_TEST"), "1") == 0);
	g_atomic_int_set(&offset_s, 0);
}

bool glue_test_mode(void)
{
	return g_atomic_int_get(&test_mode) != 0;
}

int64_t glue_now(void)
{
	return (int64_t)time(NULL) + g_atomic_int_get(&offset_s);
}

int64_t glue_clock_offset(void)
{
	return g_atomic_int_get(&offset_s);
}

bool glue_clock_set_offset(int64_t seconds)
{
	if (!glue_test_mode() || llabs(seconds) > CONSULT_TEST_CLOCK_MAX_OFFSET)
		return false;
	g_atomic_int_set(&offset_s, (gint)seconds);
	return true;
}
