/** The password file and PGPASSWORD by libpq's rules (src/db/pgpass.ts). */
import { describe, expect, it } from 'vitest';
import { envPassword, parsePgpassLine, passwordFromPgpass, pgpassFile } from '../../src/db/pgpass.js';

const t = { host: 'server3.ctio.noao.edu', port: 5442, database: 'decam_prd', user: 'decam_reader' };

describe('libpq password rules', () => {
  it('an empty PGPASSWORD counts as unset; an empty PGPASSFILE means ~/.pgpass', () => {
    expect(envPassword({ PGPASSWORD: '' })).toBeUndefined();
    expect(envPassword({})).toBeUndefined();
    expect(envPassword({ PGPASSWORD: 's3' })).toBe('s3');
    expect(pgpassFile({ PGPASSFILE: '' }, '/home/x')).toBe('/home/x/.pgpass');
    expect(pgpassFile({ PGPASSFILE: '/etc/pg' }, '/home/x')).toBe('/etc/pg');
  });

  it('the first matching line wins; * matches any field; comments and blank lines are skipped', () => {
    const text = [
      '# comment',
      '',
      'other:5442:decam_prd:decam_reader:no',
      '*:5442:*:decam_reader:first',
      '*:*:*:*:second',
    ].join('\n');
    expect(passwordFromPgpass(text, t)).toBe('first');
    expect(passwordFromPgpass(text, { ...t, user: 'x' })).toBe('second');
    expect(passwordFromPgpass('a:1:b:c', t)).toBeUndefined(); // four fields: no password field
  });

  it('backslash escapes: \\: and \\\\ in any field, \\* a literal star, the password ends at an unescaped colon', () => {
    expect(passwordFromPgpass('server3.ctio.noao.edu:5442:decam_prd:decam_reader:pa\\:ss\\\\w:ignored', t)).toBe(
      'pa:ss\\w',
    );
    expect(passwordFromPgpass('\\*:5442:decam_prd:decam_reader:star', t)).toBeUndefined();
    expect(passwordFromPgpass('\\*:5442:decam_prd:decam_reader:star', { ...t, host: '*' })).toBe('star');
    expect(passwordFromPgpass('my\\:host:5442:decam_prd:decam_reader:p', { ...t, host: 'my:host' })).toBe('p');
    expect(parsePgpassLine('a:b:c:d:e\\')?.password).toBe('e\\');
  });

  it('CRLF lines; a socket directory or empty host is matched as localhost; an empty password is none', () => {
    expect(
      passwordFromPgpass('localhost:5442:decam_prd:decam_reader:sock\r\n', { ...t, host: '/var/run/postgresql' }),
    ).toBe('sock');
    expect(passwordFromPgpass('localhost:5442:decam_prd:decam_reader:e', { ...t, host: '' })).toBe('e');
    expect(passwordFromPgpass('*:*:*:*:', t)).toBeUndefined();
  });
});
