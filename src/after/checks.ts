/**
 * Every kind of check that follows a change, in one static table: the command that finds an
 * interrupted apply in the journal runs its check from here, whichever command made it. The
 * compiler holds this table and the kinds (AfterKind) together: a kind without code, or code
 * without a kind, does not build.
 */
import { resumeApplyRestore, resumeApplyServe } from './apply-serve.js';
import type { AfterHook, AfterKind } from './context.js';
import { resumeRepair } from './repair.js';
import { resumeRender, resumeRenderRestore } from './render.js';
import { resumeServeActivation, resumeServeRestore } from './serve-activation.js';
import { resumeSwitch, resumeSwitchRestore } from './switch-web.js';

export const AFTER_CHECKS: Readonly<Record<AfterKind, AfterHook>> = {
  'serve-activation': resumeServeActivation,
  'serve-restore': resumeServeRestore,
  render: resumeRender,
  'render-restore': resumeRenderRestore,
  'switch-web': resumeSwitch,
  'switch-restore': resumeSwitchRestore,
  'apply-serve': resumeApplyServe,
  'apply-restore': resumeApplyRestore,
  repair: resumeRepair,
};

/** The check of a kind read from a journal; undefined for a kind this webtree does not know. */
export const afterCheck = (kind: string): AfterHook | undefined =>
  Object.hasOwn(AFTER_CHECKS, kind) ? AFTER_CHECKS[kind as AfterKind] : undefined;
