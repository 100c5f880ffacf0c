import { CHANNEL_NAMES } from '../channels/config.js';
import { z } from '../zod.js';

export const DELIVERY_STATES = ['queued', 'sent', 'failed'] as const;

export const Delivery = z
  .object({
    id: z.number().int(),
    notification_id: z.string(),
    approval_id: z.string(),
    recipient: z.string(),
    channel: z.string(),
    address: z.string().openapi({ description: 'Where the channel sends it (email address, Slack id, URL); empty when none is known' }),
    state: z.enum(DELIVERY_STATES),
    attempts: z.number().int(),
    last_error: z.string().nullable(),
    created_at: z.iso.datetime(),
    sent_at: z.iso.datetime().nullable(),
    next_attempt_at: z.iso.datetime(),
    fallback_of: z.number().int().nullable().openapi({ description: 'The failed delivery this one took over from' }),
  })
  .openapi('Delivery');
export type Delivery = z.infer<typeof Delivery>;

export const DeliveryList = z.object({ items: z.array(Delivery), next_cursor: z.string().nullable() }).openapi('DeliveryList');

export const DeliveryListQuery = z.object({
  state: z.enum(DELIVERY_STATES).optional(),
  channel: z.enum(CHANNEL_NAMES).optional(),
  approval_id: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().regex(/^\d+$/, 'expected a cursor from next_cursor').optional(),
});
export type DeliveryListQuery = z.infer<typeof DeliveryListQuery>;

export const OutboxMessage = z
  .object({
    id: z.string(),
    approval_id: z.string(),
    kind: z.string().openapi({ description: 'request | reminder | escalation | sla_warning | sla_breach | decided' }),
    recipient: z.string().openapi({ description: 'A user name, or role:NAME when a role is addressed' }),
    subject: z.string(),
    text: z.string(),
    created_at: z.iso.datetime(),
    deliveries: z.array(Delivery.pick({ id: true, channel: true, state: true, attempts: true, last_error: true, sent_at: true, fallback_of: true })),
  })
  .openapi('OutboxMessage');
export type OutboxMessage = z.infer<typeof OutboxMessage>;

export const OutboxList = z.object({ items: z.array(OutboxMessage), next_cursor: z.string().nullable() }).openapi('OutboxList');

export const OutboxListQuery = z.object({
  approval_id: z.string().min(1).optional(),
  recipient: z.string().min(1).optional(),
  state: z.enum(DELIVERY_STATES).optional().openapi({ description: 'Messages with a delivery in this state' }),
  channel: z.enum(CHANNEL_NAMES).optional().openapi({ description: 'Messages with a delivery on this channel (with state: that delivery)' }),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).optional(),
});
export type OutboxListQuery = z.infer<typeof OutboxListQuery>;

export const Escalation = z
  .object({
    level: z.number().int(),
    step: z.number().int().openapi({ description: "Index of the policy's escalation step; -1 when the deadline escalated" }),
    approver: z.string().openapi({ description: 'A user name, or role:NAME' }),
    reason: z.string(),
    at: z.iso.datetime(),
  })
  .openapi('Escalation');
export const EscalationList = z.object({ items: z.array(Escalation) }).openapi('EscalationList');
