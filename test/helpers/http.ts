/** HTTP for the end-to-end tests: one GET, and a bounded request loop that counts failures. */
export { freePort } from '../../src/core/net.js';

export async function get(url: string): Promise<{ status: number; body: string }> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    return { status: r.status, body: (await r.text()).trim() };
  } catch (err) {
    return { status: 0, body: String((err as Error).cause ?? err) };
  }
}

export interface LoopResult {
  requests: number;
  failed: number;
  /** Distinct bodies seen, in order of first appearance. */
  bodies: string[];
  failures: string[];
}

/** `workers` clients GET url back to back until stopped; every non-200 answer or error is a failure. */
export function requestLoop(url: string, workers = 4): { stop(): Promise<LoopResult> } {
  const res: LoopResult = { requests: 0, failed: 0, bodies: [], failures: [] };
  let running = true;
  const worker = async () => {
    while (running) {
      const r = await get(url);
      res.requests++;
      if (r.status !== 200) {
        res.failed++;
        if (res.failures.length < 5) res.failures.push(`${r.status} ${r.body.slice(0, 200)}`);
      } else if (!res.bodies.includes(r.body)) res.bodies.push(r.body);
    }
  };
  const all = Promise.all(Array.from({ length: workers }, worker));
  return {
    async stop() {
      running = false;
      await all;
      return res;
    },
  };
}
