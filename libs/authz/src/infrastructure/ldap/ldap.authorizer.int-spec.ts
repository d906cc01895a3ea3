import { createServer, type Server, type Socket } from 'node:net';
import type { Client } from 'ldapts';
import { freePort } from '../../../../../test/support/free-port';
import { TcpProxy } from '../../../../../test/support/ldap/tcp-proxy';
import { SlapdServer, TEST_DIRECTORY_LDIF } from '../../../../../test/support/slapd';
import type { AccessLevel, ProjectRef } from '../../domain/access-level';
import type { Acl } from '../../domain/acl';
import { AuthzError, AuthzErrorCode } from '../../domain/authz.errors';
import type { Credentials } from '../../domain/credentials';
import { DEFAULT_GROUP_FILTER, type LdapAuthorizerOptions } from '../authorizer-options';
import { LdapAuthorizer } from './ldap.authorizer';

/** Counts the connections the authorizer opens. */
class CountingLdapAuthorizer extends LdapAuthorizer {
  created = 0;

  protected override async createClient(): Promise<Client> {
    this.created++;
    return super.createClient();
  }
}

const SUFFIX = 'dc=rhythm,dc=test';
const SEARCH_BIND = { bindDn: `cn=svc,${SUFFIX}`, bindPassword: 'svc-pw' };

const USER_ACL: Readonly<Record<string, Acl>> = {
  // Mixed-case key: names and keys are both normalised unless caseSensitiveNames.
  Carol: { 'team/app': 'readwrite', team: 'readonly', '*': 'readwrite' },
  dave: { app: 'readonly' },
  alice: { 'only/alice': 'readwrite' },
};

const GROUP_ACL: Readonly<Record<string, Acl>> = {
  devs: { 'app/api': 'readwrite', 'app/web': 'readonly', 'shared/x': 'readwrite' },
  Ops: { 'app/api': 'readonly', 'app/web': 'readwrite', 'app/infra': 'readonly' },
  readers: { '*': 'readonly' },
  auditors: { audit: 'readonly' },
};

let slapd: SlapdServer;
const authorizers: LdapAuthorizer[] = [];

beforeAll(async () => {
  slapd = await SlapdServer.start({ ldif: TEST_DIRECTORY_LDIF });
});

afterAll(async () => {
  await Promise.all(authorizers.splice(0).map((authorizer) => authorizer.close()));
  await slapd?.stop();
});

function options(overrides: Partial<LdapAuthorizerOptions> = {}): LdapAuthorizerOptions {
  return {
    addrs: [slapd.url],
    userDn: `ou=people,${SUFFIX}`,
    userAttr: 'uid',
    groupDn: `ou=groups,${SUFFIX}`,
    groupAttr: 'cn',
    groupFilter: DEFAULT_GROUP_FILTER,
    startTls: false,
    timeoutMs: 2000,
    caseSensitiveNames: false,
    userAcl: USER_ACL,
    groupAcl: GROUP_ACL,
    ...overrides,
  };
}

/** An authorizer closed after all tests. */
function authorizer(overrides: Partial<LdapAuthorizerOptions> = {}): CountingLdapAuthorizer {
  const created = new CountingLdapAuthorizer(options(overrides));
  authorizers.push(created);
  return created;
}

function basic(username: string, password: string): Credentials {
  return { kind: 'basic', username, password };
}

function ref(path: string): ProjectRef {
  const [group = '', project = ''] = path.split('/');
  return { group, project };
}

async function failure(promise: Promise<unknown>): Promise<AuthzError> {
  let result: unknown;
  try {
    result = await promise;
  } catch (error) {
    if (error instanceof AuthzError) return error;
    throw error;
  }
  throw new Error(`expected an AuthzError, got ${JSON.stringify(result)}`);
}

describe.each([
  ['search bind (service account)', SEARCH_BIND],
  ['direct user DN', {}],
])('LdapAuthorizer against slapd, %s', (_mode, bind: Partial<LdapAuthorizerOptions>) => {
  let ldap: CountingLdapAuthorizer;
  const level = (username: string, password: string, path: string): Promise<AccessLevel> =>
    ldap.accessLevel(basic(username, password), ref(path));

  beforeAll(() => {
    ldap = authorizer(bind);
  });

  describe('groups', () => {
    it('gives alice readwrite through the posixGroup devs (memberUid)', async () => {
      await expect(level('alice', 'alice-pw', 'shared/x')).resolves.toBe('readwrite');
    });

    it('gives alice readonly through the groupOfNames ops (member DN)', async () => {
      await expect(level('alice', 'alice-pw', 'app/infra')).resolves.toBe('readonly');
    });

    it('gives alice the highest level when both groups apply, whichever group grants it', async () => {
      await expect(level('alice', 'alice-pw', 'app/api')).resolves.toBe('readwrite');
      await expect(level('alice', 'alice-pw', 'app/web')).resolves.toBe('readwrite');
    });

    it('gives alice none where no group or user entry applies', async () => {
      await expect(level('alice', 'alice-pw', 'other/x')).resolves.toBe('none');
    });

    it('gives bob readonly everywhere through readers (groupOfNames, {SSHA} password)', async () => {
      await expect(level('bob', 'bob-pw', 'app/api')).resolves.toBe('readonly');
      await expect(level('bob', 'bob-pw', 'any/thing')).resolves.toBe('readonly');
    });

    it('gives grace readonly through auditors (groupOfUniqueNames, uniqueMember)', async () => {
      await expect(level('grace', 'grace-pw', 'audit/logs')).resolves.toBe('readonly');
      await expect(level('grace', 'grace-pw', 'app/api')).resolves.toBe('none');
    });

    it("finds groups of users with quotes and commas in their names (o'brien, x,y)", async () => {
      await expect(level("o'brien", 'obrien-pw', 'any/thing')).resolves.toBe('readonly');
      await expect(level('x,y', 'xy-pw', 'app/infra')).resolves.toBe('readonly');
      await expect(level('x,y', 'xy-pw', 'any/thing')).resolves.toBe('none');
    });
  });

  describe('user ACL', () => {
    it('gives carol, in no group, her useracl levels: g/p beats g beats *', async () => {
      await expect(level('carol', 'carol-pw', 'team/app')).resolves.toBe('readwrite');
      await expect(level('carol', 'carol-pw', 'team/other')).resolves.toBe('readonly');
      await expect(level('carol', 'carol-pw', 'misc/x')).resolves.toBe('readwrite');
    });

    it("lets dave's useracl readonly win over his group's readwrite", async () => {
      await expect(level('dave', 'dave-pw', 'app/api')).resolves.toBe('readonly');
    });

    it('falls back to groups where the useracl gives nothing', async () => {
      await expect(level('dave', 'dave-pw', 'shared/x')).resolves.toBe('readwrite');
    });

    it('gives frank, with no entry anywhere, none', async () => {
      await expect(level('frank', 'frank-pw', 'app/api')).resolves.toBe('none');
      await expect(level('frank', 'frank-pw', 'any/thing')).resolves.toBe('none');
    });
  });

  describe('credentials', () => {
    it('rejects a wrong password with INVALID_CREDENTIALS', async () => {
      const error = await failure(level('alice', 'bob-pw', 'app/api'));
      expect(error.code).toBe(AuthzErrorCode.INVALID_CREDENTIALS);
      expect(error.message).not.toContain('bob-pw');
    });

    it('authenticates frank, who has no access anywhere, and not a wrong password', async () => {
      await expect(ldap.authenticate(basic('frank', 'frank-pw'))).resolves.toBeUndefined();
      const error = await failure(ldap.authenticate(basic('frank', 'alice-pw')));
      expect(error.code).toBe(AuthzErrorCode.INVALID_CREDENTIALS);
    });

    it('rejects an unknown user with INVALID_CREDENTIALS', async () => {
      const error = await failure(level('mallory', 'mallory-pw', 'app/api'));
      expect(error.code).toBe(AuthzErrorCode.INVALID_CREDENTIALS);
    });

    it('rejects an empty password with INVALID_CREDENTIALS', async () => {
      const error = await failure(level('alice', '', 'app/api'));
      expect(error.code).toBe(AuthzErrorCode.INVALID_CREDENTIALS);
    });

    it('rejects anonymous and token credentials with MISSING_CREDENTIALS', async () => {
      const anonymous = await failure(ldap.accessLevel({ kind: 'anonymous' }, ref('app/api')));
      expect(anonymous.code).toBe(AuthzErrorCode.MISSING_CREDENTIALS);
      const token = await failure(ldap.accessLevel({ kind: 'token', token: 'alice' }, ref('a/b')));
      expect(token.code).toBe(AuthzErrorCode.MISSING_CREDENTIALS);
    });
  });

  describe('injection', () => {
    it.each(['*)(uid=*', 'alice)(|(uid=*', '*', 'al*', '\\00', '\0', 'alice\\,ou=x', 'a+b', '"q"'])(
      'rejects the user name %j',
      async (username) => {
        const error = await failure(level(username, 'alice-pw', 'app/api'));
        expect(error.code).toBe(AuthzErrorCode.INVALID_CREDENTIALS);
      },
    );

    it.each(['*', '*)(uid=*', '\\2a'])('rejects the password %j for alice', async (password) => {
      const error = await failure(level('alice', password, 'app/api'));
      expect(error.code).toBe(AuthzErrorCode.INVALID_CREDENTIALS);
    });

    it('does not let a user named "x)(cn=*" match every group in the group filter', async () => {
      // Authenticates (the name is escaped in the DN and the user filter) but is in no group:
      // unescaped, the filter would match readers ('*': readonly) and every other group.
      await expect(level('x)(cn=*', 'inject-pw', 'any/thing')).resolves.toBe('none');
      await expect(level('x)(cn=*', 'inject-pw', 'app/api')).resolves.toBe('none');
    });
  });

  describe('names are case-insensitive by default', () => {
    it('matches ALICE to the useracl key alice and to her groupOfNames', async () => {
      await expect(level('ALICE', 'alice-pw', 'only/alice')).resolves.toBe('readwrite');
      await expect(level('ALICE', 'alice-pw', 'app/infra')).resolves.toBe('readonly');
    });

    it('matches CAROL to the useracl key Carol', async () => {
      await expect(level('CAROL', 'carol-pw', 'team/app')).resolves.toBe('readwrite');
    });

    it('matches the group ops to the groupacl key Ops', async () => {
      await expect(level('x,y', 'xy-pw', 'app/infra')).resolves.toBe('readonly');
    });
  });
});

describe('LdapAuthorizer with caseSensitiveNames', () => {
  it('does not match ALICE to the useracl key alice', async () => {
    const ldap = authorizer({ ...SEARCH_BIND, caseSensitiveNames: true });
    await expect(ldap.accessLevel(basic('alice', 'alice-pw'), ref('only/alice'))).resolves.toBe(
      'readwrite',
    );
    await expect(ldap.accessLevel(basic('ALICE', 'alice-pw'), ref('only/alice'))).resolves.toBe(
      'none',
    );
  });

  it('does not match the group ops to the groupacl key Ops', async () => {
    const ldap = authorizer({ caseSensitiveNames: true });
    await expect(ldap.accessLevel(basic('x,y', 'xy-pw'), ref('app/infra'))).resolves.toBe('none');
  });
});

describe('LdapAuthorizer connections', () => {
  it('does not contact LDAP for an empty password', async () => {
    const ldap = authorizer({ addrs: [`ldap://127.0.0.1:${await freePort()}`] });
    const error = await failure(ldap.accessLevel(basic('alice', ''), ref('app/api')));
    expect(error.code).toBe(AuthzErrorCode.INVALID_CREDENTIALS);
    expect(ldap.created).toBe(0);
  });

  it('answers BACKEND_UNAVAILABLE when no server listens', async () => {
    const ldap = authorizer({ addrs: [`ldap://127.0.0.1:${await freePort()}`] });
    const error = await failure(ldap.accessLevel(basic('alice', 'alice-pw'), ref('app/api')));
    expect(error.code).toBe(AuthzErrorCode.BACKEND_UNAVAILABLE);
    expect(error.message).not.toContain('alice-pw');
  });

  it('tries the addresses in order', async () => {
    const dead = `ldap://127.0.0.1:${await freePort()}`;
    const ldap = authorizer({ ...SEARCH_BIND, addrs: [dead, slapd.url] });
    await expect(ldap.accessLevel(basic('alice', 'alice-pw'), ref('app/api'))).resolves.toBe(
      'readwrite',
    );
  });

  it('answers BACKEND_UNAVAILABLE within the timeout when the server never answers', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => {
      sockets.add(socket);
    });
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    try {
      const ldap = authorizer({ addrs: [`ldap://127.0.0.1:${port}`], timeoutMs: 300 });
      const started = Date.now();
      const error = await failure(ldap.accessLevel(basic('alice', 'alice-pw'), ref('app/api')));
      expect(error.code).toBe(AuthzErrorCode.BACKEND_UNAVAILABLE);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('answers BACKEND_UNAVAILABLE while slapd is down and recovers after its restart', async () => {
    const own = await SlapdServer.start({ ldif: TEST_DIRECTORY_LDIF });
    try {
      const ldap = authorizer({ ...SEARCH_BIND, addrs: [own.url] });
      const check = (): Promise<AccessLevel> =>
        ldap.accessLevel(basic('alice', 'alice-pw'), ref('app/api'));
      await expect(check()).resolves.toBe('readwrite');
      await own.kill();
      expect((await failure(check())).code).toBe(AuthzErrorCode.BACKEND_UNAVAILABLE);
      await own.restart();
      await expect(check()).resolves.toBe('readwrite');
    } finally {
      await own.stop();
    }
  });

  it('retries once on a new connection when a pooled one is dead', async () => {
    const proxy = await TcpProxy.start(slapd.port);
    try {
      const ldap = authorizer({ ...SEARCH_BIND, addrs: [proxy.url], timeoutMs: 300 });
      const check = (): Promise<AccessLevel> =>
        ldap.accessLevel(basic('alice', 'alice-pw'), ref('app/api'));
      await expect(check()).resolves.toBe('readwrite');
      expect(ldap.created).toBe(1);
      proxy.blackhole();
      await expect(check()).resolves.toBe('readwrite');
      expect(ldap.created).toBe(2);
      expect(proxy.connections).toBe(2);
    } finally {
      await proxy.close();
    }
  });

  it('reuses one connection for 20 sequential checks', async () => {
    const ldap = authorizer(SEARCH_BIND);
    for (let i = 0; i < 20; i++) {
      const [username, password, expected] =
        i % 2 === 0 ? ['alice', 'alice-pw', 'readwrite'] : ['bob', 'bob-pw', 'readonly'];
      await expect(ldap.accessLevel(basic(username, password), ref('app/api'))).resolves.toBe(
        expected,
      );
    }
    expect(ldap.created).toBe(1);
  });

  it('keeps a wrong password on a reused connection from granting anything', async () => {
    const ldap = authorizer(SEARCH_BIND);
    await expect(ldap.accessLevel(basic('alice', 'alice-pw'), ref('app/api'))).resolves.toBe(
      'readwrite',
    );
    const error = await failure(ldap.accessLevel(basic('alice', 'wrong'), ref('app/api')));
    expect(error.code).toBe(AuthzErrorCode.INVALID_CREDENTIALS);
    await expect(ldap.accessLevel(basic('frank', 'frank-pw'), ref('app/api'))).resolves.toBe(
      'none',
    );
    expect(ldap.created).toBe(1);
  });

  it('opens at most 4 connections for 20 concurrent checks, all answered right', async () => {
    const ldap = authorizer(SEARCH_BIND);
    const users = [
      ['alice', 'alice-pw', 'readwrite'],
      ['bob', 'bob-pw', 'readonly'],
      ['dave', 'dave-pw', 'readonly'],
      ['frank', 'frank-pw', 'none'],
      ['carol', 'wrong', 'INVALID_CREDENTIALS'],
    ] as const;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const [username, password] = users[i % users.length] ?? users[0];
        return ldap
          .accessLevel(basic(username, password), ref('app/api'))
          .catch((error: unknown) => (error instanceof AuthzError ? error.code : 'unexpected'));
      }),
    );
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => users[i % users.length]?.[2]));
    expect(ldap.created).toBeGreaterThanOrEqual(1);
    expect(ldap.created).toBeLessThanOrEqual(4);
  });

  it('refuses checks after close()', async () => {
    const ldap = authorizer(SEARCH_BIND);
    await expect(ldap.accessLevel(basic('bob', 'bob-pw'), ref('a/b'))).resolves.toBe('readonly');
    await ldap.close();
    const error = await failure(ldap.accessLevel(basic('bob', 'bob-pw'), ref('a/b')));
    expect(error.code).toBe(AuthzErrorCode.BACKEND_UNAVAILABLE);
  });

  it('rejects bad settings when constructed', () => {
    expect(() => new LdapAuthorizer(options({ addrs: [] }))).toThrow('addrs is empty');
    expect(() => new LdapAuthorizer(options({ addrs: ['http://x'] }))).toThrow(
      'Invalid LDAP scheme: http',
    );
    expect(() => new LdapAuthorizer(options({ groupFilter: '(member={{.UserDN}}' }))).toThrow(
      'Invalid LDAP groupfilter',
    );
    expect(() => new LdapAuthorizer(options({ groupFilter: '(member={{.Other}})' }))).toThrow(
      'Invalid LDAP groupfilter',
    );
  });
});

describe('LdapAuthorizer over TLS', () => {
  let tlsSlapd: SlapdServer;

  beforeAll(async () => {
    // This slapd refuses operations on plain connections (security tls=1).
    tlsSlapd = await SlapdServer.start({ ldif: TEST_DIRECTORY_LDIF, tls: true });
  });

  afterAll(async () => {
    await tlsSlapd?.stop();
  });

  const check = (overrides: Partial<LdapAuthorizerOptions>): Promise<AccessLevel> =>
    authorizer({ ...SEARCH_BIND, ...overrides }).accessLevel(
      basic('alice', 'alice-pw'),
      ref('app/api'),
    );

  it('works over ldaps:// with the CA from caCertFile', async () => {
    await expect(
      check({ addrs: [tlsSlapd.ldapsUrl], caCertFile: tlsSlapd.caCertFile }),
    ).resolves.toBe('readwrite');
  });

  it('refuses ldaps:// to a server whose certificate the CA did not sign', async () => {
    const error = await failure(
      check({ addrs: [tlsSlapd.ldapsUrl], caCertFile: tlsSlapd.otherCaCertFile }),
    );
    expect(error.code).toBe(AuthzErrorCode.BACKEND_UNAVAILABLE);
  });

  it('works over ldap:// with StartTLS', async () => {
    await expect(
      check({ addrs: [tlsSlapd.url], startTls: true, caCertFile: tlsSlapd.caCertFile }),
    ).resolves.toBe('readwrite');
  });

  it('really upgrades: without StartTLS this server refuses to bind', async () => {
    const error = await failure(check({ addrs: [tlsSlapd.url], caCertFile: tlsSlapd.caCertFile }));
    expect(error.code).toBe(AuthzErrorCode.BACKEND_UNAVAILABLE);
  });

  it('refuses StartTLS to a server whose certificate the CA did not sign', async () => {
    const error = await failure(
      check({ addrs: [tlsSlapd.url], startTls: true, caCertFile: tlsSlapd.otherCaCertFile }),
    );
    expect(error.code).toBe(AuthzErrorCode.BACKEND_UNAVAILABLE);
  });

  it('reuses a StartTLS connection', async () => {
    const ldap = authorizer({
      ...SEARCH_BIND,
      addrs: [tlsSlapd.url],
      startTls: true,
      caCertFile: tlsSlapd.caCertFile,
    });
    for (let i = 0; i < 5; i++) {
      await expect(ldap.accessLevel(basic('bob', 'bob-pw'), ref('a/b'))).resolves.toBe('readonly');
    }
    expect(ldap.created).toBe(1);
  });
});
