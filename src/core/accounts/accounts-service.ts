import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import type { Database, Db } from '../db/client.js';
import { accountConnectors, accounts, type AccountConnectorRow } from '../db/schema/index.js';
import type { Connectors } from '../exchange/connectors.js';
import type { Balance, ConnectorInfo } from '../exchange/types.js';
import { maskSecret, MASK } from '../secrets/redact.js';
import type { Vault } from '../secrets/vault.js';
import { refuseWhileTrading } from './account-holdings.js';
import { DEFAULT_PAPER_BALANCES, PaperLedger, type AttachedConnector } from './paper-ledger.js';

export const MASTER_ACCOUNT = 'master_account';

export interface ConnectorAttachment {
  connector_name: string;
  credentials?: Record<string, string>;
  paper_balances?: Record<string, string>;
}

export interface AccountView {
  account_name: string;
  created_at: string;
  updated_at: string;
  connectors: Array<{ connector_name: string; kind: string; credentials: Record<string, string>; updated_at: string }>;
}

export interface ConnectorBalances {
  connector_name: string;
  status: 'ok' | 'error';
  balances: Balance[];
  error?: { code: string; message: string; hint?: string };
}

/** Fields whose first and last characters may be shown to help recognise them; all others are fully masked. */
const PARTLY_SHOWN = new Set(['api_key', 'uid', 'login', 'wallet_address', 'account_id']);

/**
 * Accounts and the connectors attached to them. Credentials are validated against what the connector
 * needs, sealed by the vault before they touch the database, and only ever read back masked.
 */
export class AccountsService {
  readonly ledger: PaperLedger;
  private readonly db: Db;

  constructor(
    database: Pick<Database, 'db' | 'sql'>,
    private readonly vault: Vault,
    private readonly connectors: Connectors,
    private readonly clock: Clock,
  ) {
    this.db = database.db;
    this.ledger = new PaperLedger(database);
  }

  async list(): Promise<AccountView[]> {
    const rows = await this.db.select().from(accounts).orderBy(asc(accounts.name));
    const conns = await this.db.select().from(accountConnectors).orderBy(asc(accountConnectors.connectorName));
    return Promise.all(rows.map((a) => this.#view(a, conns.filter((c) => c.accountName === a.name))));
  }

  async get(name: string): Promise<AccountView> {
    const [row] = await this.db.select().from(accounts).where(eq(accounts.name, name));
    if (!row) throw notFound(name);
    const conns = await this.db.select().from(accountConnectors).where(eq(accountConnectors.accountName, name)).orderBy(asc(accountConnectors.connectorName));
    return this.#view(row, conns);
  }

  async create(name: string, attach: ConnectorAttachment[]): Promise<AccountView> {
    const prepared = await this.#prepare(attach);
    await this.db.transaction(async (tx) => {
      const at = this.clock.date();
      const inserted = await tx.insert(accounts).values({ name, createdAt: at, updatedAt: at }).onConflictDoNothing().returning();
      if (inserted.length === 0) {
        throw new AppError('CONFLICT', `Account ${name} already exists.`, { hint: 'Use PUT /accounts/{account_name} to change its connectors.' });
      }
      await this.#attach(tx as unknown as Db, name, prepared);
    });
    return this.get(name);
  }

  async update(name: string, attach: ConnectorAttachment[], remove: string[]): Promise<AccountView> {
    const prepared = await this.#prepare(attach);
    await this.db.transaction(async (tx) => {
      const [row] = await tx.select().from(accounts).where(eq(accounts.name, name)).for('update');
      if (!row) throw notFound(name);
      if (remove.length) {
        const existing = await tx.select().from(accountConnectors).where(and(eq(accountConnectors.accountName, name), inArray(accountConnectors.connectorName, remove)));
        const missing = remove.filter((r) => !existing.some((e) => e.connectorName === r));
        if (missing.length) throw new AppError('NOT_FOUND', `Account ${name} has no connector ${missing.join(', ')}.`, { details: { remove_connectors: missing } });
        await refuseWhileTrading(tx as unknown as Db, name, `${remove.join(', ')} on ${name}`, remove);
        await tx.delete(accountConnectors).where(and(eq(accountConnectors.accountName, name), inArray(accountConnectors.connectorName, remove)));
        for (const r of remove) await this.ledger.set(tx as unknown as Db, name, r, {});
      }
      await this.#attach(tx as unknown as Db, name, prepared);
      await tx.update(accounts).set({ updatedAt: this.clock.date() }).where(eq(accounts.name, name));
    });
    return this.get(name);
  }

  async delete(name: string): Promise<void> {
    if (name === MASTER_ACCOUNT) {
      throw new AppError('PRECONDITION_FAILED', `${MASTER_ACCOUNT} is the default account and cannot be deleted.`, { hint: 'Remove its connectors with PUT instead.' });
    }
    await this.db.transaction(async (tx) => {
      const [row] = await tx.select().from(accounts).where(eq(accounts.name, name)).for('update');
      if (!row) throw notFound(name);
      await refuseWhileTrading(tx as unknown as Db, name, `Account ${name}`);
      await tx.delete(accounts).where(eq(accounts.name, name));
    });
  }

  /** Balances per attached connector. One unreachable exchange is reported in place, not as a failure of all. */
  async balances(name: string, only?: string): Promise<ConnectorBalances[]> {
    // One query in the common case (connectors and paper balances); the account itself is read only to explain an empty answer.
    const targets = await this.ledger.attached(name, only);
    if (targets.length === 0) {
      const view = await this.get(name);
      if (only) {
        throw new AppError('NOT_FOUND', `Account ${name} has no connector ${only}.`, {
          hint: `Its connectors: ${view.connectors.map((c) => c.connector_name).join(', ') || 'none'}.`,
        });
      }
    }
    return Promise.all(
      targets.map(async (row): Promise<ConnectorBalances> => {
        try {
          return { connector_name: row.connectorName, status: 'ok', balances: await this.#balancesOf(name, row) };
        } catch (err) {
          if (only || !(err instanceof AppError)) throw err;
          return { connector_name: row.connectorName, status: 'error', balances: [], error: { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) } };
        }
      }),
    );
  }

  /** Creates master_account with paper balances on sim on a fresh install, so a first order just works. */
  async ensureDefaults(): Promise<boolean> {
    const [row] = await this.db.select().from(accounts).where(eq(accounts.name, MASTER_ACCOUNT));
    if (row) return false;
    await this.create(MASTER_ACCOUNT, [{ connector_name: 'sim' }, { connector_name: 'sim_perpetual', paper_balances: { USDT: '10000' } }]).catch((err) => {
      if (!(err instanceof AppError && err.code === 'CONFLICT')) throw err;
    });
    return true;
  }

  async #balancesOf(accountName: string, row: AttachedConnector): Promise<Balance[]> {
    const info = await this.connectors.info(row.connectorName);
    if (info.kind !== 'exchange') return row.balances;
    const creds = row.secretBox ? this.#openCredentials({ accountName, connectorName: row.connectorName, secretBox: row.secretBox }) : null;
    const connector = await this.connectors.get(row.connectorName);
    return connector.fetchBalances(creds);
  }

  /** The decrypted credentials of a live connector, for the exchange call only; never returned to callers. */
  async credentialsFor(account: string, connector: string): Promise<Record<string, string>> {
    const [row] = await this.db.select().from(accountConnectors).where(and(eq(accountConnectors.accountName, account), eq(accountConnectors.connectorName, connector)));
    if (!row?.secretBox) {
      throw new AppError('PRECONDITION_FAILED', `Account ${account} has no credentials for ${connector}.`, { hint: `An admin adds them with PUT /accounts/${account}.` });
    }
    return this.#openCredentials(row);
  }

  #openCredentials(row: Pick<AccountConnectorRow, 'accountName' | 'connectorName' | 'secretBox'>): Record<string, string> {
    try {
      return this.vault.openJson(row.secretBox!, aad(row.accountName, row.connectorName));
    } catch (err) {
      throw new AppError('PRECONDITION_FAILED', `The stored credentials of ${row.accountName}/${row.connectorName} cannot be opened.`, {
        hint: 'They were sealed with another vault key or altered; enter them again with PUT /accounts/{account_name}.',
        cause: err,
      });
    }
  }

  async #prepare(attach: ConnectorAttachment[]) {
    const seen = new Set<string>();
    const out: Array<{ info: ConnectorInfo; a: ConnectorAttachment }> = [];
    for (const [i, a] of attach.entries()) {
      if (seen.has(a.connector_name)) throw invalid(`connectors.${i}.connector_name`, `${a.connector_name} is listed twice`);
      seen.add(a.connector_name);
      const info = await this.connectors.info(a.connector_name).catch((err) => {
        if (err instanceof AppError && err.code === 'NOT_FOUND') throw invalid(`connectors.${i}.connector_name`, err.message, err.hint);
        throw err;
      });
      const creds = a.credentials ?? {};
      if (info.kind === 'exchange') {
        const missing = info.credential_fields.filter((f) => !creds[f]);
        if (missing.length) throw invalid(`connectors.${i}.credentials`, `${info.name} needs ${missing.join(', ')}`, `Required fields for ${info.name}: ${info.credential_fields.join(', ')}.`);
        const unknown = Object.keys(creds).filter((k) => !info.credential_fields.includes(k as never) && !['password', 'uid'].includes(k));
        if (unknown.length) throw invalid(`connectors.${i}.credentials`, `${info.name} does not use ${unknown.join(', ')}`, `Fields for ${info.name}: ${info.credential_fields.join(', ')}.`);
        if (a.paper_balances) throw invalid(`connectors.${i}.paper_balances`, `${info.name} is a live connector; paper balances apply to sim and *_paper_trade connectors`);
      } else if (Object.keys(creds).length) {
        throw invalid(`connectors.${i}.credentials`, `${info.name} is a ${info.kind} connector and takes no credentials`);
      }
      out.push({ info, a });
    }
    return out;
  }

  async #attach(tx: Db, account: string, prepared: Array<{ info: ConnectorInfo; a: ConnectorAttachment }>): Promise<void> {
    const at = this.clock.date();
    for (const { info, a } of prepared) {
      const creds = a.credentials ?? {};
      const hasCreds = Object.keys(creds).length > 0;
      const values = {
        accountName: account,
        connectorName: info.name,
        secretBox: hasCreds ? this.vault.sealJson(creds, aad(account, info.name)) : null,
        masked: Object.fromEntries(Object.entries(creds).map(([k, v]) => [k, PARTLY_SHOWN.has(k) ? maskSecret(v) : MASK])),
        updatedAt: at,
      };
      const [existing] = await tx.select().from(accountConnectors).where(and(eq(accountConnectors.accountName, account), eq(accountConnectors.connectorName, info.name)));
      if (existing) await tx.update(accountConnectors).set(values).where(and(eq(accountConnectors.accountName, account), eq(accountConnectors.connectorName, info.name)));
      else await tx.insert(accountConnectors).values({ ...values, createdAt: at });
      if (info.kind !== 'exchange' && (!existing || a.paper_balances)) {
        await this.ledger.set(tx, account, info.name, a.paper_balances ?? DEFAULT_PAPER_BALANCES);
      }
    }
  }

  async #view(a: { name: string; createdAt: Date; updatedAt: Date }, conns: AccountConnectorRow[]): Promise<AccountView> {
    return {
      account_name: a.name,
      created_at: a.createdAt.toISOString(),
      updated_at: a.updatedAt.toISOString(),
      connectors: await Promise.all(
        conns.map(async (c) => ({
          connector_name: c.connectorName,
          kind: (await this.connectors.info(c.connectorName).catch(() => ({ kind: 'unknown' }))).kind,
          credentials: c.masked,
          updated_at: c.updatedAt.toISOString(),
        })),
      ),
    };
  }
}

/** Binds a sealed box to its row, so a box moved to another account or connector does not open. */
function aad(account: string, connector: string): string {
  return `account:${account}/connector:${connector}`;
}

function notFound(name: string): AppError {
  return new AppError('NOT_FOUND', `There is no account named ${name}.`, { hint: 'GET /accounts lists the accounts.', details: { account_name: name } });
}

function invalid(path: string, message: string, hint?: string): AppError {
  return new AppError('VALIDATION_FAILED', `Invalid input: ${path}: ${message}`, {
    hint: hint ?? 'Fix the field and call again.',
    details: { issues: [{ path, message }] },
  });
}
