// Credentials for a cluster's parties: a fresh user nkey for the coordinator and for each node,
// and the server configuration admitting each with its own permissions (permissions.ts). Used by
// `troupe cluster` for the nats-server it starts, and by `troupe nats-config` for a user's own.
import { nkeys } from '@nats-io/transport-node';
import { authorizationBlock, type ClusterIdentity, COORDINATOR } from './permissions.js';

export interface ClusterKeys {
  /** nats-server's `authorization { … }` block admitting every party. */
  readonly authorization: string;
  /** The identities, the coordinator first, then the nodes in the order given. */
  readonly identities: readonly ClusterIdentity[];
  /** The party's user nkey seed (`SU…`): its secret. */
  seed(identity: ClusterIdentity): string;
}

export function clusterKeys(
  system: string,
  nodes: readonly string[],
  options: { jetstream?: boolean } = {},
): ClusterKeys {
  const identities: ClusterIdentity[] = [
    COORDINATOR,
    ...nodes.map((name) => ({ role: 'node' as const, name })),
  ];
  const keyOf = (identity: ClusterIdentity) =>
    identity.role === 'node' ? `node:${identity.name}` : 'coordinator';
  const seeds = new Map<string, string>();
  const users = identities.map((identity) => {
    const user = nkeys.createUser();
    seeds.set(keyOf(identity), new TextDecoder().decode(user.getSeed()));
    return { nkey: user.getPublicKey(), identity };
  });
  return {
    authorization: authorizationBlock(system, users, options),
    identities,
    seed: (identity) => {
      const seed = seeds.get(keyOf(identity));
      if (seed === undefined) throw new Error(`no credentials were made for ${keyOf(identity)}`);
      return seed;
    },
  };
}

/** The environment without NATS credentials (a node given its own must not see the caller's). */
export function withoutCredentials(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const {
    TROUPE_NATS_TOKEN: _token,
    TROUPE_NATS_NKEY: _nkey,
    TROUPE_NATS_SEED: _seed,
    TROUPE_NATS_CREDS: _creds,
    ...rest
  } = env;
  return rest;
}
