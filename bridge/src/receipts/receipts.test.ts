import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { contentDigest } from '../approvals/content.js';
import { createServices } from '../services.js';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { RECEIPT_KEYS, fakeAuthentication, receiptKeyPem, silentLog, tokenFor } from '../testing/fake-airflow.js';
import { SERVICE_TOKEN, policiesWith, request1, testConfig } from '../testing/harness.js';
import { parsePolicies } from '../policies/index.js';
import { GENERATED_KEY_FILE, ReceiptKeys } from './keys.js';
import { Receipts, receiptDigest } from './receipt.js';

// Two stewards decide; alice may break the glass.
const POLICIES = policiesWith(`  - name: two-stewards
    levels:
      - { name: stewards, approvers: [group:stewards], rule: { n_of: 2 } }
    break_glass:
      allowed: [user:alice]
      reviewers: [group:stewards]
`);
const NOW = new Date('2026-11-25T11:00:00Z');

/** A bridge over `db` signing with `keys` (the tests' shared key unless given). */
function bridgeWith(db: Db, keys: ReceiptKeys = RECEIPT_KEYS) {
  const set = parsePolicies(POLICIES);
  return createServices(db, { current: () => set }, testConfig({ receiptKeys: keys }), silentLog, {
    now: () => NOW,
    authenticate: fakeAuthentication(db).authenticate,
    readiness: async () => ({ ok: true, status: 'ready' as const, details: {} }),
  });
}

const keysOf = (...names: string[]) => ReceiptKeys.fromFiles(names.map((name) => ({ name, text: receiptKeyPem() })));

describe.each(databases)('decision receipts on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  let bridge: ReturnType<typeof bridgeWith>;
  let id: string;
  const token: Record<string, string> = {};

  beforeEach(async () => {
    ({ db, drop } = await database.create());
    for (const user of ['alice', 'bob', 'carol']) token[user] = await tokenFor(user);
    bridge = bridgeWith(db);
    id = (await bridge.service.register(request1, 'test')).id;
  });
  afterEach(() => drop());

  const as = (user: string) => ({ Authorization: `Bearer ${token[user]}` });
  const vote = (user: string, body: object, approvalId = id, app = bridge.app) =>
    request(app).post(`/api/v1/approvals/${approvalId}/votes`).set(as(user)).send(body);
  const receiptOf = (approvalId = id, app = bridge.app) => request(app).get(`/api/v1/approvals/${approvalId}/receipt`).set(as('bob'));
  const jwks = async (app = bridge.app) => (await request(app).get('/.well-known/jwks.json')).body as { keys: object[] };
  const verify = async (jws: string, app = bridge.app) =>
    JSON.parse(new TextDecoder().decode((await compactVerify(jws, createLocalJWKSet((await jwks(app)) as never))).payload)) as Record<string, unknown>;

  it('records on each vote the digest of what the voter saw; no receipt while pending (404 no_receipt)', async () => {
    expect((await vote('alice', { option: 'Approve', reason: 'looks right' })).status).toBe(200);
    const approval = (await request(bridge.app).get(`/api/v1/approvals/${id}`).set(as('bob'))).body;
    expect(approval.content_digest).toBe(contentDigest(request1));
    expect(approval.content_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(approval.votes).toEqual([expect.objectContaining({ user: 'alice', content_digest: approval.content_digest })]);
    const pending = await receiptOf();
    expect([pending.status, pending.body.error.code]).toEqual([404, 'no_receipt']);
    const signal = await request(bridge.app).get('/api/v1/signals/receipts').query({ dag_id: request1.dag_id, run_id: request1.run_id, task_id: request1.task_id }).set('Authorization', `Bearer ${SERVICE_TOKEN}`);
    expect([signal.status, signal.body.error.code]).toEqual([404, 'no_receipt']);
  });

  it('signs the decision with the published key: the payload names the approval, task try, content, votes, policy and outcome', async () => {
    await vote('alice', { option: 'Approve', reason: 'looks right' });
    await vote('bob', { option: 'Approve' });
    const res = await receiptOf();
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const digest = contentDigest(request1);
    const expected = {
      receipt_version: 1,
      issuer: 'http://bridge.test',
      issued_at: NOW.toISOString(),
      approval_id: id,
      dag_id: 'dag_a',
      run_id: 'manual__1',
      task_id: 'approve_load',
      map_index: -1,
      try_number: 1,
      content_digest: digest,
      votes: [
        { user: 'alice', on_behalf_of: null, option: 'Approve', reason: 'looks right', channel: 'api', at: NOW.toISOString(), level: 1, content_digest: digest },
        { user: 'bob', on_behalf_of: null, option: 'Approve', reason: null, channel: 'api', at: NOW.toISOString(), level: 1, content_digest: digest },
      ],
      bypass: null,
      policy: { name: 'two-stewards', version: parsePolicies(POLICIES).version },
      outcome: { state: 'approved', option: 'Approve', params_input: {} },
      decided_at: NOW.toISOString(),
    };
    expect(await verify(res.body.receipt)).toEqual(expected);
    expect(res.body).toMatchObject({ kid: RECEIPT_KEYS.signer.kid, verified: true, digest: receiptDigest(res.body.receipt), payload: expected });
    expect(decodeProtectedHeader(res.body.receipt)).toEqual({ alg: 'EdDSA', kid: RECEIPT_KEYS.signer.kid, typ: 'airgate-receipt' });
    expect(await jwks()).toEqual({ keys: [expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', kid: RECEIPT_KEYS.signer.kid, alg: 'EdDSA', use: 'sig' })] });

    // The task note names the receipt (not the whole JWS: Airflow keeps 1000 characters of a note); the audit entry too.
    const note = JSON.parse((await db.selectFrom('effect').select('payload').where('kind', '=', 'task_note').executeTakeFirstOrThrow()).payload).note as string;
    expect(note.split('\n')[1]).toBe(`receipt ${receiptDigest(res.body.receipt).slice(0, 23)} (key ${RECEIPT_KEYS.signer.kid}), content ${digest.slice(0, 23)}`);
    const decided = await db.selectFrom('audit_entry').select('details').where('action', '=', 'approval.decided').executeTakeFirstOrThrow();
    expect(JSON.parse(decided.details).receipt).toBe(receiptDigest(res.body.receipt));

    const signal = await request(bridge.app).get('/api/v1/signals/receipts').query({ dag_id: 'dag_a', run_id: 'manual__1', task_id: 'approve_load' }).set('Authorization', `Bearer ${SERVICE_TOKEN}`);
    expect(signal.body).toEqual(res.body);
  });

  it("the note keeps the receipt's line within Airflow's 1000 characters, however long the reasons", async () => {
    await vote('alice', { option: 'Approve', reason: 'a'.repeat(2000) });
    await vote('bob', { option: 'Approve', reason: 'b'.repeat(2000) });
    const note = JSON.parse((await db.selectFrom('effect').select('payload').where('kind', '=', 'task_note').executeTakeFirstOrThrow()).payload).note as string;
    expect(note).toHaveLength(1000);
    expect(note.endsWith('…')).toBe(true);
    expect(note.split('\n')[1]).toMatch(/^receipt sha256:[0-9a-f]{16} \(key .+\), content sha256:[0-9a-f]{16}$/);
  });

    it('a tampered receipt fails verification', async () => {
    await vote('alice', { option: 'Reject', reason: 'numbers are off' });
    await vote('bob', { option: 'Reject', reason: 'agreed' });
    const { receipt, payload } = (await receiptOf()).body as { receipt: string; payload: { outcome: { state: string } } };
    expect(payload.outcome.state).toBe('rejected');
    const [header, , signature] = receipt.split('.');
    const forged = Buffer.from(JSON.stringify({ ...payload, outcome: { ...payload.outcome, state: 'approved', option: 'Approve' } })).toString('base64url');
    await expect(verify(`${header}.${forged}.${signature}`)).rejects.toThrow(/signature verification failed/);
  });

  it('writes the receipt in the decision transaction: when the decision rolls back, no receipt and no decision remain', async () => {
    await vote('alice', { option: 'Approve' });
    vi.spyOn(bridge.trail, 'appendAll').mockRejectedValueOnce(new Error('store lost'));
    expect((await vote('bob', { option: 'Approve' })).status).toBe(500);
    const row = await db.selectFrom('approval').select(['state', 'receipt']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ state: 'pending', receipt: null });
    expect(await db.selectFrom('effect').select('id').execute()).toEqual([]);
    expect((await vote('bob', { option: 'Approve' })).status).toBe(200);
    expect(await db.selectFrom('approval').select(['state', 'receipt']).where('id', '=', id).executeTakeFirstOrThrow()).toEqual({ state: 'approved', receipt: expect.any(String) });
  });

  it('every way an approval ends yields a receipt: break-glass, deadline, Airflow cancelling it', async () => {
    await request(bridge.app).post(`/api/v1/approvals/${id}/bypass`).set(as('alice')).send({ reason: 'outage' });
    const bypassed = (await receiptOf()).body;
    expect(bypassed.payload).toMatchObject({ outcome: { state: 'bypassed', option: 'Approve' }, bypass: { by: 'alice', reason: 'outage' }, votes: [] });

    const second = (await bridge.service.register({ ...request1, try_number: 2 }, 'test')).id;
    expect(await bridge.service.applyDeadline(second, { kind: 'fail' }, NOW.toISOString())).toBe(true);
    expect((await receiptOf(second)).body.payload).toMatchObject({ try_number: 2, outcome: { state: 'expired', option: null }, content_digest: contentDigest({ ...request1, try_number: 2 }) });

    const third = (await bridge.service.register({ ...request1, try_number: 3 }, 'test')).id;
    await bridge.service.closeFromAirflow(third, { kind: 'gone' });
    const cancelled = (await receiptOf(third)).body;
    expect([cancelled.verified, cancelled.payload.outcome]).toEqual([true, { state: 'cancelled', option: null, params_input: {} }]);
  });

  it('rotation: a new key signs, and receipts of the old one still verify while it stays published', async () => {
    await vote('alice', { option: 'Approve' });
    await vote('bob', { option: 'Approve' });
    const old = (await receiptOf()).body;
    const oldKey = RECEIPT_KEYS.keys[0]!;
    const newKey = keysOf('2027-01-15.pem').keys[0]!;
    const pem = (key: typeof oldKey) => key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const rotated = bridgeWith(db, ReceiptKeys.fromFiles([{ name: '2026-11-01.pem', text: pem(oldKey) }, { name: '2027-01-15.pem', text: pem(newKey) }]));
    const next = (await rotated.service.register({ ...request1, run_id: 'manual__2' }, 'test')).id;
    await vote('alice', { option: 'Approve' }, next, rotated.app);
    await vote('bob', { option: 'Approve' }, next, rotated.app);
    const fresh = (await receiptOf(next, rotated.app)).body;
    expect([old.kid, fresh.kid]).toEqual([oldKey.kid, newKey.kid]);
    expect((await jwks(rotated.app)).keys).toHaveLength(2);
    expect(await verify(old.receipt, rotated.app)).toEqual(old.payload);
    expect(await verify(fresh.receipt, rotated.app)).toEqual(fresh.payload);
    expect((await receiptOf(id, rotated.app)).body).toMatchObject({ kid: oldKey.kid, verified: true });

    // Once the old key is removed, its receipts no longer verify against the bridge's keys, and the API says so.
    const withoutOld = bridgeWith(db, ReceiptKeys.fromFiles([{ name: '2027-01-15.pem', text: pem(newKey) }]));
    expect((await receiptOf(id, withoutOld.app)).body).toMatchObject({ kid: oldKey.kid, verified: false });
  });

  it('a repeated registration with other content for the same try keeps the first and audits the difference', async () => {
    const known = await bridge.service.get(id);
    await bridge.service.registeredAgain(known, request1);
    await bridge.service.registeredAgain(known, { ...request1, body: 'A different report' });
    const after = await bridge.service.get(id);
    expect([after.body, after.content_digest]).toEqual(['Report', contentDigest(request1)]);
    const audited = await db.selectFrom('audit_entry').select(['action', 'approval_id', 'details']).where('action', '=', 'approval.content_mismatch').execute();
    expect(audited.map((e) => [e.approval_id, JSON.parse(e.details)])).toEqual([
      [id, { kept: contentDigest(request1), announced: contentDigest({ ...request1, body: 'A different report' }) }],
    ]);
  });
});

describe('receipt keys', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'airgate-receipt-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('generates an Ed25519 key once (mode 0600) and reads the same key on the next start', () => {
    const first = ReceiptKeys.fromDirectory(join(dir, 'keys'));
    expect(readdirSync(join(dir, 'keys'))).toEqual([GENERATED_KEY_FILE]);
    expect(statSync(join(dir, 'keys', GENERATED_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(ReceiptKeys.fromDirectory(join(dir, 'keys')).signer.kid).toBe(first.signer.kid);
    expect(first.signer.alg).toBe('EdDSA');
  });

  it('the last key by file name signs, the generated key always first; every key is published', () => {
    const generated = ReceiptKeys.fromDirectory(dir).signer.kid;
    writeFileSync(join(dir, '2026-12-04.pem'), receiptKeyPem());
    writeFileSync(join(dir, '2027-01-15.pem'), receiptKeyPem());
    const keys = ReceiptKeys.fromDirectory(dir);
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([generated, keys.keys[1]!.kid, keys.signer.kid]);
    expect(keys.signer.kid).toBe(ReceiptKeys.fromFiles([{ name: 'x.pem', text: readFileSync(join(dir, '2027-01-15.pem'), 'utf8') }]).signer.kid);
    expect(readdirSync(dir).sort()).toEqual(['2026-12-04.pem', '2027-01-15.pem', GENERATED_KEY_FILE]);
  });

  it('reads P-256 keys and JWK files, keeping a JWK kid; refuses other keys with the file named', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const jwk = { ...generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }), kid: 'ops-2027' };
    const keys = ReceiptKeys.fromFiles([
      { name: 'a.pem', text: ec.export({ format: 'pem', type: 'pkcs8' }).toString() },
      { name: 'b.jwk', text: JSON.stringify(jwk) },
    ]);
    expect(keys.keys.map((k) => [k.alg, k.publicJwk.kty])).toEqual([['ES256', 'EC'], ['EdDSA', 'OKP']]);
    expect(keys.signer.kid).toBe('ops-2027');
    expect(keys.jwks().keys.every((k) => !('d' in k))).toBe(true);
    // A P-256 signer's receipts are ES256 and verify with its published key.
    const approval = { id: 'a1', dag_id: 'd', run_id: 'r', task_id: 't', map_index: -1, try_number: 1, content_digest: contentDigest({ ...request1 }), votes: [], bypass: null, policy: 'p', state: 'approved', outcome: { option: 'Approve', params_input: {} }, decided_at: NOW.toISOString() };
    const ecOnly = ReceiptKeys.fromFiles([{ name: 'a.pem', text: ec.export({ format: 'pem', type: 'pkcs8' }).toString() }]);
    const jws = await new Receipts(ecOnly, 'http://bridge.test').sign(approval as never, 'v1', NOW.toISOString());
    expect(decodeProtectedHeader(jws).alg).toBe('ES256');
    expect((await compactVerify(jws, createLocalJWKSet(ecOnly.jwks() as never))).protectedHeader.kid).toBe(ecOnly.signer.kid);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(() => ReceiptKeys.fromFiles([{ name: 'rsa.pem', text: rsa }])).toThrow('receipt key rsa.pem must be Ed25519 or EC P-256');
    expect(() => ReceiptKeys.fromFiles([{ name: 'junk.pem', text: 'not a key' }])).toThrow(/receipt key junk.pem is not a private key/);
  });
});
