import type { BotStrategy } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import type { BotListFilter, BotViewer, PerformanceQuery } from './bot-records.js';
import type { BotStore } from './bot-store.js';
import type { BotControl, BotStatus, DeployBot } from './control.js';
import { TAIL_LINES } from './runtime.js';

/**
 * The bots as a process that does not run them sees them: `tradedesk mcp` over stdio shares the
 * server's database but not its broker, so it reads what the bots reported and refuses to change
 * them (a second orchestrator would launch the server's bots a second time). The server process
 * (`tradedesk serve`) runs the bots.
 */
export class StoredBots implements BotControl {
  constructor(private readonly store: BotStore) {}

  deploy(_req: DeployBot): never {
    throw elsewhere('deploy');
  }

  get(id: string) {
    return this.store.get(id);
  }

  list(viewer: BotViewer, f: BotListFilter) {
    return this.store.list(viewer, f);
  }

  start(_id: string): never {
    throw elsewhere('start');
  }

  stop(_id: string, _opts: { skipOrderCancellation: boolean }): never {
    throw elsewhere('stop');
  }

  updateConfig(_id: string, _strategy: BotStrategy): never {
    throw elsewhere('reconfigure');
  }

  async importStrategy(_id: string, _name: string): Promise<never> {
    throw elsewhere('import a strategy into');
  }

  async status(id: string): Promise<BotStatus> {
    const bot = await this.#row(id);
    const [run] = await this.store.runs(id, 1);
    const logs = await this.store.recentLogs(id, 200);
    const crash = bot.observedState === 'error' ? { exitCode: bot.exitCode, tail: logs.filter((l) => l.logger === 'process.output').slice(-TAIL_LINES).map((l) => l.message) } : null;
    return { bot, run: run ?? null, live: null, liveSource: null, crash, recentLogs: logs.slice(-20) };
  }

  async logs(id: string, q: { limit: number; level?: string }) {
    await this.#row(id);
    return this.store.recentLogs(id, q.limit, q.level);
  }

  async fills(id: string, p: { limit: number; cursor?: string }) {
    await this.#row(id);
    return this.store.fills(id, p);
  }

  async events(id: string, q: { type?: string; limit: number }) {
    await this.#row(id);
    return this.store.events(id, q);
  }

  async performance(id: string, q: PerformanceQuery) {
    await this.#row(id);
    return this.store.performanceHistory(id, q);
  }

  async runs(id: string, limit?: number) {
    await this.#row(id);
    return this.store.runs(id, limit);
  }

  archive(_id: string): never {
    throw elsewhere('archive');
  }

  stopBotsFor(_accounts: readonly string[] | null, _reason: string): never {
    throw new AppError('PRECONDITION_FAILED', 'This process cannot stop bots: the server process (tradedesk serve) runs them. The kill switch itself is set, so their new orders are refused.', {
      hint: 'Stop the bots through the server\'s REST API or its MCP endpoint (/mcp), or set the switch there with stop_bots.',
    });
  }

  async #row(id: string) {
    const row = await this.store.get(id);
    if (!row) throw new AppError('NOT_FOUND', `No bot ${id}.`, { hint: 'List bots with GET /bot-orchestration/bots.' });
    return row;
  }
}

const elsewhere = (what: string) =>
  new AppError('PRECONDITION_FAILED', `This process cannot ${what} bots: the server process (tradedesk serve) runs them.`, {
    hint: 'Use the server\'s REST API or its MCP endpoint (/mcp) to control bots; this process can read them.',
  });
