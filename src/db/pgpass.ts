/**
 * The password for a connection, by libpq's rules (PostgreSQL's fe-connect.c), so that webtree
 * finds what psql finds and nothing else:
 * - PGPASSWORD, when set and not empty; an empty one counts as unset.
 * - else the password file: PGPASSFILE when set and not empty, else ~/.pgpass. A file that is not
 *   a plain file, or that group or others may access at all, is ignored (libpq warns, so do we).
 * - each line host:port:database:username:password; `#` lines and blank lines skipped; a field
 *   that is exactly `*` (unescaped) matches anything; `\` escapes the next character (`\:`,
 *   `\\`, `\*` a literal star); the password ends at the first unescaped `:`; the first match wins.
 * - a socket directory or an empty host is matched as `localhost`.
 * - an empty password found is no password.
 * Pure apart from the reader passed in.
 */

export interface PgTarget {
  host: string;
  port: number;
  database: string;
  user: string;
}

interface Field {
  text: string;
  /** The field was exactly an unescaped `*`. */
  any: boolean;
}

/** The first four fields and the password of one line, or undefined for a line with fewer fields. */
export function parsePgpassLine(line: string): { fields: Field[]; password: string } | undefined {
  const fields: Field[] = [];
  let cur = '';
  let escaped = false;
  let i = 0;
  for (; i < line.length && fields.length < 4; i++) {
    const c = line[i];
    if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      escaped = true;
    } else if (c === ':') {
      fields.push({ text: cur, any: cur === '*' && !escaped });
      cur = '';
      escaped = false;
    } else cur += c;
  }
  if (fields.length < 4) return undefined;
  let password = '';
  for (; i < line.length; i++) {
    const c = line[i];
    if (c === ':') break;
    if (c === '\\' && i + 1 < line.length) password += line[++i];
    else password += c;
  }
  return { fields, password };
}

/** The password the text of a pgpass file gives for target, or undefined. */
export function passwordFromPgpass(text: string, t: PgTarget): string | undefined {
  const host = t.host === '' || t.host.startsWith('/') ? 'localhost' : t.host;
  const want = [host, String(t.port || 5432), t.database, t.user];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const parsed = parsePgpassLine(line);
    if (!parsed) continue;
    if (parsed.fields.every((f, i) => f.any || f.text === want[i]))
      return parsed.password === '' ? undefined : parsed.password;
  }
  return undefined;
}

/** Which file libpq would read: PGPASSFILE unless unset or empty, else ~/.pgpass. */
export const pgpassFile = (env: NodeJS.ProcessEnv, home: string) =>
  env.PGPASSFILE ? env.PGPASSFILE : `${home}/.pgpass`;

/** PGPASSWORD as libpq takes it: empty is unset. */
export const envPassword = (env: NodeJS.ProcessEnv) => (env.PGPASSWORD ? env.PGPASSWORD : undefined);
