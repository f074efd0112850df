// store-failure.test.mjs - the store on a full disk and the WAL's size
// (real Janus, real SQLite file on a small tmpfs mounted for this file;
// needs root).
//
// Full disk: a filler file takes every free byte while Janus runs. Writes
// then fail with 500 internal and change nothing, each failure is logged
// (request, SQLite error name, ids; no names or codes), `health` reports
// `store failing` with SQLITE_FULL and the disk below min_free_disk_mb;
// once the filler is gone, `health` is ok again and join/create_appointment
// work, without a restart. After Janus stopped, PRAGMA integrity_check is ok.
// WAL: after a few hundred commits the -wal file is cut back to at most
// journal_size_limit (CONSULT_STORE_WAL_LIMIT, 1 MiB; docs/operations.md)
// by the timer's TRUNCATE checkpoint.
// The tmpfs is unmounted when the file ends, also on failure.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { useStack, assertOk, assertError, now, uniqueName } from './helpers.mjs';
import { until } from './servers.mjs';

const TMPFS_MB = 48;
const MIN_FREE_MB = 16;             // above what is left once the filler is in
const WAL_LIMIT = 1024 * 1024;      // journal_size_limit, docs/operations.md

const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-disk-'));
const dbFile = path.join(mnt, 'consult.sqlite');
const filler = path.join(mnt, 'filler');
let mounted = false;

function unmount() {
  if (!mounted) return;
  for (const args of [[mnt], ['-l', mnt]]) {
    try { execFileSync('umount', args, { stdio: 'ignore' }); mounted = false; return; } catch { /* try lazily */ }
  }
}
process.on('exit', () => { unmount(); try { fs.rmdirSync(mnt); } catch { /* busy or gone */ } });

const ctx = useStack({
  setup: async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_MB}m,mode=0700`, 'consult-test-disk', mnt]);
    mounted = true;
  },
  janus: { dataDir: mnt, extraPluginConfig: { min_free_disk_mb: MIN_FREE_MB } },
});

// After useStack's hook has stopped Janus: the file is intact, then unmount.
after(async () => {
  try {
    if (ctx.janus && ctx.janus.alive()) await ctx.janus.stop();
    if (fs.existsSync(dbFile)) {
      const out = execFileSync('sqlite3', ['-readonly', dbFile, 'PRAGMA integrity_check'], { encoding: 'utf8' }).trim();
      assert.equal(out, 'ok', 'integrity_check after the full disk');
    }
  } finally {
    unmount();
  }
});

const walSize = () => { try { return fs.statSync(dbFile + '-wal').size; } catch { return 0; } };
const health = () => ctx.janus.admin({ request: 'health' });

/** Fills the tmpfs to the last byte (dd stops with ENOSPC). */
function fillDisk() {
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { stdio: 'ignore' });
  } catch { /* ENOSPC: that is the point */ }
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=512', 'oflag=append', 'conv=notrunc'], { stdio: 'ignore' });
  } catch { /* the last blocks */ }
}

test('WAL: a few hundred commits, then the timer truncates the -wal file to within journal_size_limit', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  assertOk(rec.reply);
  let peak = 0;
  for (let i = 0; i < 300; i++) {
    const r = await rec.handle.request({ request: 'create_appointment', starts_at: now() + 3600 + i });
    assertOk(r);
    ctx.secret(r.code, r.code.replace(/-/g, ''), r.link);
    peak = Math.max(peak, walSize());
  }
  assert.ok(peak > WAL_LIMIT, `the load must grow the WAL beyond the bound to prove anything (peak ${peak})`);
  const size = await until(() => { const s = walSize(); return s <= WAL_LIMIT ? { s } : null; }, 40000,
    `the -wal file at most ${WAL_LIMIT} bytes (peak ${peak}, now ${walSize()})`);
  const h = await health();
  assertOk(h);
  assert.equal(h.wal_limit_bytes, WAL_LIMIT);
  assert.ok(h.wal_bytes <= WAL_LIMIT, `health wal_bytes ${h.wal_bytes}`);
  console.log(`# WAL peak ${peak} bytes during 300 commits, ${size.s} bytes after the checkpoint`);
  await rec.client.close();
});

test('full disk: 500 internal, nothing changed, logged, health failing; recovery without restart', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  assertOk(rec.reply);
  const appt = await ctx.appointment(rec.handle, { startsAt: now() + 60 });
  let h = await health();
  assert.equal(h.status, 'ok', JSON.stringify(h));
  assert.equal(h.store, 'ok');
  assert.equal(h.disk, 'ok');
  assert.equal(h.min_free_disk_mb, MIN_FREE_MB);
  assert.ok(h.disk_free_mb >= MIN_FREE_MB, JSON.stringify(h));
  const listed = async () => (await rec.handle.call({ request: 'list_appointments', from: now() - 3600, to: now() + 86400 })).appointments;
  const countBefore = (await listed()).length;

  // The timer's checkpoint empties the -wal file after the writes above
  // (health's probe is one): a truncation after the fill would free space
  // and let writes pass, so fill only once it is empty.
  await until(() => walSize() === 0, 60000, `the -wal file emptied by the timer (now ${walSize()})`);
  fillDisk();
  try {
    // The disk is below the threshold at once.
    h = await until(async () => { const x = await health(); return x.disk === 'low' ? x : null; }, 10000, 'disk low in health');
    assert.ok(h.disk_free_mb < MIN_FREE_MB);
    assert.equal(h.status, 'degraded');

    // Writes fail with internal (a commit that still fits into space the
    // WAL already holds may pass: count those).
    let created = 0, failedCreate = null;
    for (let i = 0; i < 100 && !failedCreate; i++) {
      const r = await rec.handle.request({ request: 'create_appointment', starts_at: now() + 7200 });
      if (r.ok) { created++; ctx.secret(r.code, r.code.replace(/-/g, ''), r.link); } else failedCreate = r;
    }
    assert.ok(failedCreate, 'create_appointment kept succeeding on a full disk');
    assertError(failedCreate, 'internal', 500);
    const p = await ctx.connect();
    const first = ctx.secret(uniqueName('Vol')), last = ctx.secret(uniqueName('Pla'));
    const joinBody = { request: 'join', practice: ctx.A.slug, code: appt.code, first_name: first, last_name: last, accept_terms: true };
    const j = await p.handle.request(joinBody);
    assertError(j, 'internal', 500);

    // health: the write probe fails with the SQLite error name.
    h = await health();
    assert.equal(h.status, 'degraded');
    assert.equal(h.store, 'failing', JSON.stringify(h));
    assert.equal(h.store_error, 'SQLITE_FULL');

    // Nothing changed: the appointment is still booked, no new rows.
    const rows = await listed();
    assert.equal(rows.length, countBefore + created);
    assert.equal(rows.find((a) => a.id === appt.appointment_id).status, 'booked');

    // One log line per failed request, with the error name and ids only
    // (Janus writes its log from its own thread: wait for the lines).
    const logged = (re) => until(() => re.test(ctx.janus.log()), 10000,
      `${re} in the log:\n${ctx.janus.log().split('\n').filter((l) => l.includes('[consult]')).slice(-15).join('\n')}`);
    await logged(/\[consult\] join failed: internal \(SQLITE_FULL\); anonymous handle, practice 0, visit 0, staff 0/);
    await logged(/\[consult\] create_appointment failed: internal \(SQLITE_FULL\); staff handle, practice \d+, visit 0, staff \d+/);
    await logged(/\[consult\] store error SQLITE_FULL/);

    // Recovery without a restart.
    fs.rmSync(filler);
    h = await until(async () => { const x = await health(); return x.status === 'ok' ? x : null; }, 20000, 'health ok again');
    assert.equal(h.store, 'ok');
    assert.equal(h.disk, 'ok');
    assert.equal(h.store_error, undefined);
    const j2 = assertOk(await p.handle.request(joinBody));
    assert.equal(typeof j2.visit_id, 'number');
    const again = await ctx.appointment(rec.handle, { startsAt: now() + 120 });
    assert.equal(typeof again.appointment_id, 'number');
    assert.equal((await listed()).find((a) => a.id === appt.appointment_id).status, 'waiting');
    assertOk(await p.handle.request({ request: 'leave' }));
  } finally {
    fs.rmSync(filler, { force: true });
  }
  await rec.client.close();
});
