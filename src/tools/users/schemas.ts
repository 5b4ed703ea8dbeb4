import { z } from 'zod';
import { Text } from '../../core/schema.js';

export const Username = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.@-]+$/, 'letters, digits and _ . @ - only').describe('Login name.');
export const Password = Text({ max: 256 }).min(12, 'at least 12 characters').describe('At least 12 characters; stored only as a hash.');
export const RoleEnum = z.enum(['admin', 'trader', 'viewer']).describe('admin: everything; trader: trading under the guardrails, no credentials or policy; viewer: read only.');
export const UserOut = z.object({ username: z.string(), role: RoleEnum, created_at: z.string(), updated_at: z.string() });
