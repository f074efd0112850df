// mock-janus.mjs - a tiny stand-in for Janus + janus.plugin.consult, only to
// test the load generator itself (bench/load.mjs --mock), never the plugin.
//
// Contract: startMock({fanout}) starts a WebSocket server (Janus API subset:
// create, attach, message, keepalive, destroy) and an admin handler for
// add_practice, add_staff, health, stats, in this process. Requests: login,
// create_appointment, join, leave. Queues are per practice in join order;
// fanout 'changed' sends a position event only to patients whose `ahead`
// changed, fanout 'all' to every waiting patient of the practice (the O(N)
// design the benchmark must catch), fanout 'none' to nobody. Returns the
// startJanus() shape: {wsUrl, pid, admin, stop, alive, exitStatus}.
import { WebSocketServer } from 'ws';

export async function startMock({ fanout = 'changed' } = {}) {
	const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'janus-protocol' });
	await new Promise((r) => wss.once('listening', r));
	let nextId = 1000;
	const practices = new Map(); // slug -> {id, queue: [handle], staff}
	const staff = new Map();     // username -> {password, slug}
	const handles = new Map();   // id -> {ws, session, kind, slug, ahead, seq}
	const appts = new Map();     // code -> {slug, used}
	let seq = 0;

	const send = (ws, obj) => ws.send(JSON.stringify(obj));
	const event = (h, data) => send(h.ws, { janus: 'event', session_id: h.session, sender: h.id, plugindata: { plugin: 'janus.plugin.consult', data: { consult: 'event', ...data } } });
	const positions = (pr) => {
		pr.queue.forEach((h, idx) => {
			if (fanout === 'none') return;
			if (fanout === 'all' || h.ahead !== idx) { h.ahead = idx; event(h, { event: 'position', ahead: idx, seq: ++seq }); }
		});
	};
	const ok = (req, extra = {}) => ({ consult: req, ok: true, ...extra });
	const err = (req, name) => ({ consult: req, ok: false, error_code: 412, error: name, reason: name });

	function plugin(h, body) {
		const r = body.request;
		if (r === 'login') {
			const s = staff.get(body.username);
			if (!s || s.password !== body.password) return err(r, 'login_failed');
			h.kind = 'staff'; h.slug = s.slug;
			return ok(r, { staff_id: 1, role: 'reception' });
		}
		if (r === 'create_appointment') {
			if (h.kind !== 'staff') return err(r, 'not_authenticated');
			const code = `C${++nextId}`;
			appts.set(code, { slug: h.slug, used: false });
			return ok(r, { appointment_id: nextId, code, starts_at: body.starts_at });
		}
		if (r === 'join') {
			const a = appts.get(body.code);
			if (h.kind || !a || a.slug !== body.practice || a.used) return err(r, 'code_invalid');
			a.used = true;
			const pr = practices.get(a.slug);
			h.kind = 'patient'; h.slug = a.slug; h.ahead = pr.queue.length;
			pr.queue.push(h);
			return ok(r, { visit_id: ++nextId, ahead: h.ahead, seq: ++seq, resumed: false });
		}
		if (r === 'leave') {
			if (h.kind !== 'patient') return err(r, 'wrong_state');
			const pr = practices.get(h.slug);
			const i = pr.queue.indexOf(h);
			if (i >= 0) pr.queue.splice(i, 1);
			h.kind = 'gone';
			setImmediate(() => positions(pr));
			return ok(r);
		}
		return err(r, 'unknown_request');
	}

	wss.on('connection', (ws) => {
		ws.on('message', (buf) => {
			const m = JSON.parse(buf.toString());
			const tx = m.transaction;
			if (m.janus === 'create') return send(ws, { janus: 'success', transaction: tx, data: { id: ++nextId } });
			if (m.janus === 'attach') { const id = ++nextId; handles.set(id, { id, ws, session: m.session_id }); return send(ws, { janus: 'success', transaction: tx, session_id: m.session_id, data: { id } }); }
			if (m.janus === 'keepalive') return send(ws, { janus: 'ack', transaction: tx, session_id: m.session_id });
			if (m.janus === 'message') {
				const h = handles.get(m.handle_id);
				if (!h) return send(ws, { janus: 'error', transaction: tx, error: { code: 459, reason: 'no such handle' } });
				return send(ws, { janus: 'success', transaction: tx, session_id: m.session_id, sender: h.id, plugindata: { plugin: 'janus.plugin.consult', data: plugin(h, m.body) } });
			}
			return send(ws, { janus: 'error', transaction: tx, error: { code: 453, reason: 'unsupported in mock' } });
		});
	});

	async function admin(req) {
		if (req.request === 'add_practice') { practices.set(req.slug, { id: ++nextId, queue: [] }); return { consult: 'add_practice', ok: true, practice_id: nextId }; }
		if (req.request === 'add_staff') { staff.set(req.username, { password: req.password, slug: req.practice }); return { consult: 'add_staff', ok: true, staff_id: ++nextId }; }
		if (req.request === 'health') return { consult: 'health', ok: true, status: 'ok', version: `mock-${fanout}` };
		if (req.request === 'stats') return { consult: 'stats', ok: true, practices: [...practices].map(([slug, p]) => ({ slug, waiting: p.queue.length })) };
		return { consult: req.request, ok: false, error: 'unknown_request' };
	}

	let exited = null;
	return {
		wsUrl: `ws://127.0.0.1:${wss.address().port}`,
		pid: process.pid,
		admin,
		alive: () => !exited,
		exitStatus: () => exited,
		stop: async () => {
			if (exited) return exited;
			for (const c of wss.clients) c.terminate();
			await new Promise((r) => wss.close(r));
			exited = { code: 0, signal: null };
			return exited;
		},
	};
}
