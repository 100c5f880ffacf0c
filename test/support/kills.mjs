// Components a test killed on purpose (decision-core kills the api-server): kept beside the dev stack's
// restarts.json, so the suite's report tells a deliberate kill from a crash. Plain JS: run-all.mjs reads it too.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** The kills file beside a stack's restarts.json. */
export const killsFile = (restartsFile) => resolve(dirname(restartsFile), 'kills.json');

/** Records that `component` is being killed on purpose now. */
export function recordKill(home, component) {
  const file = resolve(home, 'kills.json');
  const kills = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : [];
  writeFileSync(file, `${JSON.stringify([...kills, { component, at: new Date().toISOString() }], null, 2)}\n`);
}

/**
 * Splits restarts.json's entries into crashes and deliberate kills: each kill accounts for the first later exit of
 * its component.
 */
export function classifyRestarts(restarts, kills) {
  const unmatched = [...kills];
  const crashes = [];
  const killed = [];
  for (const r of restarts) {
    const i = unmatched.findIndex((k) => k.component === r.component && Date.parse(k.at) <= Date.parse(r.at) + 1000);
    if (i >= 0) {
      killed.push(r);
      unmatched.splice(i, 1);
    } else crashes.push(r);
  }
  return { crashes, killed };
}
