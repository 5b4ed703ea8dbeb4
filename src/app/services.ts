import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { count, eq } from 'drizzle-orm';
import { AccountsService } from '../core/accounts/accounts-service.js';
import { BatchedAuditLog, type AuditLog } from '../core/audit/audit-log.js';
import { AdminPasswordFile } from '../core/auth/admin-password-file.js';
import { Authenticator, type AuthenticatorHooks } from '../core/auth/authenticator.js';
import { LoginGate } from '../core/auth/login.js';
import { LoginThrottle, type LoginThrottleOptions } from '../core/auth/login-throttle.js';
import { generatePassword, hashPassword } from '../core/auth/passwords.js';
import { systemClock, type Clock } from '../core/clock.js';
import { createRegistry, execute, type Registry } from '../core/command/index.js';
import type { Guard } from '../core/command/types.js';
import type { Config } from '../core/config.js';
import { openDatabase, type Database, type Db } from '../core/db/client.js';
import { isFirstStart } from '../core/db/embedded-prestart.js';
import { settings, users } from '../core/db/schema/index.js';
import type { CcxtOptions } from '../core/exchange/ccxt/ccxt-connector.js';
import { Connectors } from '../core/exchange/connectors.js';
import { SimExchange } from '../core/exchange/sim/sim-exchange.js';
import type { Logger } from '../core/logger.js';
import { Modules } from './modules.js';
import { MarketData } from '../core/market-data/market-data.js';
import { MarketDataHub } from '../core/market-data/hub.js';
import { CandleCache } from '../core/market-data/candle-cache.js';
import { candleBackfill, CANDLE_BACKFILL_KIND } from '../core/market-data/candle-backfill.js';
import { Jobs, type JobsDeps } from '../core/jobs/jobs.js';
import { ControllerRuns } from '../core/executors/controller-run.js';
import { ExecutorService, type ExecutorServiceOptions } from '../core/executors/executor-service.js';
import type { RunCommand } from '../core/executors/types.js';
import { createExecutor, restoreExecutor } from '../core/strategy/executors/registry.js';
import { allCommands } from '../tools/index.js';
import { AccountLocks } from '../core/trading/account-locks.js';
import { TradingService } from '../core/trading/trading-service.js';
import { PortfolioService } from '../core/portfolio/portfolio-service.js';
import { Valuation } from '../core/portfolio/valuation.js';
import { UsersService } from '../core/users/users-service.js';
import { PolicyFillGuard } from '../core/safety/fill-guard.js';
import { RiskGuard } from '../core/safety/risk-guard.js';
import { BACKTEST_KIND, backtestRunner } from '../core/backtesting/backtest-job.js';
import { BacktestStore } from '../core/backtesting/backtest-store.js';
import { Backtests } from '../core/backtesting/backtests.js';
import { StrategyPool } from '../core/backtesting/worker-pool.js';
import type { KillSwitches } from '../core/safety/kill-switches.js';
import { localTrials, OPTIMIZATION_KIND, optimizationRunner, type TrialsBackend } from '../core/backtesting/optimization-job.js';
import { queuedTrials } from '../core/backtesting/queued-trials.js';
import { type QueueOptions, TrialQueue } from '../core/backtesting/trial-queue.js';
import { TrialStore } from '../core/backtesting/trial-store.js';
import { TrialWorker, type TrialWorkerOptions } from '../core/backtesting/trial-worker.js';
import { OptimizationStore } from '../core/backtesting/optimization-store.js';
import { Optimizations } from '../core/backtesting/optimizations.js';
import { SHIPPED_CONTROLLERS } from '../core/strategy/controllers/index.js';
import { Safety } from '../core/safety/safety.js';
import { loadVaultKey, Vault } from '../core/secrets/vault.js';
import { SHIPPED_SCRIPTS } from '../core/strategy/scripts/index.js';
import { StrategyCatalog } from '../core/strategy-catalog/catalog.js';
import { ControllerConfigs } from '../core/strategy-catalog/controller-configs.js';
import { createBotBroker } from '../core/bots/bot-broker.js';
import { BotStore } from '../core/bots/bot-store.js';
import { RpcBus } from '../core/bots/bus.js';
import { ChildRuntime, type ChildRuntimeOptions } from '../core/bots/child-runtime.js';
import { DockerRuntime } from '../core/bots/docker-runtime.js';
import type { BotControl } from '../core/bots/control.js';
import { BotGateway } from '../core/bots/gateway.js';
import { BotFeed } from '../core/bots/feed.js';
import { BotIngest, type IngestOptions } from '../core/bots/ingest.js';
import { BotOrchestrator, type OrchestratorOptions } from '../core/bots/orchestrator.js';
import { PgBotDirectory } from '../core/bots/pg-directory.js';
import type { BotRuntime } from '../core/bots/runtime.js';
import { ServerLink } from '../core/bots/server-link.js';
import { StoredBots } from '../core/bots/stored-bots.js';
import type { AccountConnectors } from '../core/bots/strategy-check.js';
import type { BotRuntime as BotRuntimeKind } from '../core/db/schema/index.js';
import Docker from 'dockerode';
import { AllowedImages } from '../core/docker/allowed-images.js';
import { DockerHost } from '../core/docker/docker-host.js';
import { IMAGE_PULL_KIND, imagePullRunner } from '../core/docker/image-pull-job.js';

/** Everything a command handler may use, through `ctx.services`. */
export interface Services {
  /** The time every service reads; the order path takes it from here too. */
  clock: Clock;
  config: Config;
  logger: Logger;
  database: Database;
  db: Db;
  vault: Vault;
  connectors: Connectors;
  accounts: AccountsService;
  marketData: MarketData;
  hub: MarketDataHub;
  trading: TradingService;
  /** The per-account order lock, shared by the guards and the order path. */
  locks: AccountLocks;
  portfolio: PortfolioService;
  audit: AuditLog;
  auth: Authenticator;
  /** Every Basic-auth login goes through this: failed-login throttle, then the authenticator. */
  login: LoginGate;
  users: UsersService;
  safety: Safety;
  guards: Guard[];
  /** Persisted long-running work (backfills now; backtests, optimizations, image pulls next). */
  jobs: Jobs;
  /** Executors the server runs itself: created by a command, resumed after a restart. */
  executors: ExecutorService;
  /** Controllers run on the server's order path (in memory; see controller-run.ts). */
  controllerRuns: ControllerRuns;
  backtests: Backtests;
  optimizations: Optimizations;
  /** The controllers and scripts this server can run: shipped, and the operator's from STRATEGIES_DIR. */
  strategies: StrategyCatalog;
  /** Saved, versioned controller configs. */
  controllerConfigs: ControllerConfigs;
  /** Bots: deploy, control and read what they report (the orchestrator). */
  bots: BotControl;
  /** The bots' live events (state, status, logs, performance) as they happen, for WS /bot-orchestration/stream. */
  botFeed: BotFeed;
  /** The Docker host for the admin's docker commands: daemon, images, containers, pulls. */
  docker: DockerHost;
  /** The admin's allow-list of images bots may run. */
  allowedImages: AllowedImages;
  close(): Promise<void>;
}

declare module '../core/command/types.js' {
  /** Handlers reach every service through `ctx.services`. */
  interface CommandServices extends Services {}
}

export interface StartupFacts {
  /** Set only on the first start in embedded mode: the generated admin password, to print once. */
  generatedAdmin?: { username: string; password: string; file: string };
  vaultKeySource: 'env' | 'file' | 'generated';
  createdDefaultAccount: boolean;
}

export interface ServiceOptions {
  /** Per-exchange ccxt settings (tests point an exchange at a local fixture). */
  ccxt?: (exchange: string) => CcxtOptions;
  /**
   * The clock every service reads (default: the wall clock). Tests pin it, so that sim prices do not move
   * between two calls, and move it past the lifetimes of tokens and approvals.
   */
  clock?: Clock;
  /** Failed-login throttle settings (tests use small limits). */
  loginThrottle?: Partial<LoginThrottleOptions>;
  /** Seams in login verification (tests hold a verification between its read and its cache write). */
  authHooks?: AuthenticatorHooks;
  /** Job settings (tests use short heartbeats, a fake instance id, another concurrency). */
  jobs?: Pick<JobsDeps, 'clock' | 'instanceId' | 'options'>;
  /** Executor service settings (tests drive its cycles themselves with `intervalMs: null`). */
  executors?: Partial<ExecutorServiceOptions>;
  /** Optimization queue settings (tests use short batch timeouts and a fast maintenance). */
  optimizationQueue?: Partial<QueueOptions> & { worker?: Partial<TrialWorkerOptions>; pollMs?: number };
  /**
   * Start the background loops too: resting orders matched every second, portfolio snapshots. A server
   * does; a test that drives matching itself does not.
   */
  background?: boolean;
  /** Bot settings: the child runtime's bot command (tests run the built CLI or a script), more runtimes (docker), timeouts. */
  bots?: {
    /**
     * false: this process reads the bots but does not run them (no broker, no orchestrator): `tradedesk
     * mcp` over stdio beside a server, which runs them. Default true.
     */
    run?: boolean;
    command?: ChildRuntimeOptions['command'];
    /** Replace the runtimes (a test without a docker runtime: `{ docker: undefined }`). */
    runtimes?: Partial<Record<BotRuntimeKind, BotRuntime | undefined>>;
    /** The image docker bots run when their deploy names none (default BOT_IMAGE: tradedesk:local, `npm run build:image`). */
    image?: string;
    orchestrator?: OrchestratorOptions;
    ingest?: Pick<IngestOptions, 'flushMs' | 'maxBatch' | 'knownTtlMs' | 'performanceRetentionMs' | 'pruneEveryMs'>;
  };
  /** The docker commands' daemon (default: DOCKER_HOST or the local socket) and pull timeout. */
  docker?: { daemon?: Docker; pullIdleTimeoutMs?: number };
}

export class StartupError extends Error {}

/**
 * Opens the database, the vault and the domain modules, prepares a fresh install and starts the
 * modules in wiring order. `services.close()` stops them in reverse: one list, kept by `Modules`.
 */
export async function createServices(config: Config, logger: Logger, options: ServiceOptions = {}): Promise<{ services: Services; facts: StartupFacts }> {
  const clock = options.clock ?? systemClock;
  const modules = new Modules(logger);
  // A first start's admin password is hashed while the database is created: scrypt is slow on purpose,
  // and after the database it would add its time to the first start.
  const firstAdmin = !config.apiUsername && !config.databaseUrl && config.embeddedDatabase === 'postgres' && isFirstStart(join(config.dataDir, 'pg')) ? newAdminSecret() : undefined;
  firstAdmin?.catch(() => undefined); // awaited (and its failure reported) by ensureAdmin
  const database: Database = await openDatabase({ url: config.databaseUrl, dataDir: join(config.dataDir, 'pg'), embedded: config.embeddedDatabase, logger });
  modules.add('database', { stop: () => database.close() });
  try {
    const { db } = database;
    const { key, source } = loadVaultKey(config.vaultKey, join(config.dataDir, 'vault.key'));
    const vault = new Vault(key);
    await checkVaultKey(db, vault);

    const auth = new Authenticator(db, clock, config.apiUsername && config.apiPassword ? { username: config.apiUsername, password: config.apiPassword } : undefined, options.authHooks);
    const adminPasswordFile = new AdminPasswordFile(config.dataDir, clock);
    const generatedAdmin = config.apiUsername ? undefined : await ensureAdmin(db, adminPasswordFile, clock, firstAdmin);
    const login = new LoginGate(new LoginThrottle(clock, options.loginThrottle), auth, clock);
    login.onSuccess((p) => adminPasswordFile.loggedIn(p.name));
    const connectors = new Connectors(options.ccxt, new SimExchange(config.simSeed, clock), clock);
    const accounts = new AccountsService(database, vault, connectors, clock);
    const createdDefaultAccount = await accounts.ensureDefaults();
    const audit = modules.add('audit', new BatchedAuditLog(database, logger));
    const candleCache = new CandleCache(db);
    const marketData = new MarketData(connectors, candleCache, clock);
    const hub = modules.add('market data hub', new MarketDataHub(marketData, logger));
    const valuation = new Valuation(marketData, clock);
    const locks = new AccountLocks(database);
    const trading = modules.add('trading', new TradingService(database, connectors, accounts, logger, clock, locks, new PolicyFillGuard(connectors, valuation, logger, clock), { matchEveryMs: options.background ? 1000 : null }));
    const portfolio = modules.add('portfolio', new PortfolioService(db, accounts, trading, valuation, logger, clock, { snapshotEveryMs: options.background ? config.portfolioSnapshotMinutes * 60_000 : null }));
    const safety = new Safety(database, connectors, accounts, trading, valuation, logger, clock, locks);
    // Alone on an embedded database (PGlite always is), whatever jobs it finds unfinished at start are orphans.
    const alone = database.kind === 'pglite' || (database.embedded?.alone() ?? false);
    // Before the jobs: stopped after them, so a coordinator that stops still cancels its batches.
    const trialQueue = config.optimizationQueue === 'postgres' ? modules.add('optimization queue', openTrialQueue(config, database, logger, options.optimizationQueue)) : undefined;
    // Before the jobs too: stopped after them, so a backtest or optimization cut off by a stop sees its
    // signal and ends `interrupted`, rather than failing first on a pool torn down under it.
    const strategyPool = modules.add('strategy pool', new StrategyPool({ maxThreads: availableParallelism(), idleTimeoutMs: 60_000 }));
    const jobs = modules.add('jobs', new Jobs({ db, logger, clock, ...options.jobs, options: { exclusive: alone, ...options.jobs?.options } }));
    jobs.register(CANDLE_BACKFILL_KIND, candleBackfill(connectors, candleCache));
    const strategies = modules.add('strategy catalog', new StrategyCatalog({ controllers: SHIPPED_CONTROLLERS, scripts: SHIPPED_SCRIPTS, dir: config.strategiesDir, logger }));
    const backtestStore = new BacktestStore(db);
    jobs.register(BACKTEST_KIND, backtestRunner({ connectors, candles: marketData, pool: strategyPool, store: backtestStore, controllers: strategies }));
    const optimizationStore = new OptimizationStore(db);
    const trials = trialQueue ? queuedOptimizationTrials(config, database.db, trialQueue, logger, clock, { strategyPool, marketData, candleCache, strategies, modules }, options.optimizationQueue) : localTrials(strategyPool);
    jobs.register(OPTIMIZATION_KIND, optimizationRunner({ connectors, candles: marketData, trials, store: optimizationStore, controllers: strategies }));
    const users = new UsersService(db, auth, clock);
    // Executors place their orders through the command pipeline, as the principal who created them,
    // exactly as that principal's own REST or MCP call would: role, scope, guards, journal.
    const registry = createRegistry(allCommands);
    const run = commandRunner(registry, () => services, logger);
    const executors = modules.add(
      'executors',
      new ExecutorService(
        { db, marketData, trading, users, clock, logger, factory: { create: createExecutor, restore: restoreExecutor }, run },
        { intervalMs: options.background ? config.executorIntervalMs : null, staleAfterMs: Math.max(10_000, config.executorIntervalMs * 10), exclusive: alone, ...options.executors },
      ),
    );

    const botFeed = new BotFeed(logger);
    const allowedImages = new AllowedImages(db, clock, options.bots?.image ?? config.botImage);
    const bots = wireBots({ config, logger, clock, db, vault, users, accounts, connectors, killSwitches: safety.killSwitches, strategies, run, modules, feed: botFeed, images: allowedImages, options: options.bots });
    // Created without touching the daemon: it is asked only when a docker command runs.
    const dockerHost = new DockerHost({ docker: options.docker?.daemon ?? new Docker(), bots, logger: logger.child({ module: 'docker' }), ...(options.docker?.pullIdleTimeoutMs ? { pullIdleTimeoutMs: options.docker.pullIdleTimeoutMs } : {}) });
    jobs.register(IMAGE_PULL_KIND, imagePullRunner(dockerHost));

    const services: Services = {
      clock,
      config,
      logger,
      database,
      db,
      vault,
      connectors,
      accounts,
      marketData,
      hub,
      trading,
      locks,
      portfolio,
      audit,
      auth,
      login,
      users,
      safety,
      guards: [new RiskGuard(safety, trading, clock)],
      jobs,
      executors,
      controllerRuns: new ControllerRuns({ marketData, trading, users, clock, run, createExecutor }),
      backtests: new Backtests(jobs, backtestStore, strategies, connectors, clock),
      optimizations: new Optimizations(jobs, optimizationStore, strategies, connectors, clock),
      strategies,
      controllerConfigs: new ControllerConfigs(db, strategies, clock),
      bots,
      botFeed,
      docker: dockerHost,
      allowedImages,
      close: () => modules.stop(),
    };
    // Started once `services` exists: the executors module resumes executors at start, and their
    // orders run through execute() with these services.
    await modules.start();
    return { services, facts: { generatedAdmin, vaultKeySource: source, createdDefaultAccount } };
  } catch (err) {
    await modules.stop();
    throw err;
  }
}

/**
 * The bots' plane, as modules in the order each needs the one before: the broker, the server's link to
 * it with the request/reply bus, the gateway answering bots' RPCs, the ingest of their reports, and the
 * orchestrator (which brings back the bots meant to run). A server that never deploys a bot pays for a
 * broker listening on 127.0.0.1, one connection to it and one query at start.
 */
function wireBots(d: {
  config: Config;
  logger: Logger;
  clock: Clock;
  db: Db;
  vault: Vault;
  users: UsersService;
  accounts: AccountsService;
  connectors: Connectors;
  killSwitches: KillSwitches;
  strategies: StrategyCatalog;
  run: RunCommand;
  modules: Modules;
  feed: BotFeed;
  images: AllowedImages;
  options: ServiceOptions['bots'];
}): BotControl {
  const logger = d.logger.child({ module: 'bots' });
  const store = new BotStore(d.db, d.clock);
  if (d.options?.run === false) return new StoredBots(store);
  const broker = d.modules.add('bot broker', createBotBroker({ mqttUrl: d.config.mqttUrl, mqttPort: d.config.mqttPort, kind: d.config.mqttBroker, emqx: d.config.emqx, db: d.db, vault: d.vault, logger: d.logger }));
  const link = d.modules.add('bot link', new ServerLink(broker, logger));
  const bus = new RpcBus(link, { clock: d.clock, nodeId: 'tradedesk-server', replies: 'hbot/+/reply/+', logger });
  d.modules.add('bot bus', { start: () => bus.start(), stop: () => bus.stop() });
  const gateway = new BotGateway(bus, { run: d.run, directory: new PgBotDirectory(store, d.users), logger });
  d.modules.add('bot gateway', { start: () => gateway.start() });
  const ingest = d.modules.add(
    'bot ingest',
    new BotIngest({
      link,
      store,
      clock: d.clock,
      logger,
      feed: d.feed,
      deployed: async (id) => {
        const row = await store.get(id);
        return !!row && !row.archivedAt;
      },
      allDeployed: () => store.deployedIds(),
      ...d.options?.ingest,
    }),
  );
  const stateDir = resolve(d.config.dataDir, 'bots');
  // A bot loads the operator's strategies from the same folder as the server.
  const env = { ...process.env, STRATEGIES_DIR: resolve(d.config.strategiesDir) };
  const runtimes: Partial<Record<BotRuntimeKind, BotRuntime | undefined>> = {
    child: new ChildRuntime({ command: d.options?.command, env, logger }),
    // Created without touching the daemon: it is asked only when a bot is deployed or brought back.
    docker: new DockerRuntime({
      image: d.options?.image ?? d.config.botImage,
      logger,
      brokerUrl: d.config.botMqttUrl,
      stateDirs: d.config.botStateHostDir ? { local: stateDir, host: d.config.botStateHostDir } : undefined,
    }),
    ...d.options?.runtimes,
  };
  const orchestrator = new BotOrchestrator(
    { store, credentials: broker.credentials, brokerUrl: () => broker.url(), bus, ingest, runtimes, strategies: d.strategies, accounts: accountConnectors(d.accounts, d.connectors), killSwitches: d.killSwitches, clock: d.clock, logger, stateDir, feed: d.feed, images: d.images },
    d.options?.orchestrator,
  );
  d.modules.add('bot orchestrator', { start: () => orchestrator.open(), stop: () => orchestrator.close() });
  link.onReconnect(() => orchestrator.reconcileAll());
  return orchestrator;
}

/** The connectors of an account as the orchestrator asks for them: null for an account that does not exist. */
function accountConnectors(accounts: AccountsService, connectors: Connectors): AccountConnectors {
  return {
    connectorsOf: (name) =>
      accounts.get(name).then(
        (a) => a.connectors.map((c) => c.connector_name),
        (err: unknown) => ((err as { code?: string }).code === 'NOT_FOUND' ? null : Promise.reject(err)),
      ),
    // An exchange out of reach says nothing about its pairs: the deploy goes on, and the bot finds out.
    pairsOf: (connector) =>
      connectors.get(connector).then(
        async (c) => (await c.loadMarkets()).map((m) => m.trading_pair),
        () => null,
      ).catch(() => null),
  };
}

/**
 * Runs a command through execute() as a principal: how the server's own domains (executors, bots'
 * requests) reach the command pipeline exactly as a REST or MCP caller does. `services` is read at
 * each call: the composition root binds it before the services object exists.
 */
export function commandRunner(registry: Registry, services: () => Services, logger: Logger): RunCommand {
  return (name, input, as) =>
    execute(registry, name, input, { services: services(), principal: as.principal, surface: { channel: as.channel, toolsets: 'all', readOnly: false }, requestId: as.requestId, logger, ...(as.automated ? { automated: true } : {}) });
}

/** The Postgres job queue of optimization trials; it connects on first use. */
function openTrialQueue(config: Config, database: Database, logger: Logger, options: ServiceOptions['optimizationQueue'] = {}): TrialQueue {
  if (!database.url) throw new StartupError('OPTIMIZATION_QUEUE=postgres needs a Postgres database; PGlite runs optimization trials on this process\'s pool only');
  const { worker: _, pollMs: __, ...queueOptions } = options;
  return new TrialQueue(database.url, logger, { batchTimeoutSeconds: config.optimizationBatchTimeoutSeconds, ...queueOptions });
}

/**
 * Optimization trials through the queue, where this process is one worker among any `tradedesk worker`
 * processes sharing the database. Its own worker starts with the first optimization it coordinates, so
 * a server that never optimizes opens no connection for the queue.
 */
function queuedOptimizationTrials(
  config: Config,
  db: Db,
  queue: TrialQueue,
  logger: Logger,
  clock: Clock,
  m: { strategyPool: StrategyPool; marketData: MarketData; candleCache: CandleCache; strategies: StrategyCatalog; modules: Modules },
  options: ServiceOptions['optimizationQueue'] = {},
): TrialsBackend {
  const store = new TrialStore(db);
  // A batch of another server with another SIM_SEED gets a sim of that seed: every worker computes the same candles.
  const candles = (seed: string) => (seed === config.simSeed ? m.marketData : new MarketData(new Connectors(undefined, new SimExchange(seed, clock), clock), m.candleCache, clock));
  const worker = new TrialWorker({ queue, store, pool: m.strategyPool, candles, controllers: m.strategies, clock, logger }, options.worker);
  // Stop only: the worker starts with the first optimization (prime), not with the server.
  m.modules.add('optimization worker', { stop: () => worker.stop() });
  return queuedTrials({ queue, store, local: worker, simSeed: config.simSeed, clock, logger, ...(options.pollMs ? { pollMs: options.pollMs } : {}) });
}

/** Refuses to start with a different key than the one that sealed the stored credentials. */
async function checkVaultKey(db: Db, vault: Vault): Promise<void> {
  const fp = vault.fingerprint();
  const [row] = await db.select().from(settings).where(eq(settings.key, 'vault_key_fingerprint'));
  if (!row) {
    await db.insert(settings).values({ key: 'vault_key_fingerprint', value: fp }).onConflictDoNothing();
    return;
  }
  if (row.value !== fp) {
    throw new StartupError(
      'the vault key differs from the one that sealed the stored exchange credentials; start with the original VAULT_KEY (or DATA_DIR/vault.key)',
    );
  }
}

/**
 * First embedded start with no configured credentials: one admin with a strong generated password,
 * also written to DATA_DIR/admin-password.txt (0600) before the server listens, so that a start that
 * fails later, or whose console nobody reads, does not lose it.
 */
interface AdminSecret {
  password: string;
  hash: string;
}

async function newAdminSecret(): Promise<AdminSecret> {
  const password = generatePassword();
  return { password, hash: await hashPassword(password) };
}

async function ensureAdmin(db: Db, file: AdminPasswordFile, clock: Clock, prepared?: Promise<AdminSecret>): Promise<StartupFacts['generatedAdmin']> {
  const [row] = await db.select({ n: count() }).from(users);
  if ((row?.n ?? 0) > 0) return undefined;
  const { password, hash } = await (prepared ?? newAdminSecret());
  const at = clock.date();
  const inserted = await db.insert(users).values({ username: 'admin', passwordHash: hash, role: 'admin', createdAt: at, updatedAt: at }).onConflictDoNothing().returning();
  if (!inserted.length) return undefined;
  file.write('admin', password);
  return { username: 'admin', password, file: file.path };
}
