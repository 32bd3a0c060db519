// Every key of the config file with its default, read from the schema itself,
// so that the operator guide's reference (docs/configure.md) is checked against
// what the loader accepts and cannot drift (src/config/keys.test.ts).
import { schema } from './config.ts';
import { partsOf, type Field } from './schema.ts';

export interface ConfigKey {
  /** Dotted path; a list's items are "name[]", e.g. "listeners[].port". */
  path: string;
  /** What the schema accepts, e.g. "an integer", "none | starttls | implicit". */
  accepts: string;
  /** The default as the guide writes it: JSON, "required", or "unset" (optional without a default). */
  default: string;
  /** A mapping or a list of mappings: its own keys follow. */
  container: boolean;
}

function defaultOf(f: Field<unknown>): string {
  if (!f.isOptional) return 'required';
  const v = f.fallback?.();
  return v === undefined ? 'unset' : JSON.stringify(v);
}

function walk(f: Field<unknown>, path: string, out: ConfigKey[]): void {
  const { shape, item } = partsOf(f);
  const itemShape = item ? partsOf(item).shape : undefined;
  if (path) out.push({ path, accepts: f.describe, default: defaultOf(f), container: !!(shape || itemShape) });
  if (shape) for (const [k, sub] of Object.entries(shape)) walk(sub, path ? `${path}.${k}` : k, out);
  if (itemShape) for (const [k, sub] of Object.entries(itemShape)) walk(sub, `${path}[].${k}`, out);
}

/** Every key in schema order. */
export function configKeys(): ConfigKey[] {
  const out: ConfigKey[] = [];
  walk(schema as Field<unknown>, '', out);
  return out;
}
