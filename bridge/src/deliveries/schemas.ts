import { Channel } from '../channels/config.js';
import { z } from '../zod.js';

export const DELIVERY_STATES = ['queued', 'sent', 'failed'] as const;

export const Delivery = z
  .object({
    id: z.number().int(),
    notification_id: z.string(),
    approval_id: z.string(),
    recipient: z.string(),
    channel: z.string(),
    address: z.string().nullable().openapi({
      description:
        'Where the channel sends it (email address, Slack id, URL; empty when none is known). Addresses are bearer secrets: null unless the caller is an Airflow admin',
    }),
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

export const ApprovalDeliveries = z
  .object({ approval_id: z.string(), items: z.array(Delivery) })
  .openapi('ApprovalDeliveries', { description: "Every delivery of one approval's messages, oldest first, without addresses" });
export type ApprovalDeliveries = z.infer<typeof ApprovalDeliveries>;

export const DeliveryListQuery = z.object({
  state: z.enum(DELIVERY_STATES).optional(),
  channel: Channel.optional(),
  approval_id: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().regex(/^\d+$/, 'expected a cursor from next_cursor').optional(),
});
export type DeliveryListQuery = z.infer<typeof DeliveryListQuery>;

export const Message = z
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
  .openapi('Message');
export type Message = z.infer<typeof Message>;

export const MessageList = z.object({ items: z.array(Message), next_cursor: z.string().nullable() }).openapi('MessageList');

export const MessageListQuery = z.object({
  approval_id: z.string().min(1).optional(),
  recipient: z.string().min(1).optional(),
  state: z.enum(DELIVERY_STATES).optional().openapi({ description: 'Messages with a delivery in this state' }),
  channel: Channel.optional().openapi({ description: 'Messages with a delivery on this channel (with state: that delivery)' }),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).optional(),
});
export type MessageListQuery = z.infer<typeof MessageListQuery>;
