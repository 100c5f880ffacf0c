import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Seals short secrets kept at rest for a while (a person's Airflow token behind a vote that waits for Airflow):
 * AES-256-GCM with a key derived from the bridge's audit key for this one purpose, so the store alone reveals nothing
 * and a changed sealed value fails to open.
 */
export class Sealer {
  private readonly key: Buffer;

  constructor(secret: Uint8Array, purpose: string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'airgate', purpose, 32));
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
  }

  /** The sealed secret, or null when it was not sealed with this key or was changed. */
  open(sealed: string): string | null {
    const [iv, tag, body] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
    if (!iv || !tag || !body || iv.length !== 12 || tag.length !== 16) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }
}
