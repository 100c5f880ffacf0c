import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SummaryRow } from './clients.js';

const dir = resolve(import.meta.dirname, '..', '..', '..', 'test-output');
const rows = resolve(dir, 'fault-summary.jsonl');

/** Global setup: starts the table empty and prints it (and writes it as Markdown) once every scenario ran. */
export default function setup() {
  rmSync(rows, { force: true });
  return () => {
    const table = existsSync(rows) ? readFileSync(rows, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as SummaryRow) : [];
    const lines = [
      '| scenario | requests sent | acknowledged | applied | lost | duplicated |',
      '|---|---|---|---|---|---|',
      ...table.map((r) => `| ${r.scenario} | ${r.sent} | ${r.acknowledged} | ${r.applied} | ${r.lost} | ${r.duplicated} |`),
    ];
    mkdirSync(dir, { recursive: true });
    writeFileSync(resolve(dir, 'fault-summary.md'), `${lines.join('\n')}\n`);
    console.log(`\nfault suite summary\n${lines.join('\n')}\n`);
  };
}
