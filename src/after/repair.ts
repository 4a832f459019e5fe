/**
 * repair's check once the consumers are back through <switch>/active: restart the apps and check
 * them. The next command runs it again (from the journal) when repair died before it finished.
 */
import { restartAndCheck } from '../failover/restart.js';
import type { AfterHook } from './context.js';

/** A repair killed before its restart: the next command restarts and checks the apps. */
export const resumeRepair: AfterHook = async (ctx, { site, catalog }) => {
  ctx.reporter.warn(`after repair: ${(await restartAndCheck(site, catalog)).report}`);
};
