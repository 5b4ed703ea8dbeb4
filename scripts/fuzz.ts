/**
 * `npm run fuzz`: the fuzz of test/security/fuzz.test.ts with more inputs, against a freshly started
 * server (a temporary embedded database, or a new database on DATABASE_URL's server). Prints the same
 * one-line summary, the broken rules if any, and exits non-zero when a rule was broken.
 *
 *   FUZZ_RUNS=20000 FUZZ_SEED=7 npm run fuzz
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { privateDatabase, testConfig } from '../test/helpers/config.js';
import { startServer } from '../src/app/server.js';
import { createLogger } from '../src/core/logger.js';
import { fuzzCases, runFuzz, summaryLine } from '../test/helpers/fuzz.js';
import { mcpClient } from '../test/helpers/mcp-call.js';

// The MCP client adds an abort listener per request to a shared signal; thousands are expected here.
setMaxListeners(0);

const runs = Number(process.env.FUZZ_RUNS ?? 10_000);
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const admin = { username: 'fuzz_admin', password: randomBytes(12).toString('hex') };
const authorization = `Basic ${Buffer.from(`${admin.username}:${admin.password}`).toString('base64')}`;

async function main(): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'td-fuzz-'));
  const db = process.env.DATABASE_URL ? await privateDatabase(process.env.DATABASE_URL, 'td_fuzz') : undefined;
  const dropDb = async () => db?.drop();
  const config = testConfig({ dataDir, databaseUrl: db?.url, admin });
  // Hundreds of malformed Basic-auth headers come from this one address: the login throttle would lock it out.
  const server = await startServer(config, createLogger('silent'), { loginThrottle: { maxPerAddress: Number.MAX_SAFE_INTEGER, maxPerUser: Number.MAX_SAFE_INTEGER } });
  const mcp = await mcpClient(server.url, authorization, 'fuzz-script');
  try {
    const started = Date.now();
    const cases = fuzzCases(server.registry.commands, seed, runs);
    const count = async (q: ReturnType<typeof sql>) => ((await server.services.db.execute(q)) as unknown as { rows: Array<{ n: number }> }).rows[0]!.n;
    await server.services.audit.flush();
    const mcpBefore = await count(sql`select count(*)::int as n from audit_events where channel = 'mcp'`);
    const out = await runFuzz({ baseUrl: server.url, commands: server.registry.commands, authorization, mcp }, cases, 'fzs');
    await server.services.audit.flush();
    const perId = ((await server.services.db.execute(sql`select request_id, count(*)::int as n from audit_events where request_id like 'fzs-%' group by request_id`)) as unknown as { rows: Array<{ request_id: string; n: number }> }).rows;
    const rowsOf = new Map(perId.map((r) => [r.request_id, r.n]));
    for (const id of out.journaledRestIds) if (rowsOf.get(id) !== 1) out.failures.push(`${id}: ${rowsOf.get(id) ?? 0} journal rows: ${out.restRequests.get(id)}`);
    for (const id of out.unjournaledRestIds) if (rowsOf.has(id)) out.failures.push(`${id}: journaled though refused before execute(): ${out.restRequests.get(id)}`);
    const restRows = perId.reduce((s, r) => s + r.n, 0);
    const mcpRows = (await count(sql`select count(*)::int as n from audit_events where channel = 'mcp'`)) - mcpBefore;
    const alive = (await fetch(`${server.url}/connectors/sim`, { headers: { authorization } })).status === 200;
    console.log(`${summaryLine(`${db ? 'postgres' : 'embedded'} seed ${seed}`, out)}; journal rows REST ${restRows}/${out.journaledRestIds.length} MCP ${mcpRows}/${out.mcpCalls}; alive ${alive}; ${Math.round((Date.now() - started) / 1000)} s`);
    for (const f of out.failures.slice(0, 50)) console.log(`  ${f}`);
    return out.failures.length === 0 && restRows === out.journaledRestIds.length && mcpRows === out.mcpCalls && alive ? 0 : 1;
  } finally {
    await mcp.close();
    await server.close();
    await dropDb().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
