import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { quantile } from '../stats/service.js';

/** Where `npm run bench` keeps its figures: one section per benchmark, replaced on each run. */
// Three levels under the repository, from bridge/src/bench and bridge/bench-dist/bench alike.
export const BENCHMARKS_MD = resolve(import.meta.dirname, '..', '..', '..', 'docs', 'benchmarks.md');

/** The machine, and how busy it was: the figures are only comparable within one run. */
export const machine = () =>
  `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`;

/** The q-quantile (0..1) of unsorted `values`, nearest rank. */
export const quantileOf = (values: readonly number[], q: number): number => quantile([...values].sort((a, b) => a - b), q) ?? Number.NaN;

/** p50 and p90 (or other quantiles) of millisecond figures, for a table cell. */
export const percentiles = (values: readonly number[], qs: readonly number[] = [0.5, 0.9]) =>
  qs.map((q) => `p${Math.round(q * 100)} ${Math.round(quantileOf(values, q)).toLocaleString('en-US')} ms`).join(', ');

/** Replaces (or appends) the section `name` of docs/benchmarks.md with `body`, stamped with the machine, date and command. */
export function writeSection(name: string, title: string, command: string, body: string): void {
  let doc: string;
  try {
    doc = readFileSync(BENCHMARKS_MD, 'utf8');
  } catch {
    doc = '# Benchmarks\n\nWritten by `npm run bench` (figures only; nothing is asserted on time). Each section says where and when it ran.\n';
  }
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const section = `${start}\n## ${title}\n\n${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · ${machine()} · \`${command}\`\n\n${body.trim()}\n${end}`;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  doc = from >= 0 && to > from ? doc.slice(0, from) + section + doc.slice(to + end.length) : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(BENCHMARKS_MD, doc);
}
