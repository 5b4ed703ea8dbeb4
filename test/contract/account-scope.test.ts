import { describe, expect, it } from 'vitest';
import type { AuditEvent, AuditLog } from '../../src/core/audit/audit-log.js';
import { systemClock } from '../../src/core/clock.js';
import { createRegistry, execute, toJsonSchema, type AnyCommand, type CommandContext, type CommandServices } from '../../src/core/command/index.js';
import { type Principal } from '../../src/core/principal.js';
import { createLogger } from '../../src/core/logger.js';
import { allCommands } from '../../src/tools/index.js';

/** Keeps the audit rows in memory; nothing else of the services is reachable, so a handler that runs fails loudly. */
class MemoryAudit implements AuditLog {
  events: AuditEvent[] = [];
  async record(e: AuditEvent) {
    this.events.push(e);
  }
  async begin(e: AuditEvent) {
    this.events.push(e);
    return this.events.length - 1;
  }
  async complete() {}
  async flush() {}
}

const registry = createRegistry(allCommands);
const scoped: Principal = { name: 'scoped_agent', role: 'trader', accounts: ['mine'] };
const ctxFor = (principal: Principal): CommandContext => ({
  services: { audit: new MemoryAudit(), guards: [], clock: systemClock } as unknown as CommandServices,
  principal,
  surface: { channel: 'rest', toolsets: 'all', readOnly: false },
  requestId: 'scope-contract',
  logger: createLogger('silent'),
});
const shapeOf = (cmd: AnyCommand) => cmd.input.shape as Record<string, { safeParse(v: unknown): { success: boolean } }>;
/** Admin commands are out of a scoped principal's reach by role, and admins are never scoped. */
const reachable = allCommands.filter((cmd) => cmd.risk !== 'admin');
const naming = reachable.filter((cmd) => 'account_name' in shapeOf(cmd) || 'account_names' in shapeOf(cmd));

/**
 * Account scoping is enforced once, in execute(), on the input fields `account_name` and `account_names`.
 * These checks walk the registry so that a new command cannot escape it: by naming an account some other
 * way, by not being checked, or by leaving open what an omitted account means.
 */
describe('account scope over the whole registry', () => {
  it('finds commands to check', () => {
    expect(naming.length).toBeGreaterThan(10);
  });

  it.each(reachable.map((cmd) => [cmd.name, cmd] as const))('%s names an account only as account_name or account_names', (_name, cmd) => {
    expect(Object.keys(shapeOf(cmd)).filter((k) => /account/i.test(k) && k !== 'account_name' && k !== 'account_names')).toEqual([]);
  });

  it.each(naming.map((cmd) => [cmd.name, cmd] as const))('%s refuses an account outside the list as not found, before it runs', async (name, cmd) => {
    const input = 'account_name' in shapeOf(cmd) ? { account_name: 'not_mine' } : { account_names: ['not_mine'] };
    const err = await execute(registry, name, input, ctxFor(scoped)).then(
      () => null,
      (e: { code: string; message: string }) => e,
    );
    expect(err?.code).toBe('NOT_FOUND');
    expect(err?.message).toBe('There is no account named not_mine.');
  });

  it.each(reachable.map((cmd) => [cmd.name, cmd] as const))('%s declares what an omitted account means when it can omit one or returns account data', (_name, cmd) => {
    const shape = shapeOf(cmd);
    const optionalAccount = ('account_name' in shape && shape.account_name!.safeParse(undefined).success) || 'account_names' in shape;
    const returnsAccounts = JSON.stringify(toJsonSchema(cmd.output, 'output')).includes('"account_name"');
    const requiredAccount = 'account_name' in shape && !shape.account_name!.safeParse(undefined).success;
    if (optionalAccount || (returnsAccounts && !requiredAccount)) expect(cmd.accountScope, `${cmd.name} needs accountScope`).toBeDefined();
  });

  it('an omitted account that means "every account" is refused for a scoped principal (the global kill switch)', async () => {
    const err = await execute(registry, 'safety_set_kill_switch', { reason: 'stop everything' }, ctxFor(scoped)).catch((e: { code: string }) => e);
    expect((err as { code: string }).code).toBe('POLICY_DENIED');
  });

  it('an omitted account that defaults to one is checked as that one', async () => {
    const order = { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' };
    for (const name of ['trading_place_order', 'trading_preview_order']) {
      const err = await execute(registry, name, order, ctxFor(scoped)).catch((e: { code: string; message: string }) => e);
      expect((err as { message: string }).message).toBe('There is no account named master_account.');
    }
  });

  it('a malformed account name is still a 400, not a 404', async () => {
    const err = await execute(registry, 'accounts_get_balances', { account_name: 'bad name!' }, ctxFor(scoped)).catch((e: { code: string }) => e);
    expect((err as { code: string }).code).toBe('VALIDATION_FAILED');
  });
});
