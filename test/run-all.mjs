// Runs every suite of the repo (checks, unit, integration, browser) and ends with one line
// "N passed, N failed" over all of them. Exits non-zero when anything failed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');
const out = resolve(repo, 'test-output');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const venv = (tool) => resolve(repo, '.venv', 'bin', tool);
const ruff = [venv('ruff'), '--config', 'airflow_plugin/pyproject.toml'];
const vitest = (workspace) => ({
  cmd: ['npx', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}/${workspace}.json`],
  cwd: resolve(repo, workspace),
  report: `${out}/${workspace}.json`,
  parse: parseVitest,
});

// A check (lint, types) counts as one test; a runner's own report gives its counts.
const suites = [
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
  { name: 'bridge openapi.json up to date', cmd: ['git', 'diff', '--exit-code', '--', 'bridge/openapi.json'] },
  { name: 'bridge (vitest)', ...vitest('bridge') },
  { name: 'plugin-ui types', cmd: ['npx', 'tsc', '--noEmit', '-p', 'plugin-ui'] },
  { name: 'plugin-ui (vitest)', ...vitest('plugin-ui') },
  { name: 'test types', cmd: ['npx', 'tsc', '--noEmit', '-p', 'test'] },
  { name: 'integration + browser (vitest, real Airflow)', ...vitest('test') },
];

function parseVitest(file) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  // Files that fail to load count as failures even though they ran no test.
  const brokenFiles = report.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
  return { passed: report.numPassedTests, failed: report.numFailedTests + brokenFiles };
}

function parseJunit(file) {
  const xml = readFileSync(file, 'utf8');
  const attr = (name) => Number(new RegExp(`<testsuite[^>]* ${name}="(\\d+)"`).exec(xml)?.[1] ?? 0);
  const failed = attr('failures') + attr('errors');
  return { passed: attr('tests') - failed - attr('skipped'), failed };
}

let passed = 0;
let failed = 0;
const lines = [];
for (const suite of suites) {
  const started = Date.now();
  console.log(`\n=== ${suite.name}: ${suite.cmd.join(' ')}`);
  const run = spawnSync(suite.cmd[0], suite.cmd.slice(1), { cwd: suite.cwd ?? repo, stdio: 'inherit' });
  let counts;
  if (suite.parse && existsSync(suite.report)) {
    counts = suite.parse(suite.report);
    // A runner that exits non-zero with no failing test (crash, no tests) still fails the suite.
    if (run.status !== 0 && counts.failed === 0) counts.failed = 1;
  } else {
    counts = run.status === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
  }
  passed += counts.passed;
  failed += counts.failed;
  lines.push(`${suite.name}: ${counts.passed} passed, ${counts.failed} failed (${((Date.now() - started) / 1000).toFixed(0)}s)`);
}

console.log('\n=== summary');
for (const line of lines) console.log(line);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
