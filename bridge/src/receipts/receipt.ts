import { CompactSign, type JWK, compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import { canonicalJson, sha256Hex, toJsonValue } from '../audit/canonical.js';
import type { StoredApproval } from '../approvals/store.js';
import type { ReceiptKeys } from './keys.js';
import { RECEIPT_VERSION, type Receipt, ReceiptPayload } from './schemas.js';

/** The JWS header's `typ`: tells a receipt from any other token signed with the same key. */
export const RECEIPT_TYPE = 'airgate-receipt';

/** A decided approval as its receipt states it. */
export function receiptPayload(decided: StoredApproval, policyVersion: string | null, issuer: string, issuedAt: string): ReceiptPayload {
  return ReceiptPayload.parse(
    toJsonValue({
      receipt_version: RECEIPT_VERSION,
      issuer,
      issued_at: issuedAt,
      approval_id: decided.id,
      dag_id: decided.dag_id,
      run_id: decided.run_id,
      task_id: decided.task_id,
      map_index: decided.map_index,
      try_number: decided.try_number,
      content_digest: decided.content_digest,
      votes: decided.votes
        .filter((v) => !v.replaced)
        .map((v) => ({ user: v.user, on_behalf_of: v.on_behalf_of, option: v.option, reason: v.reason, channel: v.channel, at: v.at, level: v.level, content_digest: v.content_digest })),
      bypass: decided.bypass,
      policy: { name: decided.policy, version: policyVersion },
      outcome: { state: decided.state, option: decided.outcome?.option ?? null, params_input: decided.outcome?.params_input ?? {} },
      decided_at: decided.decided_at,
    }),
  );
}

/** `sha256:<hex>` of a receipt's JWS text: the id the task note and the decision's audit entry name it by. */
export const receiptDigest = (jws: string) => `sha256:${sha256Hex(jws)}`;

/** Signs decisions' receipts with the newest key and reads them back against every published one. */
export class Receipts {
  private readonly keySet: ReturnType<typeof createLocalJWKSet>;

  constructor(
    private readonly keys: ReceiptKeys,
    readonly issuer: string,
  ) {
    this.keySet = createLocalJWKSet(keys.jwks());
  }

  /** The receipt of a decided approval: a compact JWS over its payload's canonical JSON, with the signer's kid. */
  async sign(decided: StoredApproval, policyVersion: string | null, issuedAt: string): Promise<string> {
    const signer = this.keys.signer;
    const payload = receiptPayload(decided, policyVersion, this.issuer, issuedAt);
    return new CompactSign(new TextEncoder().encode(canonicalJson(payload)))
      .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: RECEIPT_TYPE })
      .sign(signer.privateKey);
  }

  /** A stored receipt as the API shows it, checked against the keys published now. */
  async read(jws: string): Promise<Receipt> {
    const header = decodeProtectedHeader(jws);
    const verified = await compactVerify(jws, this.keySet).then(
      () => true,
      () => false,
    );
    const payload = ReceiptPayload.parse(JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')));
    return { receipt: jws, kid: String(header.kid), verified, digest: receiptDigest(jws), payload };
  }

  jwks(): { keys: JWK[] } {
    return this.keys.jwks();
  }
}

// Enough of a digest to tell receipts apart in a note (Airflow keeps at most 1000 characters of one).
const SHORT = 'sha256:'.length + 16;

/** The task note's line naming the receipt: its id, the key that signed it and the content it binds. */
export function receiptLine(jws: string, contentDigest: string): string {
  return `receipt ${receiptDigest(jws).slice(0, SHORT)} (key ${String(decodeProtectedHeader(jws).kid)}), content ${contentDigest.slice(0, SHORT)}`;
}
