/* store_raw_pg.h - a second, raw libpq connection for the store's tests on
 * PostgreSQL (never for the contract suite).
 *
 * Contract: each call connects to the URL (a store location of
 * store_fixture.h, whose search_path is the test's schema), runs one
 * statement and disconnects, so it sees exactly what is committed; a
 * failing connection or statement fails the test (cmocka must be included
 * first). Notices are dropped.
 */
#ifndef CONSULT_TEST_STORE_RAW_PG_H
#define CONSULT_TEST_STORE_RAW_PG_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <libpq-fe.h>

static inline void pg_raw_quiet(void *ud, const char *message)
{
	(void)ud;
	(void)message;
}

/* The result of sql, or a failed test. The caller clears it. */
static inline PGresult *pg_raw(const char *url, const char *sql)
{
	PGconn *c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK)
		fprintf(stderr, "connect: %s\n", PQerrorMessage(c));
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PQsetNoticeProcessor(c, pg_raw_quiet, NULL);
	PGresult *r = PQexec(c, sql);
	ExecStatusType t = PQresultStatus(r);
	if (t != PGRES_TUPLES_OK && t != PGRES_COMMAND_OK)
		fprintf(stderr, "%s: %s\n", sql, PQerrorMessage(c));
	assert_true(t == PGRES_TUPLES_OK || t == PGRES_COMMAND_OK);
	PQfinish(c);
	return r;
}

/* Column 0 of the first row as an integer; -999 if there is no row. */
static inline int64_t pg_raw_int(const char *url, const char *sql)
{
	PGresult *r = pg_raw(url, sql);
	int64_t v = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -999;
	PQclear(r);
	return v;
}

static inline void pg_raw_exec(const char *url, const char *sql)
{
	PQclear(pg_raw(url, sql));
}

#endif
