// A parsed YAML file that can point at the line of any field, for precise error messages.
import { isMap, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import { errorText } from '../../protocol/index.js';

export type FieldPath = ReadonlyArray<string | number>;

export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  /** Dotted field path, e.g. "agents[1].restart"; empty for the whole file. */
  field: string;
  message: string;
}

export class YamlSource {
  readonly file: string;
  readonly value: unknown;
  readonly syntaxIssues: ConfigIssue[];
  readonly #doc: ReturnType<typeof parseDocument>;
  readonly #lines = new LineCounter();
  readonly #text: string;

  constructor(file: string, text: string) {
    this.file = file;
    this.#text = text;
    this.#doc = parseDocument(text, { lineCounter: this.#lines, prettyErrors: false });
    this.syntaxIssues = this.#doc.errors.map((error) => {
      const pos = this.#lines.linePos(error.pos[0]);
      return {
        file,
        line: pos.line,
        column: pos.col,
        field: '',
        message: error.message.split('\n')[0] ?? '',
      };
    });
    this.value = this.syntaxIssues.length > 0 ? undefined : this.#toJS();
  }

  // toJS throws on aliases it cannot resolve and on alias bombs (yaml's maxAliasCount).
  #toJS(): unknown {
    try {
      return this.#doc.toJS();
    } catch (error) {
      const message = errorText(error);
      const alias = /alias[^:]*: (\S+)/i.exec(message)?.[1];
      const offset = alias === undefined ? -1 : this.#text.indexOf(`*${alias}`);
      const pos = offset >= 0 ? this.#lines.linePos(offset) : { line: 1, col: 1 };
      this.syntaxIssues.push({ file: this.file, line: pos.line, column: pos.col, field: '', message });
      return undefined;
    }
  }

  /** An issue at the field's value (or at its key, with `atKey`), falling back to its nearest parent. */
  issue(path: FieldPath, message: string, atKey = false): ConfigIssue {
    const node = this.#locate(path, atKey);
    const pos = node?.range ? this.#lines.linePos(node.range[0]) : { line: 1, col: 1 };
    return { file: this.file, line: pos.line, column: pos.col, field: formatPath(path), message };
  }

  #locate(path: FieldPath, atKey: boolean): Node | undefined {
    for (let depth = path.length; depth >= 0; depth--) {
      const prefix = path.slice(0, depth);
      if (atKey && depth === path.length && depth > 0) {
        const parent = this.#doc.getIn(prefix.slice(0, -1), true);
        if (isMap(parent)) {
          const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === prefix.at(-1));
          if (pair && isScalar(pair.key)) return pair.key;
        }
        continue;
      }
      const node = depth === 0 ? this.#doc.contents : this.#doc.getIn(prefix, true);
      if (node && typeof node === 'object' && 'range' in node) return node as Node;
    }
    return undefined;
  }
}

export function formatPath(path: FieldPath): string {
  let text = '';
  for (const part of path) text += typeof part === 'number' ? `[${part}]` : text ? `.${part}` : part;
  return text;
}

export function formatIssue(issue: ConfigIssue): string {
  const field = issue.field ? `${issue.field}: ` : '';
  // Line 0: the problem is the file as a whole (it is missing or unreadable).
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.column}` : issue.file;
  return `${where}: ${field}${issue.message}`;
}
