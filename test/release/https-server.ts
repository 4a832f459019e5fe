/**
 * A real HTTPS server on loopback for the fetch tests, with a CA and a server certificate made
 * at test time by the openssl CLI, and a real HTTP CONNECT proxy. Each path prefix is one
 * behaviour of a bad (or good) server; every request is logged so tests can say what was asked.
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { execa } from 'execa';

export interface Pki {
  dir: string;
  ca: string;
  key: string;
  cert: string;
}

export async function makePki(): Promise<Pki> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-pki-'));
  const f = (n: string) => path.join(dir, n);
  const ossl = (args: string[]) => execa('openssl', args, { cwd: dir });
  await ossl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=webtree test CA',
  ]);
  await ossl([
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    f('srv.key'),
    '-out',
    f('srv.csr'),
    '-subj',
    '/CN=127.0.0.1',
  ]);
  await fs.writeFile(f('ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await ossl([
    'x509',
    '-req',
    '-in',
    f('srv.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('srv.pem'),
    '-days',
    '2',
    '-extfile',
    f('ext'),
  ]);
  return { dir, ca: f('ca.pem'), key: f('srv.key'), cert: f('srv.pem') };
}

export interface Logged {
  path: string;
  range?: string;
  auth?: string;
}

export interface ArchiveServer {
  base: string;
  log: Logged[];
  hits(prefix: string): Logged[];
  /** Answers still being written. */
  inFlight(): number;
  close(): Promise<void>;
}

/** Serve `files` (name -> bytes) from `/<behaviour>/<name>`; behaviours below. */
export async function startArchiveServer(
  pki: Pki,
  files: Record<string, Buffer>,
  auth = 'user:s3cret-pw',
): Promise<ArchiveServer> {
  const log: Logged[] = [];
  const seen = new Map<string, number>();
  let inFlight = 0;
  const sockets = new Set<Duplex>();
  const server = https.createServer(
    { key: await fs.readFile(pki.key), cert: await fs.readFile(pki.cert) },
    (req, res) => {
      const url = new URL(req.url ?? '/', 'https://x');
      const [, how, ...rest] = url.pathname.split('/');
      const name = rest.join('/');
      log.push({ path: url.pathname, range: req.headers.range, auth: req.headers.authorization });
      const n = (seen.get(url.pathname) ?? 0) + 1;
      seen.set(url.pathname, n);
      const body = files[name.replace(/^\d+\//, '')];
      const full = (b: Buffer) => {
        const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
        if (m && Number(m[1]) < b.length) {
          const start = Number(m[1]);
          res.writeHead(206, {
            'content-length': b.length - start,
            'content-range': `bytes ${start}-${b.length - 1}/${b.length}`,
          });
          res.end(b.subarray(start));
        } else {
          res.writeHead(200, { 'content-length': b.length, 'accept-ranges': 'bytes' });
          res.end(b);
        }
      };
      if (how === 'redir') {
        // /redir/N/name -> /redir/N-1/name ... -> /ok/name
        const [k, ...nm] = rest;
        const left = Number(k);
        res.writeHead(302, { location: left > 1 ? `/redir/${left - 1}/${nm.join('/')}` : `/ok/${nm.join('/')}` });
        res.end();
        return;
      }
      if (how === 'tohttp') {
        res.writeHead(301, { location: `http://127.0.0.1:9/${name}` });
        res.end();
        return;
      }
      if (!body) {
        res.writeHead(404);
        res.end('not found');
        return;
      }
      switch (how) {
        case 'ok':
          return full(body);
        case 'slow': {
          // 64 KiB every 10 ms: a download long enough to be killed in
          res.writeHead(200, { 'content-length': body.length });
          inFlight++;
          let at = 0;
          let gone = false;
          res.on('close', () => {
            gone = true;
          });
          const more = () => {
            if (gone || at >= body.length) {
              inFlight--;
              if (!gone) res.end();
              return;
            }
            res.write(body.subarray(at, at + 65536));
            at += 65536;
            setTimeout(more, 10);
          };
          more();
          return;
        }
        case 'flaky': // 500 first, then the file
          if (n === 1) {
            res.writeHead(500);
            res.end('try later');
            return;
          }
          return full(body);
        case 'drop': // the first answer stops mid-body (the connection is cut); later ones honour Range
          if (n === 1) {
            res.writeHead(200, { 'content-length': body.length });
            res.write(body.subarray(0, Math.floor(body.length / 2)), () => setTimeout(() => req.socket.destroy(), 50));
            return;
          }
          return full(body);
        case 'flip': {
          // one byte changed
          const b = Buffer.from(body);
          b[Math.floor(b.length / 2)] ^= 0x01;
          return full(b);
        }
        case 'trunc': // always says the full length, always stops short
          res.writeHead(200, { 'content-length': body.length });
          res.write(body.subarray(0, body.length - 100), () => setTimeout(() => req.socket.destroy(), 50));
          return;
        case 'short': // a clean answer with the last 100 bytes missing: only the hash can tell
          return full(body.subarray(0, body.length - 100));
        case 'stall': // headers and a little, then nothing
          res.writeHead(200, { 'content-length': body.length });
          res.write(body.subarray(0, 1000));
          return;
        case 'auth':
          if (req.headers.authorization !== `Basic ${Buffer.from(auth).toString('base64')}`) {
            res.writeHead(401, { 'www-authenticate': 'Basic realm="archives"' });
            res.end();
            return;
          }
          return full(body);
        default:
          res.writeHead(404);
          res.end();
      }
    },
  );
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `https://127.0.0.1:${port}`,
    log,
    hits: (prefix) => log.filter((l) => l.path.startsWith(prefix)),
    inFlight: () => inFlight,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A plain HTTP proxy that only tunnels (CONNECT), to loopback only. */
export async function startConnectProxy(): Promise<{ url: string; tunnels: string[]; close(): Promise<void> }> {
  const tunnels: string[] = [];
  const sockets = new Set<Duplex>();
  const server = http.createServer((_req, res) => {
    res.writeHead(405);
    res.end();
  });
  server.on('connect', (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    tunnels.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    if (host !== '127.0.0.1' && host !== 'localhost') {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const up = net.connect(Number(port), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    for (const s of [up, client]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
