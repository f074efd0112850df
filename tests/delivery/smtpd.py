#!/usr/bin/python3
"""smtpd.py - a scriptable SMTP server on loopback for the delivery tests.

Contract: listens on 127.0.0.1:<port> (0 = any free port) and prints
"READY <port>" on stdout once it accepts connections. Each accepted message
is written to <dir>/<n>.eml (the bytes after DATA, dot-unstuffed) with a
<n>.json beside it ({"mail_from","rcpt_tos","auth_user"}); both appear
atomically (written to a temporary name, then renamed). The behaviour for
the next connection/command is read from <dir>/mode when that file exists,
else from --mode:
  accept    250 for everything
  451 / 550 refuse RCPT TO with 451 4.3.0 (temporary) / 550 5.1.1 (permanent)
  data451 / data550   accept the data, then refuse it with 451 / 550
  hang      accept the TCP connection and never say anything
  drop      answer DATA with 354, read a little of the message, close
  hold      accept everything, but a message to an address that starts
            with "hold-" is answered only once the mode is no longer
            "hold" (a sender stuck mid-send); each such message first
            leaves <dir>/held-<k>.json ({"rcpt_tos"}), k = 1, 2, ... in
            the order they arrived (one per attempt that reached the end
            of DATA)
--user/--password require AUTH (PLAIN or LOGIN, without TLS too);
--cert/--key offer STARTTLS (with --require-starttls: mandatory) or, with
--implicit-tls, speak TLS from the first byte (smtps). Stops on SIGTERM.
Only loopback; python3-aiosmtpd (Debian) and the standard library.
"""
import argparse
import asyncio
import json
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def parse():
    p = argparse.ArgumentParser()
    p.add_argument('--port', type=int, default=0)
    p.add_argument('--dir', required=True)
    p.add_argument('--mode', default='accept')
    p.add_argument('--user')
    p.add_argument('--password')
    p.add_argument('--cert')
    p.add_argument('--key')
    p.add_argument('--require-starttls', action='store_true')
    p.add_argument('--implicit-tls', action='store_true')
    return p.parse_args()


OPTS = parse()
COUNTER = [0]
HELD = [0]


def mode():
    try:
        with open(os.path.join(OPTS.dir, 'mode'), encoding='ascii') as f:
            m = f.read().strip()
            if m:
                return m
    except FileNotFoundError:
        pass
    return OPTS.mode


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        m = mode()
        if m == '451':
            return '451 4.3.0 Temporary failure, please try again later'
        if m == '550':
            return '550 5.1.1 Mailbox unavailable'
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        m = mode()
        if m == 'data451':
            return '451 4.7.1 Try again later'
        if m == 'data550':
            return '550 5.7.1 Message rejected'
        if m == 'hold' and any(a.lower().startswith('hold-') for a in envelope.rcpt_tos):
            HELD[0] += 1
            held = os.path.join(OPTS.dir, 'held-%d.json' % HELD[0])
            with open(held + '.tmp', 'w', encoding='utf-8') as f:
                json.dump({'rcpt_tos': envelope.rcpt_tos}, f)
            os.rename(held + '.tmp', held)
            while mode() == 'hold':
                await asyncio.sleep(0.05)
        COUNTER[0] += 1
        n = COUNTER[0]
        base = os.path.join(OPTS.dir, '%d' % n)
        meta = {
            'mail_from': envelope.mail_from,
            'rcpt_tos': envelope.rcpt_tos,
            'auth_user': (session.auth_data.login.decode()
                          if isinstance(session.auth_data, LoginPassword) else None),
            'tls': session.ssl is not None,
        }
        with open(base + '.eml.tmp', 'wb') as f:
            f.write(envelope.original_content)
        with open(base + '.json.tmp', 'w', encoding='utf-8') as f:
            json.dump(meta, f)
        os.rename(base + '.json.tmp', base + '.json')
        os.rename(base + '.eml.tmp', base + '.eml')
        return '250 2.0.0 OK queued as %d' % n


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword)
          and auth_data.login == OPTS.user.encode()
          and auth_data.password == OPTS.password.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


class ScriptedSMTP(SMTP):
    async def smtp_DATA(self, arg):
        if mode() == 'drop' and self.envelope.rcpt_tos:
            await self.push('354 End data with <CR><LF>.<CR><LF>')
            try:
                await asyncio.wait_for(self._reader.read(64), 5)
            except Exception:
                pass
            self.transport.close()
            return
        return await super().smtp_DATA(arg)


class Hang(asyncio.Protocol):
    """Holds the connection open and never answers."""
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        pass


def tls_context():
    if not OPTS.cert:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(OPTS.cert, OPTS.key)
    return ctx


def factory():
    if mode() == 'hang':
        return Hang()
    kw = {}
    ctx = tls_context()
    if ctx and not OPTS.implicit_tls:
        kw['tls_context'] = ctx
        kw['require_starttls'] = OPTS.require_starttls
    if OPTS.user:
        kw['authenticator'] = authenticator
        kw['auth_required'] = True
        kw['auth_require_tls'] = False
    return ScriptedSMTP(Handler(), hostname='smtp.consult.test', timeout=30, **kw)


async def main():
    os.makedirs(OPTS.dir, exist_ok=True)
    loop = asyncio.get_running_loop()
    ssl_ctx = tls_context() if OPTS.implicit_tls else None
    server = await loop.create_server(factory, '127.0.0.1', OPTS.port, ssl=ssl_ctx)
    port = server.sockets[0].getsockname()[1]
    print('READY %d' % port, flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()


if __name__ == '__main__':
    import logging
    logging.basicConfig(level=logging.CRITICAL)
    asyncio.run(main())
    sys.exit(0)
