/**
 * Security negatives of "who may see what" (issue #10, points 8, 9, 10 and 11) on the real Airflow and bridge: each
 * refusal is asserted with its code and with the approval, its votes, its audit entries and Airflow's task exactly
 * as before. Per-DAG read scoping cannot be expressed with SimpleAuthManager outside multi-team mode (every role
 * from viewer up reads every DAG): the bridge's unit tests cover it against a fake Airflow that hides DAGs.
 */
import { request as httpRequest } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { airflow, bridge, stack, tokenFor, triggerRun, waitFor, waitForApproval } from '../support/clients.js';
import { voteAs } from '../support/scenarios.js';
import { expectRefusedAndUnchanged } from '../support/unchanged.js';

const DAG = '120_01_01_approval_basics';
const seg = encodeURIComponent;

/** A request sent with its path exactly as given: fetch() would resolve `%2e%2e` segments before sending. */
function raw(path: string, token: string, init: { method?: string; body?: string } = {}): Promise<{ status: number; body: any; text: string }> {
  const url = new URL(stack().airflowUrl);
  return new Promise((done, fail) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: init.method ?? 'GET',
        headers: { Authorization: `Bearer ${token}`, ...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => {
          let body: unknown = null;
          try {
            body = JSON.parse(text);
          } catch {
            body = null;
          }
          done({ status: res.statusCode ?? 0, body, text });
        });
      },
    );
    req.on('error', fail);
    req.end(init.body);
  });
}

describe('who may see what and decide, on real Airflow', () => {
  let alice: string;
  let admin: string;
  let vera: string;
  let approval: { id: string; run_id: string };
  const vote = (id: string, token: string) => voteAs(token, id, { option: 'Approve', reason: 'looks fine' });

  beforeAll(async () => {
    [alice, admin, vera] = await Promise.all([tokenFor('alice'), tokenFor('admin'), tokenFor('vera')]);
    approval = await waitForApproval(await triggerRun(DAG, alice), alice);
  });

  it('8: a viewer reads the approval but may not vote, since Airflow does not let them change the task', async () => {
    expect((await bridge(`/api/v1/approvals/${seg(approval.id)}`, { token: vera })).status).toBe(200);
    await expectRefusedAndUnchanged(approval.id, admin, () => vote(approval.id, vera), { status: 403, code: 'airflow_forbidden' });
    // The refusal itself is on the record, naming the person.
    const audit = await bridge(`/api/v1/audit?approval_id=${seg(approval.id)}&limit=500`, { token: admin });
    expect(audit.body.items).toContainEqual(expect.objectContaining({ actor: 'vera', action: 'vote.refused' }));
  });

  it('8: delivery addresses (bearer secrets) are shown to admins only', async () => {
    const deliveries = (token: string) => bridge(`/api/v1/deliveries?approval_id=${seg(approval.id)}&limit=500`, { token });
    const asAdmin = await waitFor('the approval to be mailed', async () => {
      const items = (await deliveries(admin)).body.items as Array<{ channel: string; address: string | null }>;
      return items.some((d) => d.channel === 'email') ? items : undefined;
    });
    expect(asAdmin.filter((d) => d.channel === 'email').map((d) => d.address)).toEqual(
      expect.arrayContaining([expect.stringMatching(/@airgate\.test$/)]),
    );
    for (const token of [alice, vera]) {
      const items = (await deliveries(token)).body.items as Array<{ address: string | null }>;
      expect(items.length).toBe(asAdmin.length);
      expect(items.map((d) => d.address)).toEqual(items.map(() => null));
    }
  });

  it("9: a token signed out of Airflow is refused by the bridge within its cache window, nothing changed", async () => {
    const token = await tokenFor('bob');
    expect((await bridge('/api/v1/approvals', { token })).status).toBe(200);
    // Airflow's logout revokes the presented token (routes/public/auth.py: logout → revoke_token).
    const logout = await fetch(`${stack().airflowUrl}/api/v2/auth/logout`, { headers: { Authorization: `Bearer ${token}` }, redirect: 'manual' });
    expect(logout.status).toBe(307);
    // Airflow itself now refuses it: 403 "Invalid JWT token" (core_api/security.py:129-130).
    const inAirflow = await airflow('/api/v2/dags?limit=1', { token });
    expect([inAirflow.status, inAirflow.body.detail]).toEqual([403, 'Invalid JWT token']);
    // The bridge asks Airflow again once its answer for this token is older than ACCESS_CACHE_MS (30 s).
    await waitFor('the bridge to refuse the signed-out token', async () => {
      const res = await bridge('/api/v1/approvals', { token });
      return res.status === 401 ? res : undefined;
    }, 90_000);
    const refused = await expectRefusedAndUnchanged(approval.id, admin, () => vote(approval.id, token), { status: 401, code: 'unauthorized' });
    expect(refused.body.error.message).toContain('signed out');
    // A fresh sign-in works at once.
    expect((await bridge('/api/v1/approvals', { token: await tokenFor('bob') })).status).toBe(200);
  });

  it("10: the plugin route on Airflow's origin forwards only the bridge's JSON API under /api/v1, normalised and capped", async () => {
    for (const path of ['%2e%2e/%2e%2e/metrics', '..%2f..%2fmetrics', 'approvals/%2e%2e/%2e%2e/metrics', 'approvals/../../metrics', 'approvals%5c..%5cmetrics']) {
      const res = await raw(`/airgate/api/${path}`, admin);
      expect(res.status, path).toBe(400);
      expect(res.body?.error, path).toMatchObject({ code: 'bad_request', field: 'path' });
      expect(res.text, path).not.toContain('airgate_');
    }
    // The bridge's own HTML (its API docs page) is not served on Airflow's origin.
    const docs = await raw('/airgate/api/docs', admin);
    expect(docs.status).toBe(502);
    expect(docs.body.error.code).toBe('bad_gateway');
    // A body over 256 KiB is refused before it reaches the bridge, and the approval is as it was.
    const big = JSON.stringify({ option: 'Approve', reason: 'x'.repeat(300 * 1024) });
    await expectRefusedAndUnchanged(approval.id, admin, () => raw(`/airgate/api/approvals/${seg(approval.id)}/votes`, alice, { method: 'POST', body: big }), {
      status: 413,
      code: 'too_large',
    });
  });

  it('11: requests are limited per person, also through the one address of the plugin route', async () => {
    const viaPlugin = (token: string) => fetch(`${stack().airflowUrl}/airgate/api/approvals?limit=1`, { headers: { Authorization: `Bearer ${token}` } });
    const direct = () => fetch(`${stack().bridgeUrl}/api/v1/approvals?limit=1`, { headers: { Authorization: `Bearer ${vera}` } });
    expect((await viaPlugin(vera)).status).toBe(200);
    // vera spends her allowance (RATE_LIMIT_PER_MINUTE, 1200 in the test stack) straight on the bridge, 25 at a time.
    let statuses: number[] = [];
    for (let sent = 0; !statuses.includes(429) && sent < 5000; sent += 25) {
      statuses = await Promise.all(Array.from({ length: 25 }, async () => (await direct()).status));
    }
    expect(statuses).toContain(429);
    const limited = await viaPlugin(vera);
    expect(limited.status, await limited.text()).toBe(429);
    await expectRefusedAndUnchanged(approval.id, admin, () => vote(approval.id, vera), { status: 429, code: 'rate_limited' });
    // Through the same route, from the same address, alice still has her own allowance.
    expect((await viaPlugin(alice)).status).toBe(200);
  });
});
