import { z } from 'zod';
import { NonNegativeDecimalIn, Text } from '../../core/schema.js';
import { Connector } from '../fields.js';

export const CredentialField = z.enum(['api_key', 'secret', 'password', 'uid', 'login', 'private_key', 'wallet_address', 'account_id', 'token', 'twofa']);

export const ConnectorAttachment = z.strictObject({
  connector_name: Connector,
  credentials: z
    .partialRecord(CredentialField, Text({ min: 1, max: 4096, multiline: true, trim: true }))
    .optional()
    .describe('Credential fields for a live exchange connector (GET /connectors/{name} lists the ones it needs). Stored encrypted, never returned.'),
  paper_balances: z
    .record(z.string().regex(/^[A-Z0-9]{1,20}$/, 'an asset symbol in capitals'), NonNegativeDecimalIn)
    .optional()
    .describe('Starting balances for a sim or *_paper_trade connector, e.g. {"USDT": 10000, "BTC": 1}. Defaults to 10000 USDT and 1 BTC.'),
});

export const AccountOut = z.object({
  account_name: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  connectors: z.array(
    z.object({
      connector_name: z.string(),
      kind: z.string(),
      credentials: z.record(z.string(), z.string()).describe('Credential fields, masked.'),
      updated_at: z.string(),
    }),
  ),
});

export const BalanceOut = z.object({
  asset: z.string(),
  total: z.number(),
  available: z.number(),
  locked: z.number(),
});
