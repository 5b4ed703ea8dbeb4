import { z } from 'zod';
import { AccountName, ConnectorName, QueryList } from '../../core/schema.js';

export const PortfolioFilter = {
  account_names: QueryList(AccountName).optional().describe('Only these accounts (default all).'),
  connector_names: QueryList(ConnectorName).optional().describe('Only these connectors (default all).'),
  quote: z.string().regex(/^[A-Z0-9]{2,10}$/, 'an asset symbol in capitals').optional().describe('Currency to value in (default USDT).'),
};

export const dec = (d: { toNumber(): number } | null | undefined) => (d ? d.toNumber() : null);
