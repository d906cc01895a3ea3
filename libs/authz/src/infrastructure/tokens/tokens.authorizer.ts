import { createHash, timingSafeEqual } from 'node:crypto';
import type { Authorizer } from '../../application/ports/authorizer.port';
import type { AccessLevel, ProjectRef } from '../../domain/access-level';
import { aclLevel, type Acl } from '../../domain/acl';
import { AuthzError, AuthzErrorCode } from '../../domain/authz.errors';
import type { Credentials } from '../../domain/credentials';
import type { TokensAuthorizerOptions } from '../authorizer-options';

/** Shorter tokens are too easy to guess. */
export const MIN_TOKEN_LENGTH = 16;

/** Visible ASCII only: what an X-Token or Bearer header can carry unchanged. */
const TOKEN_CHARACTERS = /^[\x21-\x7e]+$/;

/** `*`, `group` or `group/project`, with non-empty names. */
const ACL_KEY = /^(\*|[^/\s]+(\/[^/\s]+)?)$/;

interface Entry {
  readonly hash: Buffer;
  readonly acl: Acl;
}

/**
 * Static tokens for service accounts and scripts: each token has an ACL in the original Rhythm's
 * form. The presented token (X-Token or Bearer) is hashed with SHA-256 and compared with every
 * configured token's hash in constant time, so neither the match nor its position leaks by timing.
 */
export class TokensAuthorizer implements Authorizer {
  readonly backend = 'tokens';
  readonly scheme = 'token' as const;

  private readonly entries: readonly Entry[];

  constructor(options: TokensAuthorizerOptions) {
    this.entries = Object.entries(options.tokens).map(([token, acl]) => ({
      hash: sha256(token),
      acl: ownAcl(acl),
    }));
  }

  async accessLevel(credentials: Credentials, ref: ProjectRef): Promise<AccessLevel> {
    return aclLevel(this.aclOf(credentials), ref);
  }

  async authenticate(credentials: Credentials): Promise<void> {
    this.aclOf(credentials);
  }

  /** The ACL of the presented token; throws when there is none or it is unknown. */
  private aclOf(credentials: Credentials): Acl {
    if (credentials.kind !== 'token' || credentials.token === '') {
      throw new AuthzError(
        AuthzErrorCode.MISSING_CREDENTIALS,
        'The tokens backend needs a token in the X-Token header or as Authorization: Bearer',
      );
    }
    const presented = sha256(credentials.token);
    let match: Acl | undefined;
    // Every configured hash is compared, whether or not one matched already.
    for (const entry of this.entries) {
      const equal = timingSafeEqual(entry.hash, presented);
      if (equal) match = entry.acl;
    }
    if (match === undefined) {
      throw new AuthzError(AuthzErrorCode.INVALID_CREDENTIALS, 'Unknown token');
    }
    return match;
  }
}

/**
 * Parses and validates a tokens file: `{"<token>": {"g/p": "readwrite", "g": "readonly", "*":
 * "readonly"}}`. Levels must be `readonly` or `readwrite`; tokens at least 16 visible ASCII
 * characters. Error messages name a token by its position (`token #2`), never by its value.
 */
export function parseTokensFile(text: string): Record<string, Acl> {
  const json = text.replace(/^\uFEFF/, '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    // JSON.parse quotes the text around the error, which could be a token: report a position only.
    throw new Error(`the tokens file is not valid JSON${jsonErrorPosition(json)}`);
  }
  if (!isObject(parsed)) {
    throw new Error('the tokens file must be a JSON object mapping each token to its ACL');
  }
  const entries = Object.entries(parsed);
  if (entries.length === 0) throw new Error('the tokens file defines no tokens');
  const tokens: Record<string, Acl> = Object.create(null) as Record<string, Acl>;
  entries.forEach(([token, acl], index) => {
    const name = `token #${index + 1}`;
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new Error(`${name} is shorter than ${MIN_TOKEN_LENGTH} characters`);
    }
    if (!TOKEN_CHARACTERS.test(token)) {
      throw new Error(`${name} has characters other than visible ASCII (spaces, controls…)`);
    }
    if (!isObject(acl)) {
      throw new Error(
        `the ACL of ${name} must be an object of "group/project", "group" or "*" keys`,
      );
    }
    const rules: Record<string, AccessLevel> = Object.create(null) as Record<string, AccessLevel>;
    for (const [key, level] of Object.entries(acl)) {
      if (!ACL_KEY.test(key)) {
        throw new Error(
          `${name}: ACL key ${JSON.stringify(key)} must be "group/project", "group" or "*"`,
        );
      }
      if (level !== 'readonly' && level !== 'readwrite') {
        throw new Error(
          `${name}: the level of ${JSON.stringify(key)} is ${describeLevel(level)}; ` +
            'expected "readonly" or "readwrite"',
        );
      }
      rules[key] = level;
    }
    tokens[token] = rules;
  });
  return tokens;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * A copy without a prototype, so a group named like an Object member (`constructor`,
 * `toString`, `__proto__`) finds no inherited value in `aclLevel`.
 */
function ownAcl(acl: Acl): Acl {
  const copy: Record<string, AccessLevel> = Object.create(null) as Record<string, AccessLevel>;
  for (const [key, level] of Object.entries(acl)) copy[key] = level;
  return copy;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeLevel(value: unknown): string {
  if (typeof value === 'string') {
    return value.length > 20 ? `a ${value.length}-character string` : JSON.stringify(value);
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/**
 * ` at line L, column C` of the first JSON syntax error, found by our own scan: JSON.parse's
 * messages quote the text around the error (which may be a token) and not always a position.
 */
function jsonErrorPosition(text: string): string {
  const position = firstJsonError(text);
  if (position === undefined) return '';
  if (position >= text.length) return ' (it ends too early)';
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return ` at line ${line}, column ${column}`;
}

/** Offset of the first syntax error in `text`, or undefined when it is valid JSON. */
function firstJsonError(text: string): number | undefined {
  let at = 0;
  class Stop extends Error {
    constructor(readonly position: number) {
      super(`JSON syntax error at offset ${position}`);
    }
  }
  const fail = (): never => {
    throw new Stop(at);
  };
  const space = () => {
    while (at < text.length && ' \t\n\r'.includes(text.charAt(at))) at += 1;
  };
  const literal = (word: string) => {
    for (const char of word) {
      if (text.charAt(at) !== char) fail();
      at += 1;
    }
  };
  const string = () => {
    literal('"');
    for (;;) {
      if (at >= text.length) fail();
      const char = text.charAt(at);
      if (char === '"') {
        at += 1;
        return;
      }
      if (char < ' ') fail();
      if (char === '\\') {
        at += 1;
        const escape = text.charAt(at);
        if (escape === 'u') {
          at += 1;
          for (let i = 0; i < 4; i += 1) {
            if (!/[0-9a-fA-F]/.test(text.charAt(at))) fail();
            at += 1;
          }
          continue;
        }
        if (!'"\\/bfnrt'.includes(escape) || escape === '') fail();
      }
      at += 1;
    }
  };
  const digits = () => {
    if (!/[0-9]/.test(text.charAt(at))) fail();
    while (/[0-9]/.test(text.charAt(at))) at += 1;
  };
  const number = () => {
    if (text.charAt(at) === '-') at += 1;
    if (text.charAt(at) === '0') at += 1;
    else digits();
    if (text.charAt(at) === '.') {
      at += 1;
      digits();
    }
    if (text.charAt(at) === 'e' || text.charAt(at) === 'E') {
      at += 1;
      if (text.charAt(at) === '+' || text.charAt(at) === '-') at += 1;
      digits();
    }
  };
  const value = (): void => {
    space();
    const char = text.charAt(at);
    if (char === '{') {
      at += 1;
      space();
      if (text.charAt(at) === '}') {
        at += 1;
        return;
      }
      for (;;) {
        space();
        string();
        space();
        literal(':');
        value();
        space();
        if (text.charAt(at) === ',') at += 1;
        else return literal('}');
      }
    }
    if (char === '[') {
      at += 1;
      space();
      if (text.charAt(at) === ']') {
        at += 1;
        return;
      }
      for (;;) {
        value();
        space();
        if (text.charAt(at) === ',') at += 1;
        else return literal(']');
      }
    }
    if (char === '"') return string();
    if (char === 't') return literal('true');
    if (char === 'f') return literal('false');
    if (char === 'n') return literal('null');
    if (char === '-' || /[0-9]/.test(char)) return number();
    fail();
  };
  try {
    value();
    space();
    if (at < text.length) fail();
    return undefined;
  } catch (error) {
    if (error instanceof Stop) return error.position;
    throw error;
  }
}
