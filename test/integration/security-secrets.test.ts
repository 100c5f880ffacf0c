/**
 * Security negatives of issue #10, points 5, 6, 7 and 12, on the real Airflow and bridge: what the service token
 * (readable by every task) cannot do, webhook replays and prototype names, secrets in logs, and the keyed audit chain.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { channelSecrets } from '../support/chat.js';
import { bridge, stack, waitFor } from '../support/clients.js';
import { hookSignature } from '../support/hooks.js';
import { receivedMail } from '../support/mailbox.js';
import { type ApprovalView, approvalOf, signIn, tokens, triggerRun } from '../support/scenarios.js';
import { expectRefusedAndUnchanged } from '../support/unchanged.js';

const DAG = '120_01_01_approval_basics';
const repo = resolve(import.meta.dirname, '..', '..');
const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** An HS256 JWT shaped like a one-click link's, signed with `key`. */
function linkToken(key: Buffer, claims: Record<string, unknown>): string {
  const head = `${b64url(JSON.stringify({ alg: 'HS256' }))}.${b64url(JSON.stringify({ iss: 'airgate-bridge', aud: 'airgate-one-click', ...claims }))}`;
  return `${head}.${createHmac('sha256', key).update(head).digest('base64url')}`;
}

const secretsOfStack = () => JSON.parse(readFileSync(join(stack().home, 'secrets.json'), 'utf8')) as Record<string, string>;

const postHook = (source: string, raw: string, headers: Record<string, string>) =>
  fetch(`${stack().bridgeUrl}/hooks/${source}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: raw }).then(async (res) => ({
    status: res.status,
    body: (await res.json()) as any,
  }));

function filesUnder(dir: string): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    out = statSync(path).isDirectory() ? [...out, ...filesUnder(path)] : [...out, path];
  }
  return out;
}

describe('security: secrets the service token does not open (issue #10, points 5, 6, 7, 12)', () => {
  let pending: ApprovalView & { dag_id: string; map_index: number };
  const minted: string[] = [];

  beforeAll(async () => {
    await signIn();
    const runId = await triggerRun(DAG, tokens.alice);
    pending = (await approvalOf(runId, 'approve_load')) as typeof pending;
  });

  it('5: a link signed with a key derived from the service token is refused (401) and decides nothing', async () => {
    const derived = createHmac('sha256', secretsOfStack().bridge_service_token!).update('airgate one-click links v1').digest();
    const now = Math.floor(Date.now() / 1000);
    const forged = linkToken(derived, { sub: 'bob', aid: pending.id, opt: 'Approve', opts: ['Approve', 'Reject'], ch: 'email', jti: randomUUID(), iat: now, exp: now + 3600 });
    minted.push(forged);
    await expectRefusedAndUnchanged(
      pending.id,
      tokens.admin,
      async () => {
        const res = await fetch(`${stack().bridgeUrl}/a/${forged}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'reason=x' });
        return { status: res.status, body: await res.text() };
      },
      { status: 401 },
    );
  });

  it('5: a registration with a requester Airflow does not record is refused (403 naming it) and changes nothing', async () => {
    const claim = { dag_id: DAG, run_id: pending.run_id, task_id: 'approve_load', map_index: -1, try_number: 1, subject: 'x', options: ['Approve', 'Reject'], requester: 'mallory', tags: [], values: {} };
    const res = await expectRefusedAndUnchanged(
      pending.id,
      tokens.admin,
      () => bridge('/api/v1/approvals', { method: 'POST', token: secretsOfStack().bridge_service_token!, body: JSON.stringify(claim) }),
      { status: 403, code: 'registration_unverified' },
    );
    expect(res.body.error.field).toBe('requester');
    await expectRefusedAndUnchanged(
      pending.id,
      tokens.admin,
      () => bridge('/api/v1/approvals', { method: 'POST', token: secretsOfStack().bridge_service_token!, body: JSON.stringify({ ...claim, requester: 'alice', try_number: 7 }) }),
      { status: 403, code: 'registration_unverified' },
    );
  });

  it('6: a captured webhook re-sent under a new delivery id (401) and /hooks/constructor signed with an empty key (404) change nothing', async () => {
    const raw = JSON.stringify({ approval_id: pending.id, user: 'bob', option: 'Approve', reason: 'captured' });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const captured = { 'X-Airgate-Timestamp': timestamp, 'X-Airgate-Signature': hookSignature(channelSecrets.AIRGATE_HOOK_OPS_SECRET, timestamp, 'delivery-1', raw) };
    await expectRefusedAndUnchanged(pending.id, tokens.admin, () => postHook('ops', raw, { ...captured, 'X-Airgate-Delivery': 'delivery-2' }), { status: 401, code: 'unauthorized' });
    for (const source of ['constructor', 'hasownproperty', 'valueof']) {
      const headers = { 'X-Airgate-Timestamp': timestamp, 'X-Airgate-Delivery': `d-${source}`, 'X-Airgate-Signature': hookSignature('', timestamp, `d-${source}`, raw) };
      await expectRefusedAndUnchanged(pending.id, tokens.admin, () => postHook(source, raw, headers), { status: 404, code: 'not_found' });
    }
  });

  it('7: after links and webhooks ran, no log line holds a generated secret or a link token', async () => {
    // A real link from the bridge's mail to an approver; opening it shows the confirmation page and decides nothing.
    const mail = await waitFor(`a mail about ${pending.run_id}`, async () => (await receivedMail(stack().mailDir)).find((m) => m.text.includes(pending.run_id) && /\/a\//.test(m.html)));
    const link = /href="([^"]+\/a\/[^"]+)"/.exec(mail.html)![1]!.replaceAll('&amp;', '&');
    minted.push(link.slice(link.indexOf('/a/') + 3));
    expect((await fetch(link)).status).toBe(200);
    const logs = [...filesUnder(join(stack().home, 'logs')), ...filesUnder(join(stack().home, 'airflow', 'logs'))];
    expect(logs.some((f) => f.endsWith('bridge.log'))).toBe(true);
    // The bridge logged the request, so the check below reads the line that would hold the token.
    await waitFor('the bridge to log the link request', async () => (readFileSync(join(stack().home, 'logs', 'bridge.log'), 'utf8').includes('/a/[redacted]') ? true : undefined), 10_000);
    const secrets = [...Object.values(secretsOfStack()), ...Object.values(stack().passwords), ...Object.values(channelSecrets), ...minted];
    for (const file of logs) {
      const text = readFileSync(file, 'utf8');
      for (const secret of secrets) expect(text.includes(secret), `${file} holds a secret (${secret.slice(0, 4)}…)`).toBe(false);
    }
  });

  it('12: a rewritten audit entry with every later hash recomputed is named by verify; the head is checkpointed outside the store', async () => {
    // Refusals decide nothing, so the head these tests wrote reaches the file on the interval (a minute at most).
    await waitFor(
      'the audit head to be checkpointed',
      async () => ((JSON.parse(readFileSync(join(stack().home, 'audit-checkpoint.json'), 'utf8')) as { seq: number }).seq > 0 ? true : undefined),
      75_000,
    );
    expect((await bridge('/api/v1/audit/verify', { token: tokens.admin })).body).toMatchObject({ ok: true, first_bad_seq: null, checkpoint: { seq: expect.any(Number) } });
    // What someone who can write the store (not the key) does: alter one entry, re-chain every later one.
    const require = createRequire(join(repo, 'bridge', 'package.json'));
    const Database = require('better-sqlite3');
    const { entryHash } = (await import(join(repo, 'bridge', 'dist', 'audit', 'trail.js'))) as { entryHash: (e: object, key: Uint8Array | null) => string };
    const { canonicalJson } = (await import(join(repo, 'bridge', 'dist', 'audit', 'canonical.js'))) as { canonicalJson: (v: unknown) => string };
    const db = new Database(join(stack().home, 'bridge.sqlite'));
    const rows = db.prepare('select * from audit_entry order by seq').all() as Array<Record<string, any>>;
    const target = rows.find((r) => r.action === 'vote.refused' || r.action === 'approval.registered')!;
    const update = db.prepare('update audit_entry set details = ?, prev_hash = ?, hash = ? where seq = ?');
    const rewrite = (from: Array<Record<string, any>>, forge: boolean) => {
      let prev = rows[target.seq - 2]?.hash ?? '0'.repeat(64);
      for (const row of from) {
        const details = JSON.parse(row.details);
        const entry = { ...row, details: forge && row.seq === target.seq ? { ...details, forged: true } : details, prev_hash: forge ? prev : row.prev_hash };
        const hash = forge ? entryHash(entry, null) : row.hash;
        update.run(canonicalJson(entry.details), entry.prev_hash, hash, row.seq);
        prev = hash;
      }
    };
    const later = rows.filter((r) => r.seq >= target.seq);
    try {
      rewrite(later, true);
      expect((await bridge('/api/v1/audit/verify', { token: tokens.admin })).body).toMatchObject({ ok: false, first_bad_seq: target.seq, problem: 'altered' });
    } finally {
      rewrite(later, false);
      db.close();
    }
    expect((await bridge('/api/v1/audit/verify', { token: tokens.admin })).body).toMatchObject({ ok: true });
  });
});
