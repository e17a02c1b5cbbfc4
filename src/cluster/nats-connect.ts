// Connecting to NATS as a Troupe process: the server URL, and credentials from the environment
// (never from the command line, where other users could read them): TROUPE_NATS_TOKEN for a
// token, TROUPE_NATS_CREDS for a credentials (nkeys/JWT) file, or a user and password in the URL.
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';

export type { NatsConnection };

/** `token` overrides TROUPE_NATS_TOKEN (a server this process started has its own). */
export async function connectNats(
  url: string,
  name: string,
  token = process.env.TROUPE_NATS_TOKEN,
): Promise<NatsConnection> {
  const creds = process.env.TROUPE_NATS_CREDS;
  return connect({
    servers: url,
    name,
    ...(token ? { token } : {}),
    ...(creds ? { authenticator: credsAuthenticator(readFileSync(creds)) } : {}),
    // A server restart is waited out: the client reconnects (what was in flight, and what was
    // published while disconnected, is lost: the links send it again, see reliable-link.ts).
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
  });
}

/** Calls `disconnected` when the connection to the server drops and `reconnected` once it is back. */
export function watchConnection(
  nc: NatsConnection,
  handlers: { disconnected?: () => void; reconnected: () => void },
): void {
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') handlers.disconnected?.();
      else if (status.type === 'reconnect') handlers.reconnected();
    }
  })();
}
