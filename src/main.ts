import { prestartEmbedded, releaseUntaken } from './core/db/embedded-prestart.js';
import { createLogger, LOG_LEVELS, type LogLevel } from './core/logger.js';

// The embedded Postgres starts (initdb on a first start) while the server's modules load.
const level = process.env.LOG_LEVEL && (LOG_LEVELS as readonly string[]).includes(process.env.LOG_LEVEL) ? (process.env.LOG_LEVEL as LogLevel) : 'info';
prestartEmbedded(process.argv.slice(2), process.env, createLogger(level));

const { main } = await import('./cli.js');
void main(process.argv.slice(2)).then(async (code) => {
  if (code >= 0) {
    await releaseUntaken();
    process.exit(code);
  }
});
