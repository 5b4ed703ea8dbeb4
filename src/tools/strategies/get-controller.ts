import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { ControllerNameIn, controllerOut, ControllerOut } from './schemas.js';

export const getController = defineCommand({
  name: 'strategies_get_controller',
  group: 'strategies',
  title: 'Get controller',
  description: "One strategy controller: its type, description, the JSON Schema of its config (every field with its default and meaning) and the market data the default config needs.",
  risk: 'read',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({ controller_name: ControllerNameIn }),
  output: z.object({ controller: ControllerOut }),
  http: { method: 'GET', path: '/controllers/{controller_name}' },
  handler: async (input, ctx) => ({ controller: controllerOut(ctx.services.strategies.get('controller', input.controller_name)) }),
});
