import { botUsername } from './topics.js';

/** A bot's broker login. The password goes only to the runtime that starts the bot. */
export interface BotLogin {
  username: string;
  password: string;
}

/**
 * Each bot's own broker credentials. `issue` gives a bot its login, the same one again on a redeploy
 * (it creates them the first time); `verify` says which bot a login belongs to (null: refuse);
 * `revoke` removes them, and the next CONNECT with them is refused.
 */
export interface BotCredentials {
  issue(botId: string): Promise<BotLogin>;
  verify(username: string, password: string): Promise<string | null>;
  revoke(botId: string): Promise<void>;
}

/**
 * What a broker needs to be told when a bot's credentials appear or go: the embedded broker checks the
 * store itself on every CONNECT (and drops a revoked bot's live connection); an external Mosquitto is
 * provisioned through its dynamic-security plugin.
 */
export interface BrokerAccess {
  grant(botId: string, login: BotLogin): Promise<void>;
  revoke(botId: string, username: string): Promise<void>;
}

/**
 * Credentials kept in `store` and mirrored into a broker. Issuing grants again every time, so a broker
 * that lost its state (a Mosquitto whose dynsec file was reset) is provisioned anew on the next deploy.
 * Revoking deletes the stored row first: the embedded broker refuses the bot from that moment, even if
 * telling the broker then fails.
 */
export function brokerCredentials(store: BotCredentials, access: BrokerAccess): BotCredentials {
  return {
    async issue(botId) {
      const login = await store.issue(botId);
      await access.grant(botId, login);
      return login;
    },
    verify: (username, password) => store.verify(username, password),
    async revoke(botId) {
      await store.revoke(botId);
      await access.revoke(botId, botUsername(botId));
    },
  };
}
