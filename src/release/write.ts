/**
 * The release file of a site as it runs: for each product with an active version, that version,
 * where its archive came from and its sha256, as recorded when it was installed. Pure.
 */
import type { ProductDescriptor } from '../catalog/types.js';
import type { HistoryEntry } from '../state/history.js';
import type { TreeState } from '../state/tree.js';

export interface RunningProduct {
  name: string;
  version: string;
  /** undefined: not recorded (installed before webtree recorded sources, or adopted). */
  archive?: string;
  sha256?: string;
  /** ChartDirector: the licence file the active version was installed with, when recorded. */
  license?: string;
}

/** The source recorded by the last install of product/version that went live or was finished. */
export function recordedSource(history: HistoryEntry[], product: string, version: string): string | undefined {
  for (let i = history.length - 1; i >= 0; i--) {
    const e = history[i];
    if (
      e.action === 'install' &&
      e.product === product &&
      e.version === version &&
      e.source &&
      (e.outcome === 'ok' || e.outcome === 'recovered')
    )
      return e.source;
  }
  return undefined;
}

/**
 * The licence file the active version holds came from: its own install's `license`, else (carried
 * over from the version before) the last install of the product before it that named one.
 */
export function recordedLicense(history: HistoryEntry[], product: string, version: string): string | undefined {
  const ok = (e: HistoryEntry) =>
    e.action === 'install' && e.product === product && (e.outcome === 'ok' || e.outcome === 'recovered');
  let i = history.length - 1;
  while (i >= 0 && !(ok(history[i]) && history[i].version === version)) i--;
  for (; i >= 0; i--) if (ok(history[i]) && history[i].license) return history[i].license;
  return undefined;
}

export function runningRelease(catalog: ProductDescriptor[], tree: TreeState): RunningProduct[] {
  const out: RunningProduct[] = [];
  for (const d of catalog) {
    const st = tree.products[d.name];
    if (!st?.current || !st.versions.includes(st.current)) continue;
    const sha = st.sha256[st.current];
    out.push({
      name: d.name,
      version: st.current,
      archive: recordedSource(tree.history, d.name, st.current),
      sha256: sha && /^[0-9a-f]{64}$/.test(sha) ? sha : undefined,
    });
    const license = d.license && st.licensed ? recordedLicense(tree.history, d.name, st.current) : undefined;
    if (license) out[out.length - 1].license = license;
  }
  return out;
}

/** YAML text in the release file's own form; what is not known is left out and said in a comment (apply then names it). */
export function releaseText(products: RunningProduct[], header: string[]): string {
  const lines = header.map((h) => `# ${h}`);
  lines.push('products:');
  for (const p of products) {
    const missing = [p.archive === undefined ? 'archive' : '', p.sha256 === undefined ? 'sha256' : ''].filter(Boolean);
    if (missing.length)
      lines.push(
        `  # ${p.name} ${p.version}: no ${missing.join(' and no ')} recorded (installed before webtree recorded them, or adopted): fill in`,
      );
    const fields = [`version: ${JSON.stringify(p.version)}`];
    if (p.archive !== undefined) fields.push(`archive: ${JSON.stringify(p.archive)}`);
    if (p.sha256 !== undefined) fields.push(`sha256: ${JSON.stringify(p.sha256)}`);
    if (p.license !== undefined) fields.push(`license: ${JSON.stringify(p.license)}`);
    lines.push(`  ${p.name}: { ${fields.join(', ')} }`);
  }
  if (products.length === 0) lines[lines.length - 1] = 'products: {}';
  return `${lines.join('\n')}\n`;
}
