#!/usr/bin/env node
// The loopback HTTPS file server of bench/fetch.mjs, in its own process (the bench's own process
// blocks in spawnSync while the two sides fetch). Serves DIR with Range support; prints its port.
// Usage: node bench/fetch-server.mjs DIR KEY CERT
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';

const [dir, key, cert] = process.argv.slice(2);
const server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
  const file = path.join(dir, path.basename(decodeURIComponent(new URL(req.url, 'https://x').pathname)));
  let st;
  try {
    st = fs.statSync(file);
  } catch {
    res.writeHead(404);
    res.end();
    return;
  }
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = m ? Number(m[1]) : 0;
  res.writeHead(m ? 206 : 200, {
    'content-length': st.size - start,
    ...(m ? { 'content-range': `bytes ${start}-${st.size - 1}/${st.size}` } : {}),
  });
  fs.createReadStream(file, { start, highWaterMark: 1 << 20 }).pipe(res);
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.on('SIGTERM', () => process.exit(0));
