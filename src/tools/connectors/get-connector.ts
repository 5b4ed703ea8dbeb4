import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { ConnectorOut, connectorOut } from './schemas.js';
import { Connector } from '../fields.js';

export const getConnector = defineCommand({
  name: 'connectors_get_connector',
  group: 'connectors',
  title: 'Get connector',
  description:
    'Describes one connector: its kind, market type, whether it works offline, and which credential fields an account needs for it. Does not contact the exchange.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({ connector_name: Connector }),
  output: ConnectorOut,
  http: { method: 'GET', path: '/connectors/{connector_name}' },
  handler: async (input, ctx) => connectorOut(await ctx.services.connectors.info(input.connector_name)),
});
