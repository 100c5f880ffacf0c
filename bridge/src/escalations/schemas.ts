import { z } from '../zod.js';

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
export type Escalation = z.infer<typeof Escalation>;
