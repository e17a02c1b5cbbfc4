// Who may say what in a cluster: each node and the coordinator connect to NATS as users of their
// own, each allowed only its own subjects (subjects.ts), so holding one node's credentials lets a
// process act as that node and nothing else: not as another node, not as the coordinator. The
// server enforces it; this file writes its configuration (pure: no keys are made here).

/** A party of a cluster: the coordinator (a standby is one too), or the node of that name. */
export type ClusterIdentity = { role: 'coordinator' } | { role: 'node'; name: string };

/** Node and system names are one subject token each: letters, digits, "-" and "_". */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export interface Permissions {
  publish: string[];
  subscribe: string[];
}

/** The subjects a party's request replies come back on: its own, so no other party can read them. */
export function inboxPrefix(system: string, identity: ClusterIdentity): string {
  return identity.role === 'coordinator'
    ? `_INBOX.troupe.${system}.coordinator`
    : `_INBOX.troupe.${system}.node.${identity.name}`;
}

/**
 * What a party may publish and subscribe to. `jetstream`: the coordinator keeps its journal in a
 * stream (`--journal js:`), so it may also use JetStream's API and the journal's subjects.
 * Replies to requests a party received are allowed on top (the server's `allow_responses`).
 */
export function permissionsOf(
  system: string,
  identity: ClusterIdentity,
  options: { jetstream?: boolean } = {},
): Permissions {
  const base = `troupe.${system}`;
  const inbox = `${inboxPrefix(system, identity)}.>`;
  if (identity.role === 'node') {
    const node = `${base}.node.${identity.name}`;
    return {
      publish: [
        `${node}.alive`,
        `${node}.chan.*.up`,
        `${node}.chan.*.ended`,
        `${base}.module`,
        `${base}.model`,
      ],
      subscribe: [
        `${base}.coordinator.alive`,
        // Its own beats: a second process under its name hears the first and gives way.
        `${node}.alive`,
        `${node}.spawn`,
        `${node}.shutdown`,
        `${node}.drop`,
        `${node}.chan.*.down`,
        inbox,
      ],
    };
  }
  const nodes = `${base}.node.*`;
  const journal = options.jetstream ? [`${base}.journal.>`, '$JS.API.>', '$JS.ACK.>'] : [];
  return {
    publish: [
      `${base}.coordinator.alive`,
      `${nodes}.spawn`,
      `${nodes}.shutdown`,
      `${nodes}.drop`,
      `${nodes}.chan.*.down`,
      ...journal,
    ],
    subscribe: [
      `${base}.coordinator.alive`,
      `${nodes}.alive`,
      `${nodes}.chan.*.up`,
      `${nodes}.chan.*.ended`,
      `${base}.module`,
      `${base}.model`,
      inbox,
      ...(options.jetstream ? [`${base}.journal.>`] : []),
    ],
  };
}

/** A user of the server's configuration: the public key of its nkey, and who it is. */
export interface ClusterUser {
  nkey: string;
  identity: ClusterIdentity;
}

/**
 * nats-server's `authorization` block for the cluster of `system`: one nkey user per party, each
 * with its permissions. Names are checked here, since they become subjects.
 */
export function authorizationBlock(
  system: string,
  users: readonly ClusterUser[],
  options: { jetstream?: boolean } = {},
): string {
  if (!NAME_PATTERN.test(system))
    throw new Error(`the system's name "${system}" is not a NATS subject token (letters, digits, "-", "_")`);
  const list = (subjects: string[]) => `[${subjects.map((subject) => JSON.stringify(subject)).join(', ')}]`;
  const lines = users.map(({ nkey, identity }) => {
    if (!/^U[A-Z2-7]{55}$/.test(nkey)) throw new Error(`"${nkey}" is not the public key of a user nkey`);
    if (identity.role === 'node' && !NAME_PATTERN.test(identity.name))
      throw new Error(
        `the node name "${identity.name}" is not a NATS subject token (letters, digits, "-", "_")`,
      );
    const allowed = permissionsOf(system, identity, options);
    const who = identity.role === 'coordinator' ? 'the coordinator' : `node ${identity.name}`;
    return [
      `    # ${who}`,
      `    { nkey: "${nkey}", permissions: {`,
      `        publish: { allow: ${list(allowed.publish)} }`,
      `        subscribe: { allow: ${list(allowed.subscribe)} }`,
      '        allow_responses: true',
      '    } }',
    ].join('\n');
  });
  return `authorization {\n  users: [\n${lines.join('\n')}\n  ]\n}\n`;
}

/** The coordinator's identity (there is one per cluster; a standby takes its place). */
export const COORDINATOR: ClusterIdentity = { role: 'coordinator' };
