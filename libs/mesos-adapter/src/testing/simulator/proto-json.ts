/**
 * JSON to protobuf conversion with the rules of the master's JSON parser (stout `protobuf::parse`):
 * fields are looked up by proto name, unknown keys are ignored, `null` leaves a field unset, an
 * unknown enum name drops an optional field but fails a required one, `bytes` must be base64, and
 * required fields are checked once the whole message is read. Errors carry stout's wording, so a
 * client sees the same 400 bodies as from a real master.
 *
 * Only the messages the simulator interprets are described field by field; the others are `opaque`
 * (any JSON object is accepted and kept).
 */

export type FieldType =
  | { readonly kind: 'string' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'double' }
  | { readonly kind: 'integer' }
  | { readonly kind: 'bytes' }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'message'; readonly schema: () => MessageSchema }
  | { readonly kind: 'opaque' };

export type FieldLabel = 'optional' | 'required' | 'repeated';

export interface FieldSpec {
  readonly name: string;
  readonly label: FieldLabel;
  readonly type: FieldType;
}

export interface MessageSchema {
  readonly fields: readonly FieldSpec[];
}

export type JsonObject = { [key: string]: unknown };

export type ProtoParseResult = { ok: true; message: JsonObject } | { ok: false; error: string };

export const STRING: FieldType = { kind: 'string' };
export const BOOL: FieldType = { kind: 'bool' };
export const DOUBLE: FieldType = { kind: 'double' };
export const INTEGER: FieldType = { kind: 'integer' };
export const BYTES: FieldType = { kind: 'bytes' };
export const OPAQUE: FieldType = { kind: 'opaque' };

export function enumOf(values: readonly string[]): FieldType {
  return { kind: 'enum', values };
}

export function messageOf(schema: () => MessageSchema): FieldType {
  return { kind: 'message', schema };
}

export function required(name: string, type: FieldType): FieldSpec {
  return { name, label: 'required', type };
}

export function optional(name: string, type: FieldType): FieldSpec {
  return { name, label: 'optional', type };
}

export function repeated(name: string, type: FieldType): FieldSpec {
  return { name, label: 'repeated', type };
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class ConversionError extends Error {}

/** Converts parsed JSON into a message of `schema`, or says why the master would refuse it. */
export function parseProtoJson(schema: MessageSchema, value: unknown): ProtoParseResult {
  if (!isJsonObject(value)) return { ok: false, error: 'Expecting a JSON object' };
  try {
    const message = readMessage(schema, value);
    const missing: string[] = [];
    findMissing(schema, message, '', missing);
    if (missing.length > 0) {
      return { ok: false, error: `Missing required fields: ${missing.join(', ')}` };
    }
    return { ok: true, message };
  } catch (error) {
    if (error instanceof ConversionError) return { ok: false, error: error.message };
    throw error;
  }
}

function readMessage(schema: MessageSchema, object: JsonObject): JsonObject {
  const message: JsonObject = {};
  for (const [key, value] of Object.entries(object)) {
    const field = schema.fields.find((candidate) => candidate.name === key);
    if (field === undefined || value === null) continue;
    if (Array.isArray(value)) {
      if (field.label !== 'repeated') {
        throw new ConversionError(`Not expecting a JSON array for field '${field.name}'`);
      }
      const items: unknown[] = [];
      for (const item of value) {
        if (item === null) continue;
        const read = readValue(field, item);
        if (read !== undefined) items.push(read);
      }
      message[key] = items;
      continue;
    }
    const read = readValue(field, value);
    if (read === undefined) continue;
    // A repeated field written as a single value is appended, as stout does.
    message[key] = field.label === 'repeated' ? [read] : read;
  }
  return message;
}

/** Reads one non-array value; `undefined` means "leave the field unset". */
function readValue(field: FieldSpec, value: unknown): unknown {
  const { type } = field;
  if (isJsonObject(value)) {
    if (type.kind === 'message') return readMessage(type.schema(), value);
    if (type.kind === 'opaque') return value;
    throw new ConversionError(`Not expecting a JSON object for field '${field.name}'`);
  }
  if (typeof value === 'string') return readString(field, value);
  if (typeof value === 'number') {
    if (type.kind === 'double') return value;
    if (type.kind === 'integer') return Math.trunc(value);
    throw new ConversionError(`Not expecting a JSON number for field '${field.name}'`);
  }
  if (typeof value === 'boolean') {
    if (type.kind === 'bool') return value;
    throw new ConversionError(`Not expecting a JSON boolean for field '${field.name}'`);
  }
  throw new ConversionError(`Not expecting a JSON value for field '${field.name}'`);
}

const NUMERIC = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function readString(field: FieldSpec, value: string): unknown {
  const { type } = field;
  switch (type.kind) {
    case 'string':
      return value;
    case 'bytes':
      if (!BASE64.test(value) || value.length % 4 === 1) {
        throw new ConversionError(
          `Failed to base64 decode bytes field '${field.name}': Invalid character`,
        );
      }
      return value;
    case 'enum':
      if (type.values.includes(value)) return value;
      if (field.label === 'required') {
        throw new ConversionError(`Failed to find enum for '${value}'`);
      }
      // proto2 drops an unknown value of an optional enum instead of failing the message.
      return undefined;
    case 'double':
    case 'integer':
      // Newer masters accept numbers written as JSON strings (64-bit values often are).
      if (NUMERIC.test(value.trim())) {
        const number = Number(value);
        return type.kind === 'integer' ? Math.trunc(number) : number;
      }
      throw new ConversionError(`Not expecting a JSON string for field '${field.name}'`);
    case 'bool':
    case 'message':
    case 'opaque':
      throw new ConversionError(`Not expecting a JSON string for field '${field.name}'`);
  }
}

/** Protobuf's `InitializationErrorString`: paths of unset required fields, depth first. */
function findMissing(
  schema: MessageSchema,
  message: JsonObject,
  prefix: string,
  missing: string[],
): void {
  for (const field of schema.fields) {
    const value = message[field.name];
    if (value === undefined) {
      if (field.label === 'required') missing.push(prefix + field.name);
      continue;
    }
    if (field.type.kind !== 'message') continue;
    const nested = field.type.schema();
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        if (isJsonObject(item)) {
          findMissing(nested, item, `${prefix}${field.name}[${index}].`, missing);
        }
      });
    } else if (isJsonObject(value)) {
      findMissing(nested, value, `${prefix}${field.name}.`, missing);
    }
  }
}
