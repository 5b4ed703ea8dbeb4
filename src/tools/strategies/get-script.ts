import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { ScriptNameIn, scriptOut, ScriptOut } from './schemas.js';

export const getScript = defineCommand({
  name: 'strategies_get_script',
  group: 'strategies',
  title: 'Get script',
  description: 'One script: its description, the JSON Schema of its config (every field with its default and meaning) and the market data the default config needs.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({ script_name: ScriptNameIn }),
  output: z.object({ script: ScriptOut }),
  http: { method: 'GET', path: '/scripts/{script_name}' },
  handler: async (input, ctx) => ({ script: scriptOut(ctx.services.strategies.get('script', input.script_name)) }),
});
