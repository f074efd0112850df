// sample.mjs - run Debian's nginx with the server blocks of the production
// sample conf/nginx-consult.conf on 127.0.0.1 (not a test file).
//
// Contract: startSampleNginx({janusPort}) copies the sample with only what a
// test machine needs changed (each rewrite must match, or it throws): the
// listen directives move to free ports on 127.0.0.1 (IPv6 listens dropped),
// certificate paths point to a throw-away self-signed certificate for the
// sample's server name, logs go to a temp folder, the pages and legal texts
// come from the repository, and /janus proxies to 127.0.0.1:<janusPort>.
// Everything else (limits, redirect, headers) is the sample's. Resolves once
// both ports accept connections with {httpPort, httpsPort, serverName, dir,
// stop()}; stop() ends nginx and removes the folder.
// sampleLimits() reads the rate limits from the sample: {zones: {name:
// {rate}}, req: {zone: {burst, nodelay}}, conn: {zone: limit}}.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, canConnect, freePort, sleep, withParentDeath } from '../../scripts/lib/janus.mjs';

// CONSULT_NGINX_CONF: another site file to run instead (used to prove that
// the tests fail on a broken sample).
export const SAMPLE = process.env.CONSULT_NGINX_CONF || path.join(REPO, 'conf/nginx-consult.conf');
const NGINX_BIN = '/usr/sbin/nginx';

export function sampleText() {
  return fs.readFileSync(SAMPLE, 'utf8');
}

/** The sample's (first) server_name: the public host name. */
export function sampleServerName() {
  const m = /^\s*server_name\s+([^\s;]+)\s*;/m.exec(sampleText());
  if (!m) throw new Error('no server_name in the sample');
  return m[1];
}

/** Rate limits configured in the sample (comments ignored). */
export function sampleLimits() {
  const text = sampleText().split('\n').map((l) => l.replace(/#.*/, '')).join('\n');
  const zones = {};
  for (const m of text.matchAll(/limit_req_zone\s+\S+\s+zone=(\w+):\S+\s+rate=(\d+)r\/s\s*;/g)) {
    zones[m[1]] = { rate: Number(m[2]) };
  }
  const req = {};
  for (const m of text.matchAll(/limit_req\s+zone=(\w+)\s+burst=(\d+)(\s+nodelay)?\s*;/g)) {
    req[m[1]] = { burst: Number(m[2]), nodelay: Boolean(m[3]) };
  }
  const conn = {};
  for (const m of text.matchAll(/limit_conn\s+(\w+)\s+(\d+)\s*;/g)) conn[m[1]] = Number(m[2]);
  return { zones, req, conn };
}

function rewrite(text, re, to) {
  const n = (text.match(new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g')) || []).length;
  if (n === 0) throw new Error(`sample.mjs: ${re} not found in conf/nginx-consult.conf`);
  return text.replace(new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g'), to);
}

export async function startSampleNginx({ janusPort } = {}) {
  if (!janusPort) throw new Error('startSampleNginx: janusPort is required');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-nginx-sample-'));
  const serverName = sampleServerName();
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
    '-subj', `/CN=${serverName}`, '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')],
  { stdio: 'ignore' });
  const httpPort = await freePort();
  const httpsPort = await freePort();
  let site = sampleText();
  site = rewrite(site, /^\s*listen \[::\]:\d+.*$/m, '');
  site = rewrite(site, /listen 80;/, `listen 127.0.0.1:${httpPort};`);
  site = rewrite(site, /listen 443 ssl http2;/, `listen 127.0.0.1:${httpsPort} ssl http2;`);
  site = rewrite(site, /\/etc\/ssl\/consult\/fullchain\.pem/, path.join(dir, 'cert.pem'));
  site = rewrite(site, /\/etc\/ssl\/consult\/privkey\.pem/, path.join(dir, 'key.pem'));
  site = rewrite(site, /\/var\/log\/nginx\//, `${dir}/`);
  site = rewrite(site, /root \/usr\/share\/consult\/html;/, `root ${path.join(REPO, 'html')};`);
  site = rewrite(site, /alias \/usr\/share\/consult\/legal\/;/, `alias ${path.join(REPO, 'conf/legal')}/;`);
  site = rewrite(site, /proxy_pass http:\/\/127\.0\.0\.1:8188;/, `proxy_pass http://127.0.0.1:${janusPort};`);
  fs.writeFileSync(path.join(dir, 'site.conf'), site);
  for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) fs.mkdirSync(path.join(dir, sub));
  const errorLog = path.join(dir, 'error.log');
  fs.writeFileSync(path.join(dir, 'nginx.conf'), `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${errorLog} warn;
events { worker_connections 4096; }
http {
  client_body_temp_path ${dir}/client_body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  include ${dir}/site.conf;
}
`);
  const [cmd, args] = withParentDeath([NGINX_BIN, '-c', path.join(dir, 'nginx.conf'), '-p', dir, '-e', errorLog]);
  const child = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  let exited = null;
  const exitPromise = new Promise((resolve) => child.once('exit', (code, signal) => { exited = { code, signal }; resolve(exited); }));
  const onExit = () => { try { child.kill('SIGKILL'); } catch { /* gone */ } };
  process.on('exit', onExit);
  const readErr = () => { try { return fs.readFileSync(errorLog, 'utf8'); } catch { return ''; } };
  const deadline = Date.now() + 15000;
  for (;;) {
    if (exited) throw new Error(`nginx exited ${JSON.stringify(exited)}: ${stderr}\n${readErr()}`);
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`nginx did not listen: ${stderr}\n${readErr()}`); }
    if (await canConnect(httpPort) && await canConnect(httpsPort)) break;
    await sleep(50);
  }
  return {
    httpPort, httpsPort, serverName, dir, pid: child.pid,
    errorLog: readErr,
    async stop() {
      if (!exited) {
        child.kill('SIGQUIT');
        const t = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 5000);
        await exitPromise;
        clearTimeout(t);
      }
      process.off('exit', onExit);
      if (process.env.CONSULT_KEEP_TMP !== '1') fs.rmSync(dir, { recursive: true, force: true });
      return exited;
    },
  };
}
