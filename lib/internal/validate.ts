/**
 * Argument checks shared by the public API: each throws the built-in TypeError or RangeError
 * with a message naming the argument.
 *
 * @internal
 * @module
 */

export function checkString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string, got ${describe(value)}`);
}

export function checkNonEmptyString(value: unknown, name: string): asserts value is string {
  checkString(value, name);
  if (value.length === 0) throw new RangeError(`${name} must not be empty`);
  if (value.includes('\0')) throw new RangeError(`${name} must not contain NUL characters`);
}

export function checkBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${describe(value)}`);
}

export function checkUint32(value: unknown, name: string, min = 0): asserts value is number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (!Number.isInteger(value) || value < min || value > 0xffffffff) {
    throw new RangeError(`${name} must be an integer in [${min}, 4294967295], got ${value}`);
  }
}

export function checkObject(value: unknown, name: string): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object, got ${describe(value)}`);
  }
}

/**
 * `value` as one of `names`: a string that is one of them exactly. Lookups in a table keyed by
 * these names then never reach the prototype (`'toString'`, `'constructor'` are not names).
 */
export function checkName<T extends string>(value: unknown, name: string, names: readonly T[]): T {
  if (typeof value !== 'string') throw new TypeError(`${name} must be one of ${names.map((n) => `'${n}'`).join(', ')}, got ${describe(value)}`);
  if (!(names as readonly string[]).includes(value)) throw new RangeError(`${name} must be one of ${names.map((n) => `'${n}'`).join(', ')}, got '${value}'`);
  return value as T;
}

/** Rejects keys an options object does not know, so a typo is an error and not ignored. */
export function checkKnownKeys(value: Record<string, unknown>, name: string, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new TypeError(`${name}: unknown option '${key}' (known: ${known.join(', ')})`);
  }
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return `a ${value.constructor.name} of ${value.length} bytes`;
  switch (typeof value) {
    case 'string':
      return value.length > 40 ? `a string of ${value.length} characters` : `'${value}'`;
    case 'number':
    case 'bigint':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    case 'undefined':
      return 'undefined';
    case 'function':
      return 'a function';
    default:
      return `an object (${(value as object).constructor?.name ?? 'null prototype'})`;
  }
}
