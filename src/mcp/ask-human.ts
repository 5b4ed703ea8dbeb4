import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { ElicitResultSchema } from '@modelcontextprotocol/sdk/types.js';
import type { ConfirmationQuestion } from '../core/command/index.js';

/** How long a person has to answer a confirmation before it counts as a refusal. */
export const CONFIRMATION_TIMEOUT_MS = 5 * 60_000;

/**
 * A confirmation asked of the person at the MCP client through elicitation, when the client declared
 * it. Only an explicit accept with `confirm: true` approves; a decline, a cancel, an accept with
 * `confirm: false`, a timeout or any failure refuses. There is deliberately no fallback to a token the
 * model could redeem itself. Returns undefined when the client cannot be asked.
 */
export function humanConfirmer(server: Server): ((q: ConfirmationQuestion) => Promise<boolean>) | undefined {
  if (!server.getClientCapabilities()?.elicitation) return undefined;
  return async (q) => {
    try {
      const details = Object.entries(q.summary).map(([k, v]) => `${k}: ${v}`).join('\n');
      const result = await server.request(
        {
          method: 'elicitation/create',
          params: {
            message: `${q.message}\n\n${details}`,
            requestedSchema: {
              type: 'object',
              properties: { confirm: { type: 'boolean', title: 'Place this order', description: 'Tick to approve this exact order.' } },
              required: ['confirm'],
            },
          },
        },
        ElicitResultSchema,
        { timeout: CONFIRMATION_TIMEOUT_MS },
      );
      return result.action === 'accept' && result.content?.confirm === true;
    } catch {
      return false;
    }
  };
}
