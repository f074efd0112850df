// instances.mjs - the two-instance samples made runnable on loopback (not a
// test file): conf/nginx-consult-upstreams.conf, conf/nginx-consult-
// instances.conf and conf/janus.plugin.consult.jcfg.instance-{a,b}.sample.
//
// Contract:
//   pluginSamples() -> {a: {key: value}, b: {...}}: the `general` keys of
//     the two plugin samples (strings unquoted, numbers as numbers).
//   nginxForInstances(ports) -> {httpDirectives, janusLocations} for
//     scripts/lib/nginx.mjs startNginx: the samples with only the instance
//     addresses changed (each `server ADDR ...; # CHANGE: instance NAME`
//     line gets 127.0.0.1:ports[NAME]; every NAME must be given, every
//     sample line must match, or it throws), preceded by what they take
//     from the site file conf/nginx-consult.conf (the consult_ws limit zones
//     and the $consult_connection_upgrade map, copied from it).
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from '../../scripts/lib/janus.mjs';

const read = (f) => fs.readFileSync(path.join(REPO, 'conf', f), 'utf8');

function jcfgGeneral(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z_]+)\s*=\s*("(?:[^"\\]|\\.)*"|-?\d+|true|false)\s*$/.exec(line);
    if (!m) continue;
    const v = m[2];
    out[m[1]] = v.startsWith('"') ? JSON.parse(v) : v === 'true' ? true : v === 'false' ? false : Number(v);
  }
  return out;
}

export function pluginSamples() {
  return {
    a: jcfgGeneral(read('janus.plugin.consult.jcfg.instance-a.sample')),
    b: jcfgGeneral(read('janus.plugin.consult.jcfg.instance-b.sample')),
  };
}

export function nginxForInstances(ports) {
  const site = read('nginx-consult.conf');
  const pick = (re, what) => {
    const m = re.exec(site);
    if (!m) throw new Error(`instances.mjs: ${what} not found in conf/nginx-consult.conf`);
    return m[0];
  };
  const fromSite = [
    pick(/^limit_req_zone .*zone=consult_ws:.*;$/m, 'limit_req_zone consult_ws'),
    pick(/^limit_conn_zone .*zone=consult_ws_conn:.*;$/m, 'limit_conn_zone consult_ws_conn'),
    pick(/^map \$http_upgrade \$consult_connection_upgrade \{[^}]*\}/m, 'map $consult_connection_upgrade'),
  ].join('\n');
  const seen = new Set();
  const upstreams = read('nginx-consult-upstreams.conf').replace(
    /^(\s*server\s+)(\S+)([^;\n]*;\s*#\s*CHANGE: instance )(\S+)\s*$/gm,
    (all, head, addr, mid, name) => {
      if (!ports[name]) throw new Error(`instances.mjs: no port for instance ${name}`);
      seen.add(name);
      return `${head}127.0.0.1:${ports[name]}${mid}${name}`;
    });
  for (const line of upstreams.split('\n')) {
    if (/^\s*server\s/.test(line) && !/127\.0\.0\.1:\d+/.test(line)) throw new Error(`instances.mjs: not rewritten: ${line}`);
  }
  for (const name of Object.keys(ports)) {
    if (!seen.has(name)) throw new Error(`instances.mjs: instance ${name} not in conf/nginx-consult-upstreams.conf`);
  }
  return { httpDirectives: `${fromSite}\n${upstreams}`, janusLocations: read('nginx-consult-instances.conf') };
}
