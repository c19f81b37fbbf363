import { ImError } from './errors';
import { dataDepth, dataHasNul, hasNul, hasUnpairedSurrogate, hasVisibleText, utf8Bytes } from '../../server/src/protocol/limits';
import { Limits } from './protocol';

export { hasVisibleText, hasUnpairedSurrogate, utf8Bytes };

/** Input checks for public methods: each failure names the method, the field and the rule. */

export function invalid(method: string, text: string): ImError {
  return new ImError('E_INVALID_ARGUMENT', `${method}: ${text}`);
}

export function requireObject(method: string, value: unknown, shape: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(method, `expects an object like ${shape}, got ${describe(value)}.`);
  }
  return value as Record<string, unknown>;
}

export function requireId(method: string, field: string, value: unknown): string {
  if (typeof value !== 'string' || !Limits.ID_PATTERN.test(value)) {
    throw invalid(
      method,
      `"${field}" must be a string of 1-64 characters from A-Z a-z 0-9 _ - . @, got ${describe(value)}.`,
    );
  }
  return value;
}

/** A message's own idempotency key, as the server accepts it. */
export function requireClientMsgId(method: string, value: unknown): string {
  if (typeof value !== 'string' || !Limits.CLIENT_MSG_ID_PATTERN.test(value)) {
    throw invalid(method, `"clientMsgId" must be a string of 1-64 characters from A-Z a-z 0-9 _ -, got ${describe(value)}.`);
  }
  return value;
}

export function optionalString(method: string, field: string, value: unknown, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > max) {
    throw invalid(method, `"${field}" must be a string of at most ${max} characters, got ${describe(value)}.`);
  }
  return value;
}

export function optionalInt(method: string, field: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(method, `"${field}" must be an integer from ${min} to ${max}, got ${describe(value)}.`);
  }
  return value;
}

export function requireContent(method: string, value: unknown, msgType: number): string {
  if (typeof value !== 'string') throw invalid(method, `"content" must be a string, got ${describe(value)}.`);
  if (msgType === 0 && !hasVisibleText(value)) throw invalid(method, '"content" is empty; a text message needs some visible text.');
  // Text with an unpaired UTF-16 surrogate (e.g. an emoji cut in half) has no UTF-8 form; the server refuses it.
  if (hasUnpairedSurrogate(value)) {
    throw invalid(method, '"content" contains an unpaired surrogate (half of an emoji or other character); send valid Unicode text.');
  }
  if (hasNul(value)) throw invalid(method, '"content" contains U+0000 (NUL), which the server refuses; remove it.');
  const size = utf8Bytes(value);
  if (size > Limits.CONTENT_BYTES) {
    throw new ImError(
      'E_PAYLOAD_TOO_LARGE',
      `${method}: "content" is ${size} bytes of UTF-8; the limit is ${Limits.CONTENT_BYTES}. Split it or send a link.`,
    );
  }
  return value;
}

export function requireData(method: string, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  // The server stores data as a JSON document and refuses other shapes with 40000; refusing them
  // here keeps the message from ever reaching the outbox.
  if (typeof value !== 'object' && typeof value !== 'string') {
    throw invalid(method, `"data" must be a JSON object, array, string or null, got ${describe(value)}.`);
  }
  // Depth before serialising: a pathologically deep value would exhaust the stack in JSON.stringify.
  if (dataDepth(value) > Limits.DATA_DEPTH) throw invalid(method, `"data" is nested deeper than ${Limits.DATA_DEPTH} levels.`);
  if (dataHasNul(value)) throw invalid(method, '"data" has a key or string with U+0000 (NUL), which the server refuses.');
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw invalid(method, `"data" must be JSON-serialisable (${err instanceof Error ? err.message : String(err)}).`);
  }
  if (json === undefined) throw invalid(method, '"data" must be a JSON object, array, string or null.');
  const size = utf8Bytes(json);
  if (size > Limits.DATA_BYTES) {
    throw new ImError('E_PAYLOAD_TOO_LARGE', `${method}: "data" is ${size} bytes as JSON; the limit is ${Limits.DATA_BYTES}.`);
  }
  return value;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
