import type { Channel } from '../command/types.js';
import type { Principal } from '../principal.js';
import type { ExecutorConfig } from '../strategy/executors/configs.js';
import type { Executor } from '../strategy/types.js';

/**
 * Makes and remakes executors. The strategy registry provides it; the service only needs these two:
 * `create` for a new executor, `restore` to rebuild one exactly from its `state()` after a restart.
 */
export interface ExecutorFactory {
  create(config: ExecutorConfig, id: string, createdAt: number): Executor;
  restore(state: Record<string, unknown>): Executor;
}

/** Who a command runs as, and where it is journaled as coming from. */
export interface RunAs {
  principal: Principal;
  channel: Channel;
  requestId: string;
  /** An order the server places on its own schedule (see CommandContext.automated). */
  automated?: boolean;
}

/**
 * Runs a command through the command pipeline (execute()), as a principal. The composition root binds
 * it to the registry, so this domain reaches the order path exactly as a REST or MCP caller does (role,
 * account scope, guards, kill switch, journal) without importing the commands themselves.
 */
export type RunCommand = (name: string, input: Record<string, unknown>, as: RunAs) => Promise<Record<string, unknown>>;
