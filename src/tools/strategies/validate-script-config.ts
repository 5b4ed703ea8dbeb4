import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { ConfigIn, ScriptNameIn, ValidationOut, validationOut } from './schemas.js';

export const validateScriptConfig = defineCommand({
  name: 'strategies_validate_script_config',
  group: 'strategies',
  title: 'Validate script config',
  description:
    "Checks a config against a script's schema without storing or running anything: valid with the config as the script would read it (defaults filled in) and the market data it needs, or invalid with one issue per field path.",
  risk: 'read',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({ script_name: ScriptNameIn, config: ConfigIn }),
  output: ValidationOut,
  http: { method: 'POST', path: '/scripts/{script_name}/validate' },
  handler: async (input, ctx) => validationOut(ctx.services.strategies.validate('script', input.script_name, input.config)),
});
