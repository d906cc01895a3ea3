import { AuthzError, AuthzErrorCode } from '../../domain/authz.errors';
import type { Credentials } from '../../domain/credentials';
import { parseTokensFile, TokensAuthorizer } from './tokens.authorizer';

const CI = 'ci-token-0123456789abcdef';
const READER = 'reader-token-0123456789ab';
const EMPTY_ACL = 'empty-acl-token-012345678';

const token = (value: string): Credentials => ({ kind: 'token', token: value });

async function authzErrorOf(promise: Promise<unknown>): Promise<AuthzError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AuthzError) return error;
    throw error;
  }
  throw new Error('expected an AuthzError, but the promise resolved');
}

function parseError(text: string): Error {
  try {
    parseTokensFile(text);
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  throw new Error('expected parseTokensFile to throw');
}

describe('TokensAuthorizer', () => {
  const authorizer = new TokensAuthorizer({
    tokens: {
      [CI]: { 'team/app': 'readwrite', team: 'readonly', '*': 'readonly', 'ops/db': 'readwrite' },
      [READER]: { team: 'readonly', 'team/secret': 'readwrite' },
      [EMPTY_ACL]: {},
    },
  });

  it('has the tokens backend and the token scheme', () => {
    expect(authorizer.backend).toBe('tokens');
    expect(authorizer.scheme).toBe('token');
  });

  it.each([
    ['group/project over group', CI, 'team', 'app', 'readwrite'],
    ['group over *', CI, 'team', 'other', 'readonly'],
    ['* when neither group nor group/project is listed', CI, 'elsewhere', 'x', 'readonly'],
    ['group/project in another group', CI, 'ops', 'db', 'readwrite'],
    ['* for another project of that group', CI, 'ops', 'web', 'readonly'],
    ['group/project over group (second token)', READER, 'team', 'secret', 'readwrite'],
    ['group (second token)', READER, 'team', 'app', 'readonly'],
    ['none without a matching key or *', READER, 'ops', 'db', 'none'],
    ['none for an empty ACL', EMPTY_ACL, 'team', 'app', 'none'],
  ])('decides by %s', async (_name, presented, group, project, expected) => {
    await expect(authorizer.accessLevel(token(presented), { group, project })).resolves.toBe(
      expected,
    );
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    'finds no inherited ACL entry for a group named %s',
    async (group) => {
      await expect(authorizer.accessLevel(token(READER), { group, project: 'p' })).resolves.toBe(
        'none',
      );
    },
  );

  it('refuses an unknown token with INVALID_CREDENTIALS', async () => {
    const error = await authzErrorOf(
      authorizer.accessLevel(token('unknown-token-0123456789'), { group: 'team', project: 'app' }),
    );
    expect(error.code).toBe(AuthzErrorCode.INVALID_CREDENTIALS);
  });

  it('authenticates a known token, even one whose ACL grants nothing, and no other', async () => {
    await expect(authorizer.authenticate(token(EMPTY_ACL))).resolves.toBeUndefined();
    const error = await authzErrorOf(authorizer.authenticate(token('unknown-token-0123456789')));
    expect(error.code).toBe(AuthzErrorCode.INVALID_CREDENTIALS);
  });

  it('refuses a token that differs only in its last character', async () => {
    const almost = `${CI.slice(0, -1)}${CI.endsWith('f') ? 'e' : 'f'}`;
    expect(almost).not.toBe(CI);
    expect(almost.slice(0, -1)).toBe(CI.slice(0, -1));
    const error = await authzErrorOf(
      authorizer.accessLevel(token(almost), { group: 'team', project: 'app' }),
    );
    expect(error.code).toBe(AuthzErrorCode.INVALID_CREDENTIALS);
    expect(error.message).not.toContain(almost);
  });

  it.each([
    ['a prefix', CI.slice(0, 8)],
    ['an extension', `${CI}x`],
    ['the token with a trailing space', `${CI} `],
  ])('refuses %s of a configured token', async (_name, presented) => {
    const error = await authzErrorOf(
      authorizer.accessLevel(token(presented), { group: 'team', project: 'app' }),
    );
    expect(error.code).toBe(AuthzErrorCode.INVALID_CREDENTIALS);
  });

  it.each<[string, Credentials]>([
    ['anonymous', { kind: 'anonymous' }],
    ['Basic', { kind: 'basic', username: CI, password: CI }],
    ['an empty token', { kind: 'token', token: '' }],
  ])('refuses %s credentials with MISSING_CREDENTIALS', async (_name, credentials) => {
    const error = await authzErrorOf(
      authorizer.accessLevel(credentials, { group: 'team', project: 'app' }),
    );
    expect(error.code).toBe(AuthzErrorCode.MISSING_CREDENTIALS);
  });

  it('refuses everyone when no token is configured', async () => {
    const empty = new TokensAuthorizer({ tokens: {} });
    const error = await authzErrorOf(
      empty.accessLevel(token(CI), { group: 'team', project: 'app' }),
    );
    expect(error.code).toBe(AuthzErrorCode.INVALID_CREDENTIALS);
  });
});

describe('parseTokensFile', () => {
  it('parses tokens and their ACLs', () => {
    const tokens = parseTokensFile(
      JSON.stringify({
        [CI]: { 'team/app': 'readwrite', team: 'readonly', '*': 'readonly' },
        [READER]: {},
      }),
    );
    expect(Object.keys(tokens)).toEqual([CI, READER]);
    expect({ ...tokens[CI] }).toEqual({
      'team/app': 'readwrite',
      team: 'readonly',
      '*': 'readonly',
    });
    expect({ ...tokens[READER] }).toEqual({});
  });

  it('gives ACLs usable by TokensAuthorizer', async () => {
    const authorizer = new TokensAuthorizer({
      tokens: parseTokensFile(`{"${CI}": {"team/app": "readwrite", "*": "readonly"}}`),
    });
    await expect(
      authorizer.accessLevel(token(CI), { group: 'team', project: 'app' }),
    ).resolves.toBe('readwrite');
    await expect(authorizer.accessLevel(token(CI), { group: 'x', project: 'y' })).resolves.toBe(
      'readonly',
    );
  });

  it.each([
    ['a missing colon', `{\n  "${CI}": {"team": "readonly"},\n  "${READER}" {}\n}`, 3, 31],
    ['an unquoted token', `{${CI}: {}}`, 1, 2],
    ['a trailing comma', `{"${CI}": {"team": "readonly",}}`, 1, 51],
    ['text after the object', `{"${CI}": {}} ${READER}`, 1, 35],
    ['a single-quoted token', `{\n'${CI}': {}}`, 2, 1],
    ['a bad escape', `{"${CI}\\x": {}}`, 1, 29],
  ])('reports %s by line and column, never quoting the text', (_name, text, line, column) => {
    const error = parseError(text);
    expect(error.message).toBe(
      `the tokens file is not valid JSON at line ${line}, column ${column}`,
    );
    expect(error.cause).toBeUndefined();
  });

  it.each([
    ['an unterminated token', `{"${CI}`],
    ['a missing closing brace', `{"${CI}": {"team": "readonly"}`],
    ['an empty file', ''],
  ])('reports %s as ending too early', (_name, text) => {
    expect(parseError(text).message).toBe('the tokens file is not valid JSON (it ends too early)');
  });

  it('accepts a file starting with a byte order mark', () => {
    expect(Object.keys(parseTokensFile(`\uFEFF{"${CI}": {}}`))).toEqual([CI]);
  });

  it.each([
    ['an array', '[]'],
    ['a string', '"x"'],
    ['null', 'null'],
  ])('refuses a file that is %s', (_name, text) => {
    expect(parseError(text).message).toMatch(/must be a JSON object mapping each token to its ACL/);
  });

  it('refuses a file without tokens', () => {
    expect(parseError('{}').message).toMatch(/defines no tokens/);
  });

  it('refuses a bad level, naming the token by its position', () => {
    const error = parseError(
      JSON.stringify({ [CI]: { team: 'readonly' }, [READER]: { 'team/app': 'admin' } }),
    );
    expect(error.message).toBe(
      'token #2: the level of "team/app" is "admin"; expected "readonly" or "readwrite"',
    );
    expect(error.message).not.toContain(READER);
  });

  it.each([
    ['"none"', 'none'],
    ['a number', 2],
    ['null', null],
  ])('refuses the level %s', (_name, level) => {
    const error = parseError(JSON.stringify({ [CI]: { team: level } }));
    expect(error.message).toMatch(/^token #1: the level of "team" is .*; expected/);
    expect(error.message).not.toContain(CI);
  });

  it('refuses a short token without printing it', () => {
    const short = 'tiny-secret-15c';
    expect(short).toHaveLength(15);
    const error = parseError(JSON.stringify({ [CI]: {}, [short]: { team: 'readonly' } }));
    expect(error.message).toBe('token #2 is shorter than 16 characters');
    expect(error.message).not.toContain(short);
  });

  it('accepts a token of exactly 16 characters', () => {
    const tokens = parseTokensFile(JSON.stringify({ '0123456789abcdef': { '*': 'readonly' } }));
    expect(Object.keys(tokens)).toEqual(['0123456789abcdef']);
  });

  it('refuses a token with spaces without printing it', () => {
    const spaced = 'secret with spaces 0123';
    const error = parseError(JSON.stringify({ [spaced]: {} }));
    expect(error.message).toMatch(/^token #1 has characters other than visible ASCII/);
    expect(error.message).not.toContain(spaced);
  });

  it('refuses an ACL that is not an object', () => {
    const error = parseError(JSON.stringify({ [CI]: 'readwrite' }));
    expect(error.message).toMatch(/^the ACL of token #1 must be an object/);
    expect(error.message).not.toContain(CI);
  });

  it.each(['', 'a/b/c', '/p', 'g/', 'my group'])('refuses the ACL key %j', (key) => {
    const error = parseError(JSON.stringify({ [CI]: { [key]: 'readonly' } }));
    expect(error.message).toMatch(
      /^token #1: ACL key .* must be "group\/project", "group" or "\*"$/,
    );
    expect(error.message).not.toContain(CI);
  });

  it('does not mistake a long level value for something to print', () => {
    const error = parseError(JSON.stringify({ [CI]: { team: READER } }));
    expect(error.message).not.toContain(READER);
    expect(error.message).toMatch(/a 25-character string/);
  });

  it('keeps a "__proto__" ACL key as a group name, not as a prototype', async () => {
    const tokens = parseTokensFile(`{"${CI}": {"__proto__": "readwrite"}}`);
    expect(Object.keys(tokens[CI] ?? {})).toEqual(['__proto__']);
    const authorizer = new TokensAuthorizer({ tokens });
    await expect(
      authorizer.accessLevel(token(CI), { group: '__proto__', project: 'p' }),
    ).resolves.toBe('readwrite');
    await expect(authorizer.accessLevel(token(CI), { group: 'team', project: 'p' })).resolves.toBe(
      'none',
    );
  });
});
