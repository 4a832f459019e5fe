// The CPU a benchmark's side used, for bench/fetch.mjs and bench/status.mjs: on a loaded host the
// wall time swings with the other load, the CPU a side needs much less, so both are reported.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;

/**
 * CPU seconds (user + system) of this process's children that have ended and been waited for,
 * from /proc/self/stat (cutime, cstime; in clock ticks, 10 ms here): the delta around a spawnSync
 * is the CPU that child used, its threads and its own waited-for children included (a server still
 * running is not in it).
 */
export function childCpu() {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / TICK; // fields 16 and 17
}
