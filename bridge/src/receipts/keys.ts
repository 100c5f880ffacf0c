import { type JsonWebKey, type KeyObject, createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JWK } from 'jose';

/** The JWS algorithms a receipt key may have: Ed25519 (what the bridge generates) or ECDSA P-256. */
export type ReceiptAlg = 'EdDSA' | 'ES256';

export interface ReceiptKey {
  kid: string;
  alg: ReceiptAlg;
  privateKey: KeyObject;
  /** The public half as published in the JWKS. */
  publicJwk: JWK;
}

/** The key the bridge makes when its keys directory holds none; it sorts first, so any key added later signs. */
export const GENERATED_KEY_FILE = 'generated.pem';
const KEY_FILE = /\.(pem|jwk|json)$/;

/**
 * The bridge's receipt keys: every key in the directory verifies (its public half is in the JWKS), the last one
 * by file name signs. Rotation is adding a key whose name sorts after the others (name them by date:
 * `2027-01-15.pem`); old receipts still verify as long as their key stays in the directory.
 */
export class ReceiptKeys {
  private constructor(readonly keys: readonly ReceiptKey[]) {}

  /** The key new receipts are signed with. */
  get signer(): ReceiptKey {
    return this.keys.at(-1)!;
  }

  /** The public keys, as `GET /.well-known/jwks.json` serves them. */
  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  /** Keys from PEM (PKCS#8) or JWK files; none refuses, as a bridge without a receipt key cannot decide. */
  static fromFiles(files: readonly { name: string; text: string }[]): ReceiptKeys {
    const ordered = [...files].sort((a, b) => order(a.name) - order(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (ordered.length === 0) throw new Error('no receipt key');
    const keys = ordered.map((f) => receiptKey(f.name, f.text));
    const kids = new Set(keys.map((k) => k.kid));
    if (kids.size !== keys.length) throw new Error('two receipt keys have the same kid');
    return new ReceiptKeys(keys);
  }

  /**
   * The keys in `dir`; when it holds none, an Ed25519 key is generated there first (mode 0600), so a restart
   * signs and verifies with the same key. Replicas sharing the directory agree: the generated key's name is fixed
   * and it is linked into place atomically, so the first one to write it wins and the others read it.
   */
  static fromDirectory(dir: string): ReceiptKeys {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (keyFiles(dir).length === 0) generateInto(dir);
    return ReceiptKeys.fromFiles(keyFiles(dir).map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') })));
  }
}

// The generated key is the oldest whatever its name: a key someone adds always signs after it.
const order = (name: string) => (name === GENERATED_KEY_FILE ? 0 : 1);

const keyFiles = (dir: string) => readdirSync(dir).filter((name) => KEY_FILE.test(name));

function generateInto(dir: string): void {
  const { privateKey } = generateKeyPairSync('ed25519');
  const temp = join(dir, `.${GENERATED_KEY_FILE}.${process.pid}.tmp`);
  writeFileSync(temp, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  try {
    linkSync(temp, join(dir, GENERATED_KEY_FILE));
  } catch (err) {
    // Another replica generated it first: theirs is the key.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    rmSync(temp, { force: true });
  }
}

function receiptKey(name: string, text: string): ReceiptKey {
  let privateKey: KeyObject;
  let declaredKid: string | undefined;
  try {
    if (name.endsWith('.pem')) {
      privateKey = createPrivateKey(text);
    } else {
      const jwk = JSON.parse(text) as JWK;
      declaredKid = jwk.kid;
      privateKey = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
    }
  } catch (err) {
    throw new Error(`receipt key ${name} is not a private key (PEM PKCS#8 or JWK): ${(err as Error).message}`);
  }
  const alg = algOf(privateKey);
  if (!alg) throw new Error(`receipt key ${name} must be Ed25519 or EC P-256`);
  const { kty, crv, x, y } = createPublicKey(privateKey).export({ format: 'jwk' });
  const bare: JWK = { kty, crv, x, ...(y ? { y } : {}) };
  const kid = declaredKid ?? thumbprint(bare);
  return { kid, alg, privateKey, publicJwk: { ...bare, kid, alg, use: 'sig' } };
}

/** The key's RFC 7638 thumbprint: SHA-256 over its required members in order, base64url. */
function thumbprint(jwk: JWK): string {
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

function algOf(key: KeyObject): ReceiptAlg | null {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  return null;
}
