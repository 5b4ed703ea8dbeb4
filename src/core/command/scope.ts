import { NAME_RE } from '../schema.js';
import { AppError } from '../errors.js';
import type { AnyCommand } from './types.js';
import type { Principal } from '../principal.js';

/**
 * Account scoping: a principal with an account list sees and trades only those accounts, on both faces.
 * execute() calls `checkAccountScope` once per call, after parsing, so a command that names an account
 * (account_name, account_names, or the account its trade intent resolves to) is refused before any
 * guard or handler runs. What an omitted account means differs per command and is declared on it
 * (`accountScope`): 'filtered' lists only the principal's accounts, 'named' makes a scoped principal
 * name one (an omitted account would mean every account, e.g. the global kill switch), and
 * `{ default }` names the account used when none is given.
 *
 * An account outside the list is reported exactly as a missing account (NOT_FOUND, same message): a
 * 403 would confirm that the account exists, which is itself something a scoped agent should not learn.
 */
export type AccountScopeRule = 'filtered' | 'named' | { default: string };

/** The accounts a principal is limited to, or null when it sees every account (admins always do). */
export function accountScope(p: Principal): ReadonlySet<string> | null {
  if (p.role === 'admin' || p.accounts === null || p.accounts === undefined) return null;
  return new Set(p.accounts);
}

/** The account names to filter a listing by: null for every account. Never empty: an empty list reads as "all" in some filters. */
export function scopeList(p: Principal): string[] | null {
  const scope = accountScope(p);
  if (!scope) return null;
  // '#' cannot occur in an account name, so this matches nothing.
  return scope.size ? [...scope] : ['#none'];
}

export function inScope(p: Principal, account: string | null | undefined): boolean {
  const scope = accountScope(p);
  return scope === null || (typeof account === 'string' && scope.has(account));
}

/** The refusal for an account outside the principal's list: indistinguishable from a missing account. */
export function accountNotFound(account: string): AppError {
  return new AppError('NOT_FOUND', `There is no account named ${account}.`, { hint: 'GET /accounts lists the accounts you can use.' });
}

/**
 * Throws when the input names, or defaults to, an account the principal may not use. execute() calls it
 * on the raw input (so that a name outside the list is refused whatever else is wrong with the call;
 * only well-formed names are looked at, a malformed one is left to the 400) and again on the parsed one.
 */
export function checkAccountScope(cmd: AnyCommand, input: unknown, principal: Principal, stage: 'raw' | 'parsed' = 'parsed'): void {
  const scope = accountScope(principal);
  if (!scope) return;
  const fields = (input && typeof input === 'object' ? input : {}) as { account_name?: unknown; account_names?: unknown };
  const named: string[] = [];
  const wellFormed = (a: unknown): a is string => typeof a === 'string' && NAME_RE.test(a);
  if (wellFormed(fields.account_name)) named.push(fields.account_name);
  if (Array.isArray(fields.account_names)) named.push(...fields.account_names.filter(wellFormed));
  if (stage === 'raw') {
    const outside = named.find((a) => !scope.has(a));
    if (outside !== undefined) throw accountNotFound(outside);
    return;
  }
  const rule = cmd.accountScope;
  if (fields.account_name === undefined && 'account_name' in cmd.input.shape) {
    if (rule === 'named') {
      throw new AppError('POLICY_DENIED', `${principal.name} is limited to some accounts, so ${cmd.name} needs an account_name: without one it would act on every account.`, {
        hint: `Name one of your accounts: ${[...scope].join(', ') || '(none)'}.`,
      });
    }
    if (rule && typeof rule === 'object') named.push(rule.default);
  }
  // The account a trade is checked and journaled under is the one that must be in scope.
  if (cmd.trade) named.push(cmd.trade(input as never).account);
  const outside = named.find((a) => !scope.has(a));
  if (outside !== undefined) throw accountNotFound(outside);
}
