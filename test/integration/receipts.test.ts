import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { bridge, stack, waitForRunEnd } from '../support/clients.js';
import { approvalOf, note, signIn, tokens, triggerRun, vote, xcom } from '../support/scenarios.js';

const BASICS = '120_01_01_approval_basics';
const repo = resolve(import.meta.dirname, '..', '..');

/** `airgate verify-receipt` as an auditor runs it: its exit code and what it printed. */
function verifyReceipt(file: string, jwks: string): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(resolve(repo, '.venv', 'bin', 'airgate'), ['verify-receipt', file, '--jwks', jwks], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', fail);
    child.once('close', (code) => done({ code, output }));
  });
}

describe('signed decision receipts on real Airflow', () => {
  beforeAll(signIn);

  it('a decision yields a receipt bound to the reviewed content: verifiable with the JWKS, in the XCom and the note, checked by airgate verify-receipt', async () => {
    const runId = await triggerRun(BASICS, tokens.alice);
    const pending = await approvalOf(runId, 'approve_load');
    const early = await bridge(`/api/v1/approvals/${pending.id}/receipt`, { token: tokens.alice });
    expect([early.status, early.body.error?.code]).toEqual([404, 'no_receipt']);

    const voted = await vote('alice', pending.id, { option: 'Approve', reason: 'report read' });
    expect(voted.status, JSON.stringify(voted.body)).toBe(200);
    const digest = voted.body.content_digest as string;
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(voted.body.votes).toMatchObject([{ user: 'alice', content_digest: digest }]);
    expect(await waitForRunEnd(BASICS, runId, tokens.alice)).toBe('success');

    const res = await bridge(`/api/v1/approvals/${pending.id}/receipt`, { token: tokens.alice });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const jwksRes = await fetch(`${stack().bridgeUrl}/.well-known/jwks.json`);
    expect(jwksRes.status).toBe(200);
    const jwks = (await jwksRes.json()) as { keys: { kid: string }[] };
    const verified = await compactVerify(res.body.receipt as string, createLocalJWKSet(jwks as never));
    const payload = JSON.parse(new TextDecoder().decode(verified.payload));
    expect(decodeProtectedHeader(res.body.receipt).kid).toBe(res.body.kid);
    expect(jwks.keys.map((k) => k.kid)).toContain(res.body.kid);
    expect(payload).toMatchObject({
      approval_id: pending.id,
      dag_id: BASICS,
      run_id: runId,
      task_id: 'approve_load',
      map_index: -1,
      try_number: 1,
      content_digest: digest,
      votes: [{ user: 'alice', option: 'Approve', reason: 'report read', channel: 'api', content_digest: digest }],
      policy: { name: 'approval-basics' },
      outcome: { state: 'approved', option: 'Approve' },
      issuer: stack().bridgeUrl,
    });
    expect(res.body).toMatchObject({ verified: true, payload });

    // The operator kept the receipt in the task's XCom; the note names it by digest.
    const kept = await xcom(BASICS, runId, 'approve_load', 'airgate_receipt');
    expect(kept).toMatchObject({ receipt: res.body.receipt, kid: res.body.kid, digest: res.body.digest });
    expect(await note(BASICS, runId, 'approve_load')).toContain(`receipt ${(res.body.digest as string).slice(0, 23)} (key ${res.body.kid}), content ${digest.slice(0, 23)}`);

    // The push announced what Airflow holds: no registration of this try disagreed on the content.
    const audit = await bridge(`/api/v1/audit?approval_id=${pending.id}&limit=100`, { token: tokens.alice });
    expect((audit.body.items as { action: string }[]).map((e) => e.action)).not.toContain('approval.content_mismatch');

    const dir = join(stack().home, 'receipts');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify(jwks));
    writeFileSync(join(dir, 'receipt.jws'), kept.receipt);
    const ok = await verifyReceipt(join(dir, 'receipt.jws'), join(dir, 'jwks.json'));
    expect(ok, ok.output).toMatchObject({ code: 0 });
    expect(ok.output).toContain(`approval ${pending.id}: approved (Approve)`);
    expect((await verifyReceipt(join(dir, 'receipt.jws'), `${stack().bridgeUrl}/.well-known/jwks.json`)).code).toBe(0);

    const [header, body, signature] = (kept.receipt as string).split('.');
    const forged = Buffer.from(JSON.stringify({ ...payload, votes: [{ ...payload.votes[0], user: 'bob' }] })).toString('base64url');
    writeFileSync(join(dir, 'tampered.jws'), `${header}.${forged}.${signature}`);
    expect(body).not.toBe(forged);
    const refused = await verifyReceipt(join(dir, 'tampered.jws'), join(dir, 'jwks.json'));
    expect(refused.code).toBe(1);
    expect(refused.output).toContain('invalid receipt: bad signature');
  });
});
