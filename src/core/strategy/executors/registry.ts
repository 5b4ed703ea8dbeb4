import type { Executor } from '../types.js';
import type { BaseExecutor } from './base.js';
import { ExecutorConfig } from './configs.js';
import { DcaExecutor } from './dca-executor.js';
import { GridExecutor } from './grid-executor.js';
import { OrderExecutor } from './order-executor.js';
import { PositionExecutor } from './position-executor.js';
import { TwapExecutor } from './twap-executor.js';

/** Builds the executor a config names, not yet started (its first tick starts it). */
export function createExecutor(config: ExecutorConfig, id: string, createdAt: number): Executor {
  return build(config, id, createdAt);
}

/**
 * Rebuilds an executor from its state(): the config is parsed again (defaults and checks as at
 * creation), then ledger, working orders, barrier and trailing state are taken back as they were, so
 * ticks and updates after the restore do exactly what they would have done without it.
 */
export function restoreExecutor(state: Record<string, unknown>): Executor {
  const config = ExecutorConfig.parse(state.config);
  return build(config, String(state.id), Number(state.createdAt)).load(state);
}

function build(config: ExecutorConfig, id: string, createdAt: number): BaseExecutor {
  switch (config.type) {
    case 'position':
      return new PositionExecutor(config, id, createdAt);
    case 'order':
      return new OrderExecutor(config, id, createdAt);
    case 'dca':
      return new DcaExecutor(config, id, createdAt);
    case 'grid':
      return new GridExecutor(config, id, createdAt);
    case 'twap':
      return new TwapExecutor(config, id, createdAt);
  }
}
