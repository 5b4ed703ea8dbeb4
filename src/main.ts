import { prestartEmbedded, releaseUntaken } from './core/db/embedded-prestart.js';
import { createLogger, LOG_LEVELS, type LogLevel } from './core/logger.js';

const args = process.argv.slice(2);

if (args.length === 1 && args[0] === 'bot') {
  // A bot reads everything from its environment and loads none of the server: going straight to it
  // saves the half second the server's modules take to load, on every bot start.
  const { runBot } = await import('./bot/main.js');
  const code = await runBot(process.env);
  if (code >= 0) process.exit(code);
} else {
  // The embedded Postgres starts (initdb on a first start) while the server's modules load.
  const level = process.env.LOG_LEVEL && (LOG_LEVELS as readonly string[]).includes(process.env.LOG_LEVEL) ? (process.env.LOG_LEVEL as LogLevel) : 'info';
  prestartEmbedded(args, process.env, createLogger(level));

  const { main } = await import('./cli.js');
  void main(args).then(async (code) => {
    if (code >= 0) {
      await releaseUntaken();
      process.exit(code);
    }
  });
}
