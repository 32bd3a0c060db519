// A small schema vocabulary for the config file. Each check returns the value it
// accepts (with defaults filled in) or records an error at a path; the loader turns
// paths into "file:line:col" using the YAML document's source ranges.

export type Path = ReadonlyArray<string | number>;
export interface Issue { path: Path; message: string }

export interface Field<T> {
  readonly isOptional: boolean;
  readonly fallback?: () => T;
  check(value: unknown, path: Path, issues: Issue[]): T | undefined;
  describe: string;
}

function field<T>(describe: string, check: Field<T>['check']): Field<T> & {
  default(v: T | (() => T)): Field<T>;
  optional(): Field<T | undefined>;
} {
  const base: Field<T> = { isOptional: false, check, describe };
  return Object.assign(base, {
    default(v: T | (() => T)): Field<T> {
      return { ...base, isOptional: true, fallback: typeof v === 'function' ? (v as () => T) : () => structuredClone(v) };
    },
    optional(): Field<T | undefined> {
      return { ...base, isOptional: true, fallback: () => undefined } as Field<T | undefined>;
    },
  });
}

export const str = (opts: { pattern?: RegExp; hint?: string; nonEmpty?: boolean } = {}) =>
  field<string>('a string', (v, path, issues) => {
    if (typeof v !== 'string') { issues.push({ path, message: `expected a string, got ${kind(v)}` }); return undefined; }
    if (opts.nonEmpty !== false && v === '') { issues.push({ path, message: 'must not be empty' }); return undefined; }
    if (opts.pattern && !opts.pattern.test(v)) { issues.push({ path, message: `invalid value ${JSON.stringify(v)}${opts.hint ? `: ${opts.hint}` : ''}` }); return undefined; }
    return v;
  });

export const int = (opts: { min?: number; max?: number } = {}) =>
  field<number>('an integer', (v, path, issues) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) { issues.push({ path, message: `expected an integer, got ${kind(v)}` }); return undefined; }
    if (opts.min !== undefined && v < opts.min) { issues.push({ path, message: `must be ≥ ${opts.min}` }); return undefined; }
    if (opts.max !== undefined && v > opts.max) { issues.push({ path, message: `must be ≤ ${opts.max}` }); return undefined; }
    return v;
  });

export const bool = () =>
  field<boolean>('true or false', (v, path, issues) => {
    if (typeof v !== 'boolean') { issues.push({ path, message: `expected true or false, got ${kind(v)}` }); return undefined; }
    return v;
  });

export const oneOf = <const T extends string>(values: readonly T[]) =>
  field<T>(values.join(' | '), (v, path, issues) => {
    if (typeof v !== 'string' || !values.includes(v as T)) {
      issues.push({ path, message: `expected one of ${values.join(', ')}, got ${JSON.stringify(v)}` });
      return undefined;
    }
    return v as T;
  });

export const list = <T>(item: Field<T>, opts: { min?: number } = {}) => withPart('item', item,
  field<T[]>(`a list of ${item.describe}`, (v, path, issues) => {
    if (!Array.isArray(v)) { issues.push({ path, message: `expected a list, got ${kind(v)}` }); return undefined; }
    if (opts.min !== undefined && v.length < opts.min) { issues.push({ path, message: `needs at least ${opts.min} entr${opts.min === 1 ? 'y' : 'ies'}` }); return undefined; }
    const out: T[] = [];
    v.forEach((x, i) => { const r = item.check(x, [...path, i], issues); if (r !== undefined) out.push(r); });
    return out;
  }));

/** Passed through as data; a later stage (e.g. limits' own compiler) validates it and reports paths. */
export const anything = <T = unknown>() => field<T>('a value', (v) => v as T);

export const record = <T>(item: Field<T>) =>
  field<Record<string, T>>(`a mapping of ${item.describe}`, (v, path, issues) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) { issues.push({ path, message: `expected a mapping, got ${kind(v)}` }); return undefined; }
    const out: Record<string, T> = {};
    for (const [k, x] of Object.entries(v)) { const r = item.check(x, [...path, k], issues); if (r !== undefined) out[k] = r; }
    return out;
  });

type Shape = Record<string, Field<unknown>>;
export type Infer<S extends Shape> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

export const obj = <S extends Shape>(shape: S) => withPart('shape', shape,
  field<Infer<S>>('a mapping', (v, path, issues) => {
    if (v === null || v === undefined) v = {};
    if (typeof v !== 'object' || Array.isArray(v)) { issues.push({ path, message: `expected a mapping, got ${kind(v)}` }); return undefined; }
    const input = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(input)) {
      if (!(key in shape)) issues.push({ path: [...path, key], message: `unknown key "${key}" (known: ${Object.keys(shape).join(', ')})` });
    }
    for (const [key, f] of Object.entries(shape)) {
      if (!(key in input) || input[key] === undefined) {
        if (f.isOptional) out[key] = f.fallback?.();
        else issues.push({ path: [...path, key], message: `missing required key "${key}" (${f.describe})` });
        continue;
      }
      out[key] = f.check(input[key], [...path, key], issues);
    }
    return out as Infer<S>;
  }));

/**
 * The parts of a mapping (its shape) or a list (its item), kept on the field so
 * that the keys can be listed (config/keys.ts: the operator guide's reference
 * is checked against them). Set on the base object, so default() and
 * optional() copies carry it.
 */
function withPart<F extends object>(name: 'shape' | 'item', part: unknown, f: F): F {
  Object.defineProperty(f, name, { value: part, enumerable: true });
  return f;
}

/** A field's mapping shape or list item, when it has one (for listing keys). */
export function partsOf(f: Field<unknown>): { shape?: Shape; item?: Field<unknown> } {
  const o = f as { shape?: Shape; item?: Field<unknown> };
  return { shape: o.shape, item: o.item };
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`;
}
