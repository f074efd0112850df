/* db_pg_conn.c - the connection of the PostgreSQL driver (db.h, db_pg.h):
 * open, close, the rules for a lost connection, transactions, the schema
 * version and error reporting.
 *
 * Contract: one libpq connection per store handle (a connection URI,
 * "postgresql://user:password@host:port/db?..."); libpq's notices are
 * dropped (no logging). Unless the URL says otherwise, connecting gives up
 * after 10 s and a TCP connection whose peer stops answering is dropped
 * after 15 s (tcp_user_timeout, keepalives), so a dead server or network
 * fails the call instead of holding it for minutes. A lost connection (PostgreSQL restarted, the
 * backend terminated) is noticed by the next call: outside a transaction
 * the connection is reset and that statement runs once more (a statement
 * whose answer was lost on the way may thus run twice); inside one, the
 * transaction is gone with the connection: that call and every further one
 * fail with CONSULT_ERR_INTERNAL ("PG_CONNECTION") until the caller's
 * commit (INTERNAL: nothing was committed) or rollback (OK) - nothing is
 * silently lost, nothing half done. A statement of an outer transaction
 * outside a unit of work runs inside its own savepoint, so a failing one
 * (e.g. a taken unique value) undoes only itself, as on SQLite. Error
 * names are "PG_" + SQLSTATE (or "PG_CONNECTION"); messages are
 * PostgreSQL's primary message (names of tables and constraints, no
 * values; data exceptions, whose messages may quote a value, are named
 * only) and never hold the URL or its password. The schema version is the
 * one row of table consult_schema; migrations take an advisory lock.
 * DDL written for SQLite is sent with PostgreSQL's types (see pg_ddl).
 * Every outermost round trip (a statement with its savepoint, a
 * transaction command, a reconnect) is framed by the handle's wait hook
 * (store.h), so a caller can let go of its own lock while the server works.
 */
#include "store_internal.h"
#include "db_pg.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* pg_advisory_xact_lock key of the migrations ("cons" in ASCII) */
#define MIGRATION_LOCK "1668246899"

static void quiet(void *ud, const char *message)
{
	(void)ud;
	(void)message;
}

static bool lost(const db_pg *pg)
{
	return PQstatus(pg->conn) == CONNECTION_BAD;
}

static bool tx_open(const db_pg *pg)
{
	PGTransactionStatusType t = PQtransactionStatus(pg->conn);
	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

/* The first line of a libpq message, into buf. */
static void first_line(char *buf, size_t len, const char *msg)
{
	snprintf(buf, len, "%s", msg ? msg : "");
	buf[strcspn(buf, "\r\n")] = '\0';
}

void pg_report(consult_store *s, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char name[32], msg[200];
	if (!state || lost(s->pg)) {
		first_line(msg, sizeof msg, PQerrorMessage(s->pg->conn));
		char full[sizeof msg + 40];
		snprintf(full, sizeof full, "PostgreSQL connection: %s", msg);
		store_db_fail(s, DB_FAULT_OTHER, "PG_CONNECTION", full);
		return;
	}
	db_fault f = DB_FAULT_OTHER;
	if (strcmp(state, "23505") == 0)
		f = DB_FAULT_UNIQUE;
	else if (strcmp(state, "23503") == 0)
		f = DB_FAULT_FOREIGN_KEY;
	snprintf(name, sizeof name, "PG_%s", state);
	if (strncmp(state, "22", 2) == 0)
		snprintf(msg, sizeof msg, "PostgreSQL data exception (SQLSTATE %s)", state);
	else
		first_line(msg, sizeof msg, PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
	store_db_fail(s, f, name, msg);
}

static void lost_tx(consult_store *s)
{
	store_db_fail(s, DB_FAULT_OTHER, "PG_CONNECTION",
	        "PostgreSQL connection lost inside a transaction: nothing of it was committed");
}

/* A new session on the same connection parameters; prepared statements
 * of the old one are gone (gen). */
static bool reconnect(consult_store *s)
{
	PQreset(s->pg->conn);
	s->pg->gen++;
	if (PQstatus(s->pg->conn) == CONNECTION_OK)
		return true;
	pg_report(s, NULL);
	return false;
}

/* The wait hook around the outermost round trip (store.h). */
static void wait_begin(consult_store *s)
{
	if (s->wait_depth++ == 0 && s->wait_hook)
		s->wait_hook(s->wait_ud, true);
}

static void wait_end(consult_store *s)
{
	if (--s->wait_depth == 0 && s->wait_hook)
		s->wait_hook(s->wait_ud, false);
}

static bool ok(const PGresult *res)
{
	ExecStatusType t = PQresultStatus(res);
	return res && (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK);
}

/* One command on the connection as it is (no savepoint, no retry); a
 * lost connection inside a transaction marks it lost. */
static PGresult *simple_sent(consult_store *s, const char *sql)
{
	bool in_tx = tx_open(s->pg);
	PGresult *res = PQexec(s->pg->conn, sql);
	if (ok(res))
		return res;
	if (lost(s->pg) && in_tx)
		s->pg->broken = true;
	pg_report(s, res);
	PQclear(res);
	return NULL;
}

static PGresult *simple(consult_store *s, const char *sql)
{
	wait_begin(s);
	PGresult *res = simple_sent(s, sql);
	wait_end(s);
	return res;
}

static bool simple_ok(consult_store *s, const char *sql)
{
	PGresult *res = simple(s, sql);
	PQclear(res);
	return res != NULL;
}

static PGresult *run_sent(consult_store *s, pg_send_fn send, void *ud)
{
	db_pg *pg = s->pg;
	if (pg->broken) {
		lost_tx(s);
		return NULL;
	}
	bool in_tx = tx_open(pg);
	if (!in_tx && lost(pg) && !reconnect(s))
		return NULL;
	bool guard = in_tx && s->unit == 0;
	for (int attempt = 0;; attempt++) {
		PGresult *res = NULL;
		bool sp = false;
		if (guard) {
			res = PQexec(pg->conn, "SAVEPOINT consult_stmt");
			sp = ok(res);
			if (sp) {
				PQclear(res);
				res = NULL;
			}
		}
		if (!guard || sp)
			res = send(s, ud, pg->gen);
		if (ok(res)) {
			if (sp && !simple_ok(s, "RELEASE SAVEPOINT consult_stmt")) {
				PQclear(res);
				return NULL;
			}
			return res;
		}
		if (lost(pg)) {
			PQclear(res);
			if (in_tx) {
				pg->broken = true;
				lost_tx(s);
				return NULL;
			}
			if (attempt == 0 && reconnect(s))
				continue;
			if (attempt > 0)
				pg_report(s, NULL);
			return NULL;
		}
		pg_report(s, res);
		PQclear(res);
		if (sp) {
			PQclear(PQexec(pg->conn, "ROLLBACK TO SAVEPOINT consult_stmt"));
			PQclear(PQexec(pg->conn, "RELEASE SAVEPOINT consult_stmt"));
		}
		return NULL;
	}
}

PGresult *pg_run(consult_store *s, pg_send_fn send, void *ud)
{
	wait_begin(s);
	PGresult *res = run_sent(s, send, ud);
	wait_end(s);
	return res;
}

static PGresult *send_simple(consult_store *s, void *ud, unsigned gen)
{
	(void)gen;
	return PQexec(s->pg->conn, ud);
}

static bool tx_sent(consult_store *s, db_tx op)
{
	static const char *const sql[] = {
		[DB_BEGIN] = "BEGIN",
		[DB_COMMIT] = "COMMIT",
		[DB_ROLLBACK] = "ROLLBACK",
		[DB_SAVEPOINT] = "SAVEPOINT consult_unit",
		[DB_RELEASE] = "RELEASE SAVEPOINT consult_unit",
		[DB_ROLLBACK_TO] = "ROLLBACK TO SAVEPOINT consult_unit",
	};
	db_pg *pg = s->pg;
	if (pg->broken) {
		if (op == DB_ROLLBACK || op == DB_COMMIT) {
			pg->broken = false;
			reconnect(s);
		}
		if (op == DB_ROLLBACK)
			return true; /* the transaction went with the connection */
		lost_tx(s);
		return false;
	}
	if (op == DB_BEGIN) {
		PGresult *res = pg_run(s, send_simple, (void *)sql[op]);
		PQclear(res);
		return res != NULL;
	}
	PGresult *res = simple(s, sql[op]);
	if (!res)
		return op == DB_ROLLBACK && lost(pg); /* rolled back with the connection */
	/* COMMIT of a failed transaction answers ROLLBACK */
	bool done = op != DB_COMMIT || strcmp(PQcmdStatus(res), "COMMIT") == 0;
	PQclear(res);
	if (!done)
		store_db_fail(s, DB_FAULT_OTHER, "PG_ROLLBACK", "PostgreSQL rolled the transaction back at commit");
	return done;
}

static bool pg_tx(consult_store *s, db_tx op)
{
	wait_begin(s);
	bool done = tx_sent(s, op);
	wait_end(s);
	return done;
}

static bool pg_in_tx(consult_store *s)
{
	return s->pg->broken || tx_open(s->pg);
}

static bool pg_migrate_begin(consult_store *s)
{
	static const char sql[] = "BEGIN; SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ");"
	                          " CREATE TABLE IF NOT EXISTS consult_schema ("
	                          " id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL);"
	                          " INSERT INTO consult_schema VALUES (1, 0) ON CONFLICT (id) DO NOTHING";
	PGresult *res = pg_run(s, send_simple, (void *)sql);
	PQclear(res);
	return res != NULL;
}

static bool pg_version(consult_store *s, int *v)
{
	PGresult *res = simple(s, "SELECT version FROM consult_schema WHERE id = 1");
	if (!res)
		return false;
	*v = PQntuples(res) == 1 ? atoi(PQgetvalue(res, 0, 0)) : 0;
	PQclear(res);
	return true;
}

static bool pg_set_version(consult_store *s, int v)
{
	char sql[64];
	snprintf(sql, sizeof sql, "UPDATE consult_schema SET version = %d WHERE id = 1", v);
	return simple_ok(s, sql);
}

/* SQLite's DDL with PostgreSQL's types, outside quotes: "id INTEGER
 * PRIMARY KEY" becomes a BIGINT identity, INTEGER BIGINT, BLOB BYTEA and
 * TEXT compares byte-wise (COLLATE "C", as SQLite's BINARY does). */
static char *pg_ddl(const char *sql)
{
	static const struct {
		const char *from, *to;
	} words[] = {
		{ "id INTEGER PRIMARY KEY", "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" },
		{ "INTEGER", "BIGINT" },
		{ "BLOB", "BYTEA" },
		{ "TEXT", "TEXT COLLATE \"C\"" },
	};
	size_t n = strlen(sql), cap = n * 3 + 1, o = 0;
	char *out = malloc(cap);
	char quote = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		char c = sql[i];
		if (quote) {
			quote = c == quote ? 0 : quote;
		} else if (c == '\'' || c == '"') {
			quote = c;
		} else if (i == 0 || !(isalnum((unsigned char)sql[i - 1]) || sql[i - 1] == '_')) {
			bool hit = false;
			for (size_t w = 0; w < sizeof words / sizeof words[0] && !hit; w++) {
				size_t l = strlen(words[w].from);
				if (strncmp(sql + i, words[w].from, l) != 0 || isalnum((unsigned char)sql[i + l]) ||
				        sql[i + l] == '_')
					continue;
				size_t t = strlen(words[w].to);
				if (o + t >= cap) {
					free(out);
					return NULL;
				}
				memcpy(out + o, words[w].to, t);
				o += t;
				i += l;
				hit = true;
			}
			if (hit)
				continue;
		}
		if (o + 1 >= cap) {
			free(out);
			return NULL;
		}
		out[o++] = c;
		i++;
	}
	out[o] = '\0';
	return out;
}

static bool pg_exec_ddl(consult_store *s, const char *sql)
{
	char *ddl = pg_ddl(sql);
	if (!ddl) {
		store_db_fail(s, DB_FAULT_OTHER, "PG_DDL", "schema step too long to translate");
		return false;
	}
	bool r = simple_ok(s, ddl);
	free(ddl);
	return r;
}

static void pg_close(consult_store *s)
{
	if (!s->pg)
		return;
	PQfinish(s->pg->conn);
	free(s->pg);
	s->pg = NULL;
}

/* libpq's message for a failed connect, unless it quotes the password. */
static void connect_error(const char *url, PGconn *conn, char *err, size_t errlen)
{
	char line[200];
	first_line(line, sizeof line, conn ? PQerrorMessage(conn) : "out of memory");
	PQconninfoOption *opts = PQconninfoParse(url, NULL);
	for (PQconninfoOption *o = opts; o && o->keyword; o++) {
		if (strcmp(o->keyword, "password") == 0 && o->val && *o->val && strstr(line, o->val))
			snprintf(line, sizeof line, "(message withheld: it quotes the password)");
	}
	PQconninfoFree(opts);
	snprintf(err, errlen, "cannot connect to PostgreSQL: %s", line);
}

bool db_pg_open(consult_store *s, const char *url, char *err, size_t errlen)
{
	s->drv = &db_pg_driver;
	PQconninfoOption *opts = PQconninfoParse(url, NULL);
	if (!opts) {
		snprintf(err, errlen, "the PostgreSQL URL is not valid (libpq cannot parse it)");
		return false;
	}
	PQconninfoFree(opts);
	if (!(s->pg = calloc(1, sizeof *s->pg))) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	/* defaults the URL may override: a dead server or network must not
	 * hold the caller (and its lock) for minutes */
	static const char *const keys[] = { "connect_timeout", "tcp_user_timeout", "keepalives_idle",
		"keepalives_interval", "keepalives_count", "dbname", NULL };
	const char *const vals[] = { "10", "15000", "30", "10", "3", url, NULL };
	s->pg->conn = PQconnectdbParams(keys, vals, 1);
	s->pg->gen = 1;
	if (!s->pg->conn || PQstatus(s->pg->conn) != CONNECTION_OK) {
		connect_error(url, s->pg->conn, err, errlen);
		return false;
	}
	PQsetNoticeProcessor(s->pg->conn, quiet, NULL);
	return true;
}

const db_driver db_pg_driver = {
	.name = "PostgreSQL",
	.close = pg_close,
	.prepare = pg_prepare,
	.busy = pg_busy,
	.reset = pg_reset,
	.finalize = pg_finalize,
	.bind_int64 = pg_bind_int64,
	.bind_text = pg_bind_text,
	.bind_blob = pg_bind_blob,
	.param_count = pg_param_count,
	.step = pg_step,
	.changes = pg_changes,
	.col_null = pg_col_null,
	.col_int64 = pg_col_int64,
	.col_text = pg_col_text,
	.col_blob = pg_col_blob,
	.tx = pg_tx,
	.in_tx = pg_in_tx,
	.migrate_begin = pg_migrate_begin,
	.version = pg_version,
	.set_version = pg_set_version,
	.exec_ddl = pg_exec_ddl,
};
