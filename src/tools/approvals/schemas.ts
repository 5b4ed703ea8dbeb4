import { z } from 'zod';
import { Text } from '../../core/schema.js';
import { APPROVAL_ID_RE, REASON_MAX } from '../../core/safety/approvals.js';

export const ApprovalIdIn = z.string().regex(APPROVAL_ID_RE, 'an approval id like apr_…').describe('The approval_id a CONFIRMATION_REQUIRED refusal returned.');

export const ApprovalStatus = z.enum(['pending', 'approved', 'rejected', 'expired', 'used']);

export const ApprovalOut = z.object({
  approval_id: z.string(),
  status: ApprovalStatus.describe('approved: send the same order again with approval_id; used: the order was placed.'),
  account_name: z.string(),
  order: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).describe('The exact order the approval covers.'),
  notional_usdt: z.number().nullable(),
  requester: z.string(),
  channel: z.string(),
  created_at: z.string(),
  expires_at: z.string().describe('Deadline to decide, then to use it.'),
  decided_at: z.string().nullable(),
  decided_by: z.string().nullable(),
  reason: z.string().nullable().describe('The deciding person\'s note (untrusted text).'),
  used_at: z.string().nullable(),
});

/** The decider's note: short, and untrusted for whoever reads it later. */
export const ReasonIn = Text({ min: 1, max: REASON_MAX, trim: true }).describe(`An optional note for the requester, at most ${REASON_MAX} characters.`);
