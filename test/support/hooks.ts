import { createHmac, randomUUID } from 'node:crypto';
import { channelSecrets } from './chat.js';
import { stack } from './clients.js';

/** `X-Airgate-Signature` of a `POST /hooks/{source}` request, as a sending system computes it. */
export const hookSignature = (secret: string, timestamp: string, deliveryId: string, raw: string) =>
  `sha256=${createHmac('sha256', secret).update(`${timestamp}.${deliveryId}.${raw}`).digest('hex')}`;

/** Now in unix seconds, as `X-Airgate-Timestamp` carries it. */
export const hookNow = () => String(Math.floor(Date.now() / 1000));

/** Posts a vote to the bridge's `ops` webhook as the ops portal would, signed unless told otherwise. */
export async function opsHook(body: Record<string, unknown>, opts: { secret?: string; timestamp?: string; delivery?: string } = {}) {
  const raw = JSON.stringify(body);
  const timestamp = opts.timestamp ?? hookNow();
  const delivery = opts.delivery ?? randomUUID();
  const signature = hookSignature(opts.secret ?? channelSecrets.AIRGATE_HOOK_OPS_SECRET, timestamp, delivery, raw);
  const res = await fetch(`${stack().bridgeUrl}/hooks/ops`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Airgate-Timestamp': timestamp, 'X-Airgate-Signature': signature, 'X-Airgate-Delivery': delivery },
    body: raw,
  });
  return { status: res.status, replay: res.headers.get('x-airgate-replay'), body: (await res.json()) as any };
}
