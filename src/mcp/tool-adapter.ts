import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { channelsOf, toJsonSchema, type AnyCommand, type Registry, type Surface } from '../core/command/index.js';
import { compactSchema } from './compact-schema.js';

/** The commands this surface lists: served over MCP, in an enabled toolset, and read-only when asked. */
export function visibleCommands(registry: Registry, surface: Surface): AnyCommand[] {
  return registry.commands.filter(
    (c) => channelsOf(c).includes('mcp') && (surface.toolsets === 'all' || surface.toolsets.has(c.group)) && (!surface.readOnly || c.risk === 'read'),
  );
}

const toolCache = new WeakMap<AnyCommand, Tool>();

/**
 * A command as an MCP tool, with all four annotations set explicitly. Its schemas are the compact form
 * (compact-schema.ts): the listing is read by a model on every conversation. The title is given once,
 * at the top (annotations.title is its older place).
 */
export function toTool(cmd: AnyCommand): Tool {
  let tool = toolCache.get(cmd);
  if (!tool) {
    tool = {
      name: cmd.name,
      title: cmd.title,
      description: cmd.description,
      inputSchema: compactSchema(toJsonSchema(cmd.input, 'input'), 'input') as Tool['inputSchema'],
      outputSchema: compactSchema(toJsonSchema(cmd.output, 'output'), 'output') as Tool['outputSchema'],
      annotations: {
        readOnlyHint: cmd.risk === 'read',
        destructiveHint: cmd.risk === 'destructive' || cmd.destructive === true,
        idempotentHint: cmd.idempotent,
        openWorldHint: cmd.openWorld,
      },
    };
    toolCache.set(cmd, tool);
  }
  return tool;
}
