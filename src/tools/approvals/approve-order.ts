import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { ApprovalIdIn, ApprovalOut, ReasonIn } from './schemas.js';

export const approveOrder = defineCommand({
  name: 'approvals_approve_order',
  group: 'approvals',
  title: 'Approve order',
  description:
    'Approves a pending order so that its requester can place it once, exactly as parked, within 15 minutes. The approver must be a different user than the requester. Admin only, REST only: no agent can approve an order.',
  risk: 'admin',
  idempotent: false,
  openWorld: false,
  channels: ['rest'],
  input: z.strictObject({ approval_id: ApprovalIdIn, reason: ReasonIn.optional() }),
  output: z.object({ approval: ApprovalOut }),
  http: { method: 'POST', path: '/trading/approvals/{approval_id}/approve' },
  handler: async (input, ctx) => ({ approval: await ctx.services.safety.approvals.decide(input.approval_id, ctx.principal, 'approved', input.reason ?? null) }),
});
