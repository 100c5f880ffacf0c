// Benchmark (not a test): votes over HTTP from many concurrent clients, each on its own pending approval, on an
// SQLite file and on PostgreSQL. Prints figures and writes them to docs/benchmarks.md; asserts nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Db, createDb, migrate } from '../store/db.js';
import { postgres } from '../testing/databases.js';
import { tokenFor } from '../testing/fake-airflow.js';
import { ANYONE_ELSE, buildBridge, policiesWith } from '../testing/harness.js';
import { percentiles, writeSection } from './report.js';

const APPROVALS = Number(process.env.BENCH_VOTE_APPROVALS ?? 3000);
const CLIENTS = Number(process.env.BENCH_VOTE_CLIENTS ?? 50);
const VOTERS = 100;

interface IntakeFigures {
  label: string;
  votesPerSecond: number;
  latencies: number[];
  errors: number;
}

/** Sends one vote per approval from `CLIENTS` concurrent keep-alive clients; returns throughput and latencies. */
async function voteStorm(label: string, url: (id: string) => string, ids: readonly string[], headers: (i: number) => Record<string, string>, body: string): Promise<IntakeFigures> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const client = async () => {
    while (next < ids.length) {
      const i = next++;
      const t = performance.now();
      const status = await fetch(url(ids[i]!), { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers(i) }, body }).then(
        async (res) => (await res.arrayBuffer(), res.status),
        () => 0,
      );
      latencies.push(performance.now() - t);
      if (status !== 200) errors++;
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return { label, votesPerSecond: ids.length / ((performance.now() - started) / 1000), latencies, errors };
}

async function intake(label: string, open: () => Promise<{ db: Db; drop: () => Promise<void> }>): Promise<IntakeFigures> {
  const { db, drop } = await open();
  // One vote decides (any one user): each vote commits its decision, its effects and three audit entries.
  const bridge = buildBridge(db, policiesWith(ANYONE_ELSE), () => new Date(), null, 1_000_000_000);
  const ids: string[] = [];
  for (let i = 0; i < APPROVALS; i++) {
    const approval = await bridge.service.register(
      { dag_id: `dag_${i % 50}`, run_id: `run_${i}`, task_id: 'gate', map_index: -1, try_number: 1, subject: `Approval ${i}`, body: null, options: ['Approve', 'Reject'], params: {}, created_at: new Date(Date.UTC(2026, 10, 1) + i * 1000).toISOString(), requester: 'requester', tags: [], values: {} },
      'bench',
    );
    ids.push(approval.id);
  }
  const tokens = await Promise.all(Array.from({ length: VOTERS }, (_, i) => tokenFor(`voter${i}`)));
  const server = bridge.app.listen(Number(process.env.BENCH_VOTE_PORT ?? 0), '127.0.0.1');
  // Longer than any vote takes: a client never reuses a connection the server is closing.
  server.keepAliveTimeout = 60_000;
  await new Promise((ready) => server.once('listening', ready));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    return await voteStorm(label, (id) => `${base}/api/v1/approvals/${id}/votes`, ids, (i) => ({ Authorization: `Bearer ${tokens[i % VOTERS]}` }), JSON.stringify({ option: 'Approve', reason: 'bench' }));
  } finally {
    server.close();
    await drop();
  }
}

const intakeRow = (f: IntakeFigures) =>
  `| ${f.label} | ${Math.round(f.votesPerSecond).toLocaleString('en-US')} | ${percentiles(f.latencies, [0.5, 0.99])} | ${f.errors} |`;

const figures = [
  await intake('bridge, SQLite file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airgate-bench-'));
    const db = createDb({ sqliteFile: join(dir, 'bench.sqlite') });
    await migrate(db);
    return { db, drop: async () => (await db.destroy(), rmSync(dir, { recursive: true, force: true })) };
  }),
  await intake('bridge, PostgreSQL', () => postgres.create()),
];
const body = `${APPROVALS.toLocaleString('en-US')} pending approvals, one deciding vote each (decision, effects and audit entries
committed per vote), ${CLIENTS} concurrent keep-alive HTTP clients, ${VOTERS} voters; the bridge in-process on this machine.

| target | votes/s | latency | failed |
|---|---|---|---|
${figures.map(intakeRow).join('\n')}`;
console.log(body);
writeSection('votes-http', 'Vote intake over HTTP', 'npm run bench -w bridge', body);
