// Runs the JSON Schemas over parsed YAML and words every failure for a person, with its line.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { suggestion } from './did-you-mean.js';
import { actorSchema, systemSchema } from './schema.js';
import type { ConfigIssue, FieldPath, YamlSource } from './yaml-source.js';

// verbose: each error carries its schema, so an unknown field can be matched to the known ones.
const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
const validators = {
  system: ajv.compile(systemSchema),
  actor: ajv.compile(actorSchema),
};

export type FileKind = keyof typeof validators;

export function checkSchema(source: YamlSource, kind: FileKind): ConfigIssue[] {
  const validate: ValidateFunction = validators[kind];
  if (validate(source.value)) return [];
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    const issue = describe(source, error);
    if (!issue) continue;
    const key = `${issue.line}:${issue.column}:${issue.message}`;
    if (!seen.has(key)) issues.push(issue);
    seen.add(key);
  }
  return issues.sort((a, b) => a.line - b.line || a.column - b.column);
}

function describe(source: YamlSource, error: ErrorObject): ConfigIssue | undefined {
  const path = toPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'if':
    case 'anyOf':
      // Summaries of the branch errors that are reported on their own.
      return undefined;
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      const known = Object.keys((error.parentSchema?.properties as object | undefined) ?? {});
      return source.issue([...path, field], `unknown field "${field}"${suggestion(field, known)}`, true);
    }
    case 'required':
      return source.issue(path, `missing required field "${String(params.missingProperty)}"`);
    case 'enum':
      return source.issue(
        path,
        `must be one of ${(params.allowedValues as unknown[]).join(', ')} (got ${show(valueAt(source.value, path))})`,
      );
    case 'pattern':
      return source.issue(
        path,
        `${patternMeaning(path, String(params.pattern))} (got ${show(valueAt(source.value, path))})`,
      );
    default:
      return source.issue(
        path,
        `${error.message ?? 'is invalid'} (got ${show(valueAt(source.value, path))})`,
      );
  }
}

function patternMeaning(path: FieldPath, pattern: string): string {
  if (pattern.includes('actor')) return 'must be a path to an *.actor.yaml file, or an inline actor';
  if (pattern.includes('https?')) return 'must be an http:// or https:// URL';
  if (path.at(-1) === 'apiKeyEnv')
    return 'must be the name of an environment variable (letters, digits and "_", not starting with a digit)';
  if (pattern.includes('(/'))
    return 'must be a tool server\'s name, or "<server>/<tool>" for one of its tools';
  if (path.at(-1) === 'name' || typeof path.at(-1) === 'number') {
    return 'must be a name of lowercase letters, digits, "-" and "_", starting with a letter';
  }
  return `must match ${pattern}`;
}

function toPath(pointer: string): FieldPath {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

function valueAt(root: unknown, path: FieldPath): unknown {
  let value = root;
  for (const part of path) value = (value as Record<string | number, unknown> | undefined)?.[part];
  return value;
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
