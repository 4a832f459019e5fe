/**
 * Mail on change, never once a minute: when the state changes (healthy -> finding, finding ->
 * healthy, a new finding) and on every auto-rollback or switch-web. Deciding is pure; sending
 * goes through nodemailer (SMTP at watch.mail.smtp, else the local sendmail).
 */
import os from 'node:os';
import type { Site } from '../site/types.js';
import { findingKey, type ChangeEntry, type CheckReport } from './report.js';

export interface Previous {
  ok: boolean;
  findings: string[];
}

export interface MailText {
  subject: string;
  text: string;
}

/** Why a mail is due (undefined: none). `events` are history entries new since the last look. */
export function mailReason(prev: Previous | undefined, r: CheckReport | undefined, events: ChangeEntry[]): string[] {
  const why: string[] = [];
  for (const e of events) {
    if (e.action === 'auto-rollback')
      why.push(
        `auto-rollback of ${e.product ?? '?'} ${e.from ?? ''} -> ${e.to ?? ''} (${e.outcome})`.replace(/ +/g, ' '),
      );
    if (e.action === 'switch-web' && e.outcome !== 'failed')
      why.push(`switch-web ${e.from ?? '?'} -> ${e.to ?? '?'} (${e.outcome})`);
  }
  if (!r) return why;
  const keys = r.findings.map(findingKey);
  if (!prev) {
    if (!r.ok) why.push('finding');
  } else if (prev.ok && !r.ok) why.push('healthy -> finding');
  else if (!prev.ok && r.ok) why.push('finding -> healthy');
  else if (!r.ok && keys.some((k) => !prev.findings.includes(k))) why.push('new finding');
  return why;
}

export function mailText(site: Site, r: CheckReport, why: string[]): MailText {
  const state = r.ok ? 'healthy' : `${r.findings.length} finding${r.findings.length === 1 ? '' : 's'}`;
  const lines = [
    `webtree on ${r.host}: ${state} (${why.join('; ')})`,
    '',
    `checked  ${r.checkedAt}`,
    `site     ${site.file}`,
    `server   ${r.active ?? '(none)'}`,
    `apache   ${r.apache.up ? 'running' : 'STOPPED'}`,
    '',
    ...(r.findings.length
      ? ['Findings:', ...r.findings.flatMap((f) => [`- ${f.thing}: ${f.problem}`, `  fix: ${f.fix}`]), '']
      : []),
    'Apps:',
    ...r.apps.map((a) => `  ${a.up ? 'ok  ' : 'FAIL'} ${a.app} ${a.url} ${a.status ?? ''} ${a.error ?? ''}`.trimEnd()),
    '',
    'Servers:',
    ...r.servers.map(
      (s) =>
        `  ${s.name} ${s.up ? (s.primary ? 'primary' : 'standby') : 'unreachable'}${s.name === r.active ? ' (active)' : ''}`,
    ),
    '',
    `Status page: ${site.watch.page}`,
  ];
  return {
    subject: `[webtree ${r.host}] ${r.ok ? 'OK' : 'PROBLEM'}: ${why.join('; ')}`,
    text: lines.join('\n') + '\n',
  };
}

export async function sendMail(site: Site, m: MailText): Promise<void> {
  const to = site.watch.mail.to;
  if (!to) return;
  const nodemailer = (await import('nodemailer')).default;
  const smtp = site.watch.mail.smtp;
  const transport = smtp
    ? nodemailer.createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: false,
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 20_000,
      })
    : nodemailer.createTransport({ sendmail: true, newline: 'unix', path: '/usr/sbin/sendmail' });
  const from = site.watch.mail.from ?? `${site.apache.user}@${os.hostname()}`;
  await transport.sendMail({ from, to, subject: m.subject, text: m.text });
}
