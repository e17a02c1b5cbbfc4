// Where an envelope goes: an agent's mailbox here, a model of the GPU host ("@gpu/<model>"), or
// nowhere (with why). Pure, and the one place addresses and capabilities are read; the scheduler
// only orders mailboxes. A cluster changes nothing here: an agent on another node is still an
// agent of this scheduler, its host reached through the node's launcher (docs/cluster.md).
import {
  decodeToolCall,
  type Envelope,
  GENERATE_CANCEL_KIND,
  GENERATE_KIND,
  generatesText,
  INFER_KIND,
  InferenceErrorCode,
  TOOL_CALL_KIND,
  TOOL_PREFIX,
} from '../../protocol/index.js';
import type { AgentSpec, ModelType } from '../config/index.js';

/** Models are addressed "@gpu/<model>"; their answers come from that address (tool servers: "@tool/<server>"). */
export const MODEL_PREFIX = '@gpu/';

export type Route =
  | { to: 'agent'; agent: string }
  | { to: 'model'; model: string }
  /** Not delivered: a dead letter with this reason. */
  | { to: 'nowhere'; reason: string }
  /** A request no model can take: the sender gets an inference error with this code. */
  | { to: 'refused'; model: string; code: InferenceErrorCode; message: string }
  /** A call of a tool server's tool (the tool host makes it). */
  | { to: 'tool'; server: string }
  /** A call no tool server takes: the sender gets a tool error with this code. */
  | { to: 'toolRefused'; server: string; code: string; message: string };

export interface Routing {
  route(source: string, envelope: Envelope): Route;
}

interface Capabilities {
  sendTo: ReadonlySet<string> | '*';
  models: ReadonlySet<string> | '*';
  /** Tool grants: servers (`fs`) and single tools (`fs/read_file`). */
  tools: ReadonlySet<string>;
  maxMessageBytes: number;
}

/** Every agent is here; models are served by this machine's GPU host. */
export class LocalRouting implements Routing {
  readonly #senders = new Map<string, Capabilities>();
  readonly #models: ReadonlyMap<string, ModelType>;
  readonly #tools: ReadonlySet<string>;

  constructor(
    agents: readonly AgentSpec[],
    models: ReadonlyArray<{ name: string; type: ModelType }>,
    tools: readonly string[] = [],
  ) {
    for (const { name, sendTo, models, tools, limits } of agents) {
      this.#senders.set(name, { sendTo, models, tools, maxMessageBytes: limits.maxMessageBytes });
    }
    this.#models = new Map(models.map((model) => [model.name, model.type]));
    this.#tools = new Set(tools);
  }

  route(source: string, envelope: Envelope): Route {
    const to = envelope.to ?? '';
    // Senders that are not agents (the runtime, models, the outside) are not limited.
    const sender = this.#senders.get(source);
    if (to.startsWith(MODEL_PREFIX))
      return this.#toModel(source, sender, envelope, to.slice(MODEL_PREFIX.length));
    if (to.startsWith(TOOL_PREFIX))
      return this.#toTool(source, sender, envelope, to.slice(TOOL_PREFIX.length));
    if (!this.#senders.has(to))
      return { to: 'nowhere', reason: `"${source}" sent to "${to}", which is not an agent of this system` };
    if (!sender) return { to: 'agent', agent: to };
    if (sender.sendTo !== '*' && !sender.sendTo.has(to)) {
      return {
        to: 'nowhere',
        reason: `"${source}" may not send to "${to}" (not in its capabilities.sendTo)`,
      };
    }
    const size = envelope.payload?.length ?? 0;
    if (size > sender.maxMessageBytes) {
      return {
        to: 'nowhere',
        reason: `payload of ${size} bytes exceeds maxMessageBytes ${sender.maxMessageBytes} of "${source}"`,
      };
    }
    return { to: 'agent', agent: to };
  }

  /** A model takes a request when it exists, the sender is granted it and the kind is right. */
  #toModel(source: string, sender: Capabilities | undefined, envelope: Envelope, model: string): Route {
    const type = this.#models.get(model);
    if (type === undefined) {
      const declared = this.#models.size > 0 ? [...this.#models.keys()].join(', ') : 'none';
      const message = `no model "${model}" is declared in this system (models: ${declared})`;
      return { to: 'refused', model, code: InferenceErrorCode.UNKNOWN_MODEL, message };
    }
    if (sender && sender.models !== '*' && !sender.models.has(model)) {
      const message = `"${source}" may not use model "${model}" (not in its capabilities.models)`;
      return { to: 'refused', model, code: InferenceErrorCode.NOT_GRANTED, message };
    }
    const kinds = generatesText(type) ? [GENERATE_KIND, GENERATE_CANCEL_KIND] : [INFER_KIND];
    if (!kinds.includes(envelope.kind ?? '')) {
      const wanted = kinds.map((kind) => `"${kind}"`).join(' or ');
      const message = `model "${model}" takes envelopes of kind ${wanted} (got "${envelope.kind}")`;
      return { to: 'refused', model, code: InferenceErrorCode.BAD_REQUEST, message };
    }
    return { to: 'model', model };
  }

  /** A tool server takes a call when it is declared, the call is well formed and the sender is granted its tool. */
  #toTool(source: string, sender: Capabilities | undefined, envelope: Envelope, server: string): Route {
    const refuse = (code: string, message: string): Route => ({ to: 'toolRefused', server, code, message });
    if (!this.#tools.has(server)) {
      const declared = this.#tools.size > 0 ? [...this.#tools].join(', ') : 'none';
      return refuse(
        'UNKNOWN_SERVER',
        `no tool server "${server}" is declared in this system (tools: ${declared})`,
      );
    }
    if (envelope.kind !== TOOL_CALL_KIND)
      return refuse(
        'BAD_CALL',
        `tool server "${server}" takes envelopes of kind "${TOOL_CALL_KIND}" (got "${envelope.kind}")`,
      );
    const call = decodeToolCall(envelope.payload);
    if (!call.ok) return refuse('BAD_CALL', call.error);
    if (sender && !sender.tools.has(server) && !sender.tools.has(`${server}/${call.tool}`)) {
      const message = `"${source}" may not call "${server}/${call.tool}" (not in its capabilities.tools)`;
      return refuse('NOT_GRANTED', message);
    }
    return { to: 'tool', server };
  }
}
