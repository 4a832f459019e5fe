/**
 * Is it PostgreSQL at all? When a connection fails in a way libpq's words do not cover (a
 * timeout, an answer the client cannot parse), the operator's likeliest slip is a site file
 * naming another service's port. PostgreSQL answers an SSLRequest with one byte, 'S' or 'N',
 * at once; a web server says nothing until it sees a line end, then answers "HTTP/1.1 400".
 * So: send the SSLRequest, and if nothing comes back, a line end, and name what answered.
 */
import net from 'node:net';
import type { DbServer } from '../site/types.js';

/** The SSLRequest message: length 8, code 80877103 (PostgreSQL's protocol, "SSLRequest"). */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/** A phrase saying what answered instead of PostgreSQL, or null when it looks like PostgreSQL or said nothing. */
export function notPostgres(server: DbServer, waitMs = 1500): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: server.host, port: server.port });
    let got = Buffer.alloc(0);
    let nudged: NodeJS.Timeout | undefined;
    const done = (answer: string | null) => {
      clearTimeout(timer);
      clearTimeout(nudged);
      sock.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(judge(got)), waitMs);
    sock.on('error', () => done(judge(got)));
    sock.on('connect', () => {
      sock.write(SSL_REQUEST);
      // Half the wait for PostgreSQL's one byte; then provoke a line-based server into speaking.
      nudged = setTimeout(() => sock.write('\r\n\r\n'), waitMs / 2);
    });
    sock.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length === 1 && (got[0] === 0x53 || got[0] === 0x4e)) return done(null); // 'S' or 'N': PostgreSQL
      if (got.includes(0x0a) || got.length >= 256) done(judge(got));
    });
    sock.on('end', () => done(judge(got)));
  });
}

function judge(got: Buffer): string | null {
  if (got.length === 0) return null;
  if (got.length === 1 && (got[0] === 0x53 || got[0] === 0x4e)) return null;
  const first = got
    .toString('latin1')
    .split(/\r?\n/)[0]
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 80);
  if (/^HTTP\/\d/.test(first)) return `an HTTP server answers on that port ("${first}")`;
  return `something else answers on that port ("${first}")`;
}
