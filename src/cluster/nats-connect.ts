// Connecting to NATS as a Troupe process: the server URL, and credentials from the environment
// (never from the command line, where other users could read them): TROUPE_NATS_TOKEN for a
// token, TROUPE_NATS_NKEY for a file holding an nkey seed, TROUPE_NATS_SEED for the seed itself
// (how `troupe cluster` hands each node it starts its own), TROUPE_NATS_CREDS for a credentials
// (JWT and nkey) file, or a user and password in the URL.
import { readFileSync } from 'node:fs';
import {
  type Authenticator,
  connect,
  credsAuthenticator,
  type NatsConnection,
  nkeyAuthenticator,
} from '@nats-io/transport-node';

export type { NatsConnection };

/** The credentials the environment names are missing or malformed (the server was not reached). */
export class CredentialsError extends Error {}

export interface NatsIdentity {
  /** Overrides TROUPE_NATS_TOKEN. */
  token?: string;
  /** A user nkey seed, overriding the environment's credentials (a server this process started). */
  seed?: string;
  /** Where replies to this process's requests come (permissions.ts): its own, in a cluster. */
  inboxPrefix?: string;
}

export async function connectNats(
  url: string,
  name: string,
  identity: NatsIdentity = {},
): Promise<NatsConnection> {
  const token = identity.seed ? undefined : (identity.token ?? process.env.TROUPE_NATS_TOKEN);
  const authenticator = identity.seed
    ? seedAuthenticator('the seed given', identity.seed)
    : fileAuthenticator();
  return connect({
    servers: url,
    name,
    ...(token ? { token } : {}),
    ...(authenticator ? { authenticator } : {}),
    ...(identity.inboxPrefix ? { inboxPrefix: identity.inboxPrefix } : {}),
    // A server restart is waited out: the client reconnects (what was in flight, and what was
    // published while disconnected, is lost: the links send it again, see reliable-link.ts).
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
  });
}

/** How long a closing connection waits for what is queued to reach the server. */
const DRAIN_MS = 2000;

/**
 * Ends a connection: what is queued goes out if the server is there, within `ms`; a server that is
 * gone is not waited for (its client would try to reconnect for ever, keeping the process up).
 */
export async function closeNats(nc: NatsConnection, ms = DRAIN_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    nc.drain().catch(() => {}),
    new Promise((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
  await nc.close().catch(() => {});
}

/** The authenticator TROUPE_NATS_CREDS, TROUPE_NATS_NKEY or TROUPE_NATS_SEED gives (one of them), read now. */
function fileAuthenticator(): Authenticator | undefined {
  const { TROUPE_NATS_CREDS: creds, TROUPE_NATS_NKEY: nkey, TROUPE_NATS_SEED: seed } = process.env;
  if ([creds, nkey, seed].filter(Boolean).length > 1)
    throw new CredentialsError(
      'set one of TROUPE_NATS_CREDS, TROUPE_NATS_NKEY and TROUPE_NATS_SEED, not more',
    );
  if (seed) return seedAuthenticator('TROUPE_NATS_SEED', seed);
  const read = (variable: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new CredentialsError(`${variable}: cannot read ${path}: ${(error as Error).message}`);
    }
  };
  if (creds) return credsAuthenticator(read('TROUPE_NATS_CREDS', creds));
  if (!nkey) return undefined;
  return seedAuthenticator(`TROUPE_NATS_NKEY: ${nkey}`, read('TROUPE_NATS_NKEY', nkey).toString('utf8'));
}

/** An authenticator for a user nkey seed; `where` names where it came from in the error. */
function seedAuthenticator(where: string, text: string): Authenticator {
  const seed = text.trim();
  if (!/^SU[A-Z2-7]{56}$/.test(seed))
    throw new CredentialsError(`${where} does not hold a user nkey seed (SU… , 58 characters)`);
  return nkeyAuthenticator(new TextEncoder().encode(seed));
}

/**
 * Calls `disconnected` when the connection to the server drops and `reconnected` once it is back,
 * until the connection closes or `stop` is called.
 */
export function watchConnection(
  nc: NatsConnection,
  handlers: { disconnected?: () => void; reconnected: () => void },
): { stop(): void } {
  let stopped = false;
  void (async () => {
    for await (const status of nc.status()) {
      if (stopped) return;
      if (status.type === 'disconnect') handlers.disconnected?.();
      else if (status.type === 'reconnect') handlers.reconnected();
    }
  })();
  return {
    stop: () => {
      stopped = true;
    },
  };
}
