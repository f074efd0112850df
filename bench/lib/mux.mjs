// mux.mjs - one WebSocket carrying many Janus sessions (load generator use).
//
// Contract: MuxConn opens a "janus-protocol" WebSocket and lets the caller
// create many sessions on it, attach one handle per session and send plugin
// messages. Replies are matched by transaction (a plugin `message` resolves
// on its synchronous `success`, or on the async `event` with the same
// transaction after an `ack`); every other `event` is routed by `sender`
// (handle id) to the callback given to onEvent(), stamped with
// performance.now() at receipt. Every request has a deadline (swept every
// 250 ms). Sessions are kept alive with `keepalive` when idle for 25 s, as janus.js does.
// No personal data is logged: only counters and error names.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const SWEEP_MS = 250;
const KEEPALIVE_IDLE_MS = 25000; // like janus.js (keepAlivePeriod)

export class MuxConn {
	constructor(url, name = 'mux') {
		this.url = url;
		this.name = name;
		this.ws = null;
		this.seq = 0;
		this.pending = new Map();   // transaction -> {resolve, reject, deadline, kind}
		this.handlers = new Map();  // handle id -> fn(data, tRecv, msg)
		this.sessions = new Map();  // session id -> last send (ms)
		this.unrouted = 0;          // events for handles without a handler
		this.janusOther = {};       // counts of other janus message kinds
		this.closed = false;
		this.timer = null;
	}

	open(timeoutMs = 5000) {
		return new Promise((resolve, reject) => {
			const ws = new WebSocket(this.url, 'janus-protocol', { perMessageDeflate: false });
			const t = setTimeout(() => { ws.terminate(); reject(new Error(`${this.name}: connect timeout`)); }, timeoutMs);
			ws.on('open', () => { clearTimeout(t); this.ws = ws; this._startTimer(); resolve(this); });
			ws.on('error', (e) => { clearTimeout(t); if (!this.ws) reject(e); });
			ws.on('message', (buf) => this._onMessage(buf));
			ws.on('close', () => this._onClose());
		});
	}

	_startTimer() {
		this.timer = setInterval(() => {
			const now = performance.now();
			for (const [tx, p] of this.pending) {
				if (now > p.deadline) {
					this.pending.delete(tx);
					p.reject(new Error(`${this.name}: timeout waiting for ${p.kind}`));
				}
			}
			for (const [sid, last] of this.sessions) {
				if (now - last > KEEPALIVE_IDLE_MS) {
					this.sessions.set(sid, now);
					this.request({ janus: 'keepalive', session_id: sid }, 10000).catch(() => {});
				}
			}
		}, SWEEP_MS);
		this.timer.unref();
	}

	_onClose() {
		this.closed = true;
		if (this.timer) clearInterval(this.timer);
		for (const [, p] of this.pending) p.reject(new Error(`${this.name}: connection closed`));
		this.pending.clear();
	}

	_onMessage(buf) {
		const t = performance.now();
		let msg;
		try { msg = JSON.parse(buf.toString()); } catch { this._count('bad_json'); return; }
		const kind = msg.janus;
		const p = msg.transaction !== undefined ? this.pending.get(msg.transaction) : undefined;
		if (p) {
			if (kind === 'ack' && p.kind === 'message') return; // async reply follows as event
			if (kind === 'success' || kind === 'error' || kind === 'ack' || kind === 'event') {
				this.pending.delete(msg.transaction);
				p.resolve({ msg, t });
				return;
			}
		}
		if (kind === 'event') {
			const h = this.handlers.get(msg.sender);
			const data = msg.plugindata && msg.plugindata.data;
			if (h) h(data, t, msg); else this.unrouted++;
			return;
		}
		this._count(kind);
	}

	_count(k) { this.janusOther[k] = (this.janusOther[k] || 0) + 1; }

	// Sends a Janus API request; resolves {msg, t} with the matching reply.
	request(obj, timeoutMs = 10000) {
		if (this.closed || !this.ws) return Promise.reject(new Error(`${this.name}: not open`));
		const transaction = `${this.name}-${++this.seq}`;
		obj.transaction = transaction;
		if (obj.session_id !== undefined && this.sessions.has(obj.session_id)) this.sessions.set(obj.session_id, performance.now());
		return new Promise((resolve, reject) => {
			this.pending.set(transaction, { resolve, reject, deadline: performance.now() + timeoutMs, kind: obj.janus });
			this.ws.send(JSON.stringify(obj), (err) => {
				if (err && this.pending.delete(transaction)) reject(err);
			});
		});
	}

	async createSession(timeoutMs) {
		const { msg } = await this.request({ janus: 'create' }, timeoutMs);
		if (msg.janus !== 'success') throw new Error(`${this.name}: create failed: ${msg.error && msg.error.reason}`);
		this.sessions.set(msg.data.id, performance.now());
		return msg.data.id;
	}

	async attach(sessionId, plugin, timeoutMs) {
		const { msg } = await this.request({ janus: 'attach', session_id: sessionId, plugin }, timeoutMs);
		if (msg.janus !== 'success') throw new Error(`${this.name}: attach failed: ${msg.error && msg.error.reason}`);
		return msg.data.id;
	}

	// Plugin request; resolves {data, t0, t1} (data = plugindata.data or null).
	async message(sessionId, handleId, body, timeoutMs) {
		const t0 = performance.now();
		const { msg, t } = await this.request({ janus: 'message', session_id: sessionId, handle_id: handleId, body }, timeoutMs);
		if (msg.janus === 'error') throw new Error(`${this.name}: janus error ${msg.error && msg.error.code}`);
		return { data: (msg.plugindata && msg.plugindata.data) || null, t0, t1: t };
	}

	onEvent(handleId, fn) { this.handlers.set(handleId, fn); }

	close() {
		if (this.timer) clearInterval(this.timer);
		if (this.ws && !this.closed) { try { this.ws.terminate(); } catch { /* closing anyway */ } }
		this.closed = true;
	}
}

// Runs fn(item, index) over items with at most `limit` in flight; stops
// starting new work after `deadline` (performance.now() ms). Rejects on the
// first error.
export async function pool(items, limit, fn, deadline = Infinity) {
	let next = 0;
	let failed = null;
	const worker = async () => {
		while (!failed && next < items.length) {
			if (performance.now() > deadline) { failed = new Error('phase deadline exceeded'); break; }
			const i = next++;
			try { await fn(items[i], i); } catch (e) { failed = failed || e; }
		}
	};
	const workers = [];
	for (let w = 0; w < Math.max(1, Math.min(limit, items.length)); w++) workers.push(worker());
	await Promise.all(workers);
	if (failed) throw failed;
}
