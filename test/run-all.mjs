// Runs every suite of the repo (checks, unit, integration, browser) and ends with one line
// "N passed, N failed" over all of them (skipped tests are counted on the line before). Exits non-zero when
// anything failed.
//
// Suites run in lanes: the lanes run side by side, the suites of one lane one after another, each with a time
// limit. A suite's output is kept until it ends and printed whole, so lanes never interleave.
// To add a suite, add an entry to `suites`: { name, cmd, cwd?, lane?, after?, timeoutMin?, report?, parse?, restarts? }.
//   lane      'stack' for suites that start the test stack on its fixed ports (one at a time), 'fault' for the
//             fault suite's scale-out stack, 'checks' otherwise.
//   after     a lane this suite's lane waits for before it starts (the fault lane waits for the checks, so only
//             two lanes share the machine at a time).
//   report    a file the runner writes (vitest JSON, JUnit XML) that `parse` turns into counts; without one, the
//             suite is one check: passed when it exits 0.
//   restarts  the dev stack's restarts.json, read after the suite: components that crashed while it ran.
//   when      an environment variable that must be set for the suite to run (it is listed as not run otherwise).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { classifyRestarts, killsFile } from './support/kills.mjs';

const repo = resolve(import.meta.dirname, '..');
const out = resolve(repo, 'test-output');
const venv = (tool) => resolve(repo, '.venv', 'bin', tool);
const ruff = [venv('ruff'), '--config', 'airflow_plugin/pyproject.toml'];
// The integration suite's stack lives in .airgate/<home> (see test/support/stack-setup.ts).
const testHome = process.env.AIRGATE_TEST_HOME ?? 'test';
const vitest = (workspace, config) => {
  const report = `${out}/${config ? config.replace(/^vitest\.|\.config\.ts$/g, '') : workspace}.json`;
  return {
    cmd: ['npx', 'vitest', 'run', ...(config ? ['--config', config] : []), '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
    cwd: resolve(repo, workspace),
    report,
    parse: parseVitest,
  };
};

export const suites = [
  {
    name: 'integration + browser (vitest, real Airflow)',
    ...vitest('test'),
    lane: 'stack',
    timeoutMin: 60,
    env: { AIRGATE_TEST_HOME: testHome },
    restarts: resolve(repo, '.airgate', testHome, 'restarts.json'),
  },
  {
    // Breaks parts of its stack on purpose (kills replicas, workers, the scheduler): no restarts report.
    name: 'fault suite (vitest, scale-out profile)',
    ...vitest('test', 'vitest.fault.config.ts'),
    lane: 'fault',
    after: 'checks',
    // Its stack takes ~6 min to start on a loaded 2-core machine, and scenario 2 parks 200 mapped tasks: over
    // 45 minutes on 2 cores, so `npm test` runs it only with AIRGATE_TEST_FAULT=1 (and `npm run test:fault -w test`).
    timeoutMin: 60,
    when: 'AIRGATE_TEST_FAULT',
  },
  { name: 'ruff lint', cmd: [...ruff, 'check', 'airflow_plugin', 'dags'] },
  { name: 'ruff format', cmd: [...ruff, 'format', '--check', 'airflow_plugin', 'dags'] },
  { name: 'mypy', cmd: [venv('mypy')], cwd: resolve(repo, 'airflow_plugin') },
  {
    name: 'python (pytest)',
    cmd: [venv('pytest'), '-q', `--junitxml=${out}/python.xml`, 'airflow_plugin/tests'],
    report: `${out}/python.xml`,
    parse: parseJunit,
  },
  { name: 'bridge types', cmd: ['npx', 'tsc', '--noEmit', '-p', 'bridge'] },
  {
    // dist/ is what ships: the tests' fakes (msw), the test bridges and the benchmarks are built apart or not at all.
    name: 'bridge build ships no test code',
    cmd: ['bash', '-c', '! ls -d bridge/dist/testing bridge/dist/bench 2>/dev/null && ! grep -rlE "from .msw" bridge/dist'],
  },
  { name: 'bridge openapi.json up to date', cmd: ['git', 'diff', '--exit-code', '--', 'bridge/openapi.json'] },
  { name: 'bridge (vitest)', ...vitest('bridge'), timeoutMin: 30 },
  {
    name: 'plugin-ui client generated from openapi.json',
    cmd: ['bash', '-c', 'f=$(mktemp --suffix=.d.ts) && cd plugin-ui && npx openapi-typescript ../bridge/openapi.json -o "$f" >/dev/null && diff -u src/api/schema.d.ts "$f"'],
  },
  { name: 'plugin-ui types', cmd: ['npx', 'tsc', '--noEmit', '-p', 'plugin-ui'] },
  { name: 'plugin-ui (vitest)', ...vitest('plugin-ui'), timeoutMin: 20 },
  { name: 'test types', cmd: ['npx', 'tsc', '--noEmit', '-p', 'test'] },
];

export function parseVitest(file) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  // A file that failed with no failing test (it did not load, or a beforeAll hook threw and its tests were
  // skipped) counts as one failure, never as skips only.
  const brokenFiles = report.testResults.filter((f) => f.status === 'failed' && !f.assertionResults.some((a) => a.status === 'failed')).length;
  return {
    passed: report.numPassedTests,
    failed: report.numFailedTests + brokenFiles,
    skipped: report.numPendingTests + report.numTodoTests,
  };
}

export function parseJunit(file) {
  const xml = readFileSync(file, 'utf8');
  const attr = (name) => Number(new RegExp(`<testsuite[^>]* ${name}="(\\d+)"`).exec(xml)?.[1] ?? 0);
  const failed = attr('failures') + attr('errors');
  const skipped = attr('skipped');
  return { passed: attr('tests') - failed - skipped, failed, skipped };
}

/** Runs one suite as its own process group, so a suite over its time limit goes with everything it started. */
function run(suite) {
  const limitMs = (suite.timeoutMin ?? 10) * 60_000;
  return new Promise((done) => {
    const chunks = [];
    const child = spawn(suite.cmd[0], suite.cmd.slice(1), {
      cwd: suite.cwd ?? repo,
      env: { ...process.env, ...suite.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout.on('data', (c) => chunks.push(c));
    child.stderr.on('data', (c) => chunks.push(c));
    let timedOut = false;
    const kill = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // the group is gone already
      }
    };
    const limit = setTimeout(() => {
      timedOut = true;
      kill('SIGTERM'); // lets the dev stack stop what it started
      setTimeout(() => kill('SIGKILL'), 30_000).unref();
    }, limitMs);
    child.on('error', (err) => chunks.push(Buffer.from(`${err.message}\n`)));
    child.on('close', (status) => {
      clearTimeout(limit);
      done({ status, timedOut, limitMs, output: Buffer.concat(chunks).toString() });
    });
  });
}

/** A suite's counts, and why it failed when its runner could not say (time limit, crash, no report). */
function outcome(suite, result) {
  if (result.timedOut) return { passed: 0, failed: 1, skipped: 0, reason: `killed after its time limit of ${result.limitMs / 1000}s` };
  if (suite.parse && existsSync(suite.report)) {
    const counts = suite.parse(suite.report);
    // A runner that exits non-zero with no failing test (crash, no tests) still fails the suite.
    if (result.status !== 0 && counts.failed === 0) return { ...counts, failed: 1, reason: `exited with ${result.status} and no failing test` };
    return counts;
  }
  if (result.status === 0) return { passed: 1, failed: 0, skipped: 0 };
  return { passed: 0, failed: 1, skipped: 0, reason: suite.parse ? `exited with ${result.status} and wrote no report` : undefined };
}

/** The components of the stack that crashed while the suite ran, as the dev stack recorded them. */
function restartsOf(suite) {
  if (!suite.restarts || !existsSync(suite.restarts)) return [];
  const kills = existsSync(killsFile(suite.restarts)) ? JSON.parse(readFileSync(killsFile(suite.restarts), 'utf8')) : [];
  const { crashes, killed } = classifyRestarts(JSON.parse(readFileSync(suite.restarts, 'utf8')), kills);
  return [
    ...crashes.map((r) => `crashed during the suite: ${r.component} exited with ${r.exit_code} at ${r.at} (restarted; see ${r.log})`),
    ...killed.map((r) => `killed on purpose by a test: ${r.component} at ${r.at} (restarted)`),
  ];
}

async function runLane(lane, summary) {
  for (const suite of lane) {
    if (suite.restarts) for (const file of [suite.restarts, killsFile(suite.restarts)]) rmSync(file, { force: true });
    const started = Date.now();
    const result = await run(suite);
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    const counts = outcome(suite, result);
    const crashes = restartsOf(suite);
    console.log(`\n=== ${suite.name} (${seconds}s): ${suite.cmd.join(' ')}\n${result.output}`);
    summary.push({ suite, counts, crashes, seconds });
  }
}

export async function runAll(all = suites) {
  const list = all.filter((s) => !s.when || process.env[s.when]);
  for (const s of all.filter((t) => !list.includes(t))) console.log(`=== ${s.name}: not run (set ${s.when}=1 to run it)`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const lanes = {};
  for (const suite of list) (lanes[suite.lane ?? 'checks'] ??= []).push(suite);
  const summary = [];
  const running = {};
  const start = (name) =>
    (running[name] ??= Promise.resolve(lanes[name].find((s) => s.after)?.after)
      .then((after) => after && lanes[after] && start(after))
      .then(() => runLane(lanes[name], summary)));
  await Promise.all(Object.keys(lanes).map(start));

  console.log('\n=== summary');
  const total = { passed: 0, failed: 0, skipped: 0 };
  for (const suite of list) {
    const { counts, crashes, seconds } = summary.find((s) => s.suite === suite);
    for (const key of Object.keys(total)) total[key] += counts[key];
    console.log(`${suite.name}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped (${seconds}s)${counts.reason ? `: ${counts.reason}` : ''}`);
    for (const crash of crashes) console.log(`  ${crash}`);
  }
  console.log(`${total.skipped} skipped`);
  console.log(`${total.passed} passed, ${total.failed} failed`);
  return total.failed === 0 ? 0 : 1;
}

if (process.argv[1] === import.meta.filename) process.exit(await runAll());
