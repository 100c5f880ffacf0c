import { http, HttpResponse } from 'msw';

import type { Delivery, DeliveryList, Message, MessageList } from '../../api/client';
import { api, page } from './common';

export const messagesUrl = api('messages');
export const deliveriesUrl = api('deliveries');

const delivery = (id: number, fields: Partial<Delivery> = {}): Delivery => ({
  id,
  channel: 'email',
  state: 'sent',
  attempts: 1,
  last_error: null,
  sent_at: '2025-11-25T09:01:00.000Z',
  fallback_of: null,
  ...fields,
});

const message = (index: number, fields: Partial<Message> = {}): Message => ({
  id: `msg-${index}`,
  approval_id: 'apr-release',
  kind: 'request',
  recipient: `approver${index}`,
  subject: `Approval needed: Release 2.4 (${index})`,
  text: 'Please review the release.',
  created_at: new Date(Date.parse('2025-11-25T09:00:00.000Z') + index * 60_000).toISOString(),
  deliveries: [delivery(index * 10)],
  ...fields,
});

export const sentMessages: Message[] = [
  message(0, { recipient: 'bob', deliveries: [delivery(1, { channel: 'slack' })] }),
  message(1, {
    recipient: 'carol',
    kind: 'reminder',
    deliveries: [
      delivery(2, { state: 'failed', attempts: 5, last_error: 'SMTP 550: mailbox unavailable', sent_at: null }),
      delivery(3, { channel: 'messages', fallback_of: 2 }),
    ],
  }),
  message(2, { recipient: 'role:op', deliveries: [delivery(4, { state: 'queued', attempts: 0, sent_at: null })] }),
  ...Array.from({ length: 120 }, (_, index) => message(index + 3)),
];

const failedDeliveries = sentMessages.flatMap((m) =>
  m.deliveries
    .filter(({ state }) => state === 'failed')
    .map((d) => ({
      ...d,
      notification_id: m.id,
      approval_id: m.approval_id,
      recipient: m.recipient,
      address: '',
      created_at: m.created_at,
      next_attempt_at: m.created_at,
    })),
);

// The messages people received (the Messages page) and the deliveries that failed.
export const messagesHandlers = [
  http.get(messagesUrl, ({ request }) => {
    const query = new URL(request.url).searchParams;
    const state = query.get('state');
    const items = sentMessages.filter((m) => state === null || m.deliveries.some((d) => d.state === state));
    return HttpResponse.json<MessageList>(page(items, query, 100));
  }),
  http.get(deliveriesUrl, ({ request }) => {
    const query = new URL(request.url).searchParams;
    return HttpResponse.json<DeliveryList>(
      page(query.get('state') === 'failed' ? failedDeliveries : [], query, 50) as DeliveryList,
    );
  }),
];
