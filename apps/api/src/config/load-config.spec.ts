import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './load-config';

describe(loadConfig.name, () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rhythm-config-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function file(content: unknown): string {
    const path = join(dir, 'config.json');
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  }

  function problems(run: () => unknown): string[] {
    try {
      run();
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    throw new Error('expected a ConfigError');
  }

  it('defaults to the embedded store on localhost:8000', () => {
    expect(loadConfig({}, [], '1.0')).toEqual({
      version: '1.0',
      api: {
        host: 'localhost',
        port: 8000,
        certFile: '',
        keyFile: '',
        bodyLimitBytes: 1048576,
        auth: { backend: 'none' },
        authCacheTtlMs: 30000,
        metricsToken: '',
      },
      storage: { kind: 'embedded', dataDir: './data' },
      scheduling: {
        timezone: 'UTC',
        pollIntervalMs: 500,
        reconcileIntervalMs: 30000,
        leaderTtlMs: 3000,
        historyMaxAgeMs: 604800000,
        historyMaxPerJob: 1000,
      },
      runners: { logDir: 'data/logs' },
      secrets: { backend: 'environment' },
      mesos: null,
      aws: { accounts: {}, pollIntervalMs: 5000 },
      logging: { level: 'info' },
    });
  });

  it('reads the scheduler settings', () => {
    const config = loadConfig(
      {
        RHYTHM_TIMEZONE: 'Europe/Warsaw',
        RHYTHM_SCHEDULER_POLL_MS: '100',
        RHYTHM_LEADER_TTL_MS: '5000',
        RHYTHM_TASK_TTL_MS: '3600000',
        RHYTHM_TASKS_PER_JOB: '50',
        RHYTHM_LOG_DIR: '/var/log/rhythm',
      },
      [],
      '1',
    );
    expect(config.scheduling).toEqual({
      timezone: 'Europe/Warsaw',
      pollIntervalMs: 100,
      reconcileIntervalMs: 30000,
      leaderTtlMs: 5000,
      historyMaxAgeMs: 3600000,
      historyMaxPerJob: 50,
    });
    expect(config.runners.logDir).toBe('/var/log/rhythm');
    expect(
      problems(() =>
        loadConfig({ RHYTHM_TIMEZONE: 'Mars/Olympus', RHYTHM_LEADER_TTL_MS: '1' }, [], '1'),
      ),
    ).toEqual([
      "time zone 'Mars/Olympus' is not a known IANA zone name",
      "RHYTHM_LEADER_TTL_MS '1' must be an integer of at least 500",
    ]);
  });

  it('reads the environment', () => {
    const config = loadConfig(
      {
        RHYTHM_ADDR: '0.0.0.0:9000',
        RHYTHM_STORAGE: 'redis',
        RHYTHM_REDIS_URL: 'redis://r:6380/2',
        RHYTHM_LOG_LEVEL: 'debug',
        RHYTHM_BODY_LIMIT: '4096',
      },
      [],
      '1.0',
    );
    expect(config.api).toMatchObject({ host: '0.0.0.0', port: 9000, bodyLimitBytes: 4096 });
    expect(config.storage).toEqual({
      kind: 'redis',
      url: 'redis://r:6380/2',
      keyPrefix: 'rhythm:',
    });
    expect(config.logging.level).toBe('debug');
  });

  it('reads an original Rhythm config file with keys in any case, ignoring sections it does not use', () => {
    const path = file({
      API: { Addr: '127.0.0.1:8080', auth: { backend: 'none' } },
      storage: { backend: 'redis', redis: { URL: 'redis://x:1' } },
      logging: { level: 'warn', backend: 'none' },
      mesos: { addrs: ['http://m:5050'] },
      secrets: { backend: 'none' },
    });
    const config = loadConfig({}, ['--config', path], '1.0');
    expect(config.api).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(config.storage).toEqual({ kind: 'redis', url: 'redis://x:1', keyPrefix: 'rhythm:' });
    expect(config.logging.level).toBe('warn');
  });

  it('takes the file from RHYTHM_CONFIG and -config=FILE, and lets the environment win', () => {
    const path = file({ api: { addr: 'localhost:1' } });
    expect(loadConfig({ RHYTHM_CONFIG: path }, [], '1').api.port).toBe(1);
    expect(loadConfig({}, [`-config=${path}`], '1').api.port).toBe(1);
    expect(loadConfig({ RHYTHM_CONFIG: path, RHYTHM_ADDR: 'localhost:2' }, [], '1').api.port).toBe(
      2,
    );
  });

  it('reports every problem at once', () => {
    expect(
      problems(() =>
        loadConfig(
          {
            RHYTHM_ADDR: 'nohost',
            RHYTHM_STORAGE: 'zookeeper',
            RHYTHM_LOG_LEVEL: 'loud',
            RHYTHM_BODY_LIMIT: 'big',
          },
          [],
          '1',
        ),
      ),
    ).toEqual([
      "listen address 'nohost' must be host:port (for example localhost:8000)",
      "logging level 'loud' must be one of debug, info, warn, error",
      "RHYTHM_BODY_LIMIT 'big' must be an integer number of bytes, at least 1024",
      "storage backend 'zookeeper' must be 'embedded' or 'redis'",
    ]);
  });

  it('reads the original api.auth section, keeping the case of ACL names and projects', () => {
    const path = file({
      api: {
        auth: {
          backend: 'ldap',
          cachettl: 5000,
          ldap: {
            addrs: ['ldap://ldap:389'],
            userdn: 'ou=people,dc=x',
            userattr: 'uid',
            groupdn: 'ou=groups,dc=x',
            binddn: 'cn=svc,dc=x',
            bindpassword: 'secret',
            useracl: { Alice: { 'Team/ETL': 'readwrite' } },
            groupacl: { devs: { '*': 'readonly' } },
          },
        },
      },
    });
    const config = loadConfig({}, ['--config', path], '1');
    expect(config.api.authCacheTtlMs).toBe(5000);
    expect(config.api.auth).toMatchObject({
      backend: 'ldap',
      ldap: {
        addrs: ['ldap://ldap:389'],
        userDn: 'ou=people,dc=x',
        userAttr: 'uid',
        groupAttr: 'cn',
        bindDn: 'cn=svc,dc=x',
        bindPassword: 'secret',
        userAcl: { Alice: { 'Team/ETL': 'readwrite' } },
        groupAcl: { devs: { '*': 'readonly' } },
        caseSensitiveNames: false,
      },
    });
  });

  it('reports a misconfigured auth backend at start-up', () => {
    expect(problems(() => loadConfig({ RHYTHM_AUTH: 'kerberos' }, [], '1'))).toEqual([
      "auth backend 'kerberos' must be one of none, gitlab, ldap, tokens",
    ]);
    expect(problems(() => loadConfig({ RHYTHM_AUTH: 'gitlab' }, [], '1'))).toEqual([
      'api.auth.gitlab.addr (RHYTHM_GITLAB_ADDR) is required for the gitlab backend',
    ]);
    expect(problems(() => loadConfig({ RHYTHM_AUTH: 'ldap' }, [], '1'))).toEqual([
      'api.auth.ldap.addrs is empty',
      'api.auth.ldap.userdn is empty',
      'api.auth.ldap.userattr is empty',
      'api.auth.ldap.groupdn is empty',
    ]);
    const acl = file({
      api: { auth: { backend: 'ldap', ldap: { useracl: { bob: { g: 'admin' } } } } },
    });
    expect(
      problems(() => loadConfig({ RHYTHM_LDAP_ADDRS: 'ldap://x' }, ['--config', acl], '1')),
    ).toContain('Invalid useracl: invalid access level [bob][g]: admin');
    expect(problems(() => loadConfig({ RHYTHM_AUTH: 'tokens' }, [], '1'))[0]).toMatch(
      /RHYTHM_TOKENS_FILE/,
    );
    expect(
      problems(() =>
        loadConfig(
          { RHYTHM_AUTH: 'tokens', RHYTHM_TOKENS: '{"tinytok": {"*": "readonly"}}' },
          [],
          '1',
        ),
      )[0],
    ).not.toContain('tinytok');
  });

  it('reports an unreadable or malformed file and wrong types', () => {
    expect(problems(() => loadConfig({}, ['--config', join(dir, 'missing.json')], '1'))[0]).toMatch(
      /^cannot read config file .*missing\.json/,
    );
    expect(problems(() => loadConfig({}, ['--config', file('{nope')], '1'))[0]).toMatch(
      /is not valid/,
    );
    expect(
      problems(() => loadConfig({}, ['--config', file({ api: { addr: 8000 } })], '1')),
    ).toEqual(['api.addr must be a string']);
  });

  it('needs both TLS files or neither', () => {
    expect(problems(() => loadConfig({ RHYTHM_TLS_CERT_FILE: '/c.pem' }, [], '1'))).toEqual([
      'TLS needs both a certificate file and a key file (api.certfile and api.keyfile)',
    ]);
  });
});

describe('loadConfig: the secrets section', () => {
  const TOKEN = 's.config-test-token';
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rhythm-config-secrets-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function withFile(secrets: unknown): string[] {
    const path = join(dir, 'config.json');
    writeFileSync(path, JSON.stringify({ secrets }));
    return ['--config', path];
  }

  function problemsOf(env: Record<string, string>, argv: string[] = []): string[] {
    try {
      loadConfig(env, argv, '1');
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    throw new Error('expected a ConfigError');
  }

  it("reads the original file's vault keys, defaulting to KV v1, root secret/rhythm/ and 5 s", () => {
    const argv = withFile({
      Backend: 'vault',
      Vault: { Addr: 'https://vault:8200', Token: TOKEN, CACert: '/etc/vault-ca.pem' },
    });
    expect(loadConfig({}, argv, '1').secrets).toEqual({
      backend: 'vault',
      addr: 'https://vault:8200',
      token: TOKEN,
      root: 'secret/rhythm/',
      kvVersion: 1,
      timeoutMs: 5000,
      caFile: '/etc/vault-ca.pem',
    });
    const tuned = withFile({
      backend: 'vault',
      vault: { addr: 'http://v:1', token: TOKEN, root: 'kv/', kvversion: 2, timeout: 250 },
    });
    expect(loadConfig({}, tuned, '1').secrets).toMatchObject({
      root: 'kv/',
      kvVersion: 2,
      timeoutMs: 250,
    });
  });

  it("bounds reads by the default timeout where the original's 0 meant none", () => {
    const argv = withFile({ backend: 'vault', vault: { addr: 'http://v:1', timeout: 0 } });
    expect(loadConfig({ VAULT_TOKEN: TOKEN }, argv, '1').secrets).toMatchObject({
      timeoutMs: 5000,
    });
  });

  it('lets RHYTHM_* variables win over the file, and the file over VAULT_ADDR and VAULT_TOKEN', () => {
    const argv = withFile({
      backend: 'vault',
      vault: { addr: 'http://file:1', token: 'file-tok' },
    });
    const vaultEnv = { VAULT_ADDR: 'http://vault-env:1', VAULT_TOKEN: 'vault-env-tok' };
    expect(loadConfig(vaultEnv, argv, '1').secrets).toMatchObject({
      addr: 'http://file:1',
      token: 'file-tok',
    });
    expect(
      loadConfig(
        { ...vaultEnv, RHYTHM_VAULT_ADDR: 'https://r:1', RHYTHM_VAULT_TOKEN: 'r-tok' },
        argv,
        '1',
      ).secrets,
    ).toMatchObject({ addr: 'https://r:1', token: 'r-tok' });
    expect(
      loadConfig(
        { ...vaultEnv, RHYTHM_SECRETS_BACKEND: 'vault' },
        withFile({ vault: { addr: '' } }),
        '1',
      ).secrets,
    ).toMatchObject({ addr: 'http://vault-env:1', token: 'vault-env-tok' });
  });

  it('reads every variable', () => {
    expect(
      loadConfig(
        {
          RHYTHM_SECRETS_BACKEND: 'vault',
          RHYTHM_VAULT_ADDR: 'https://vault:8200',
          VAULT_TOKEN: TOKEN,
          RHYTHM_VAULT_ROOT: 'team/rhythm/',
          RHYTHM_VAULT_KV_VERSION: '2',
          RHYTHM_VAULT_TIMEOUT_MS: '1500',
          RHYTHM_VAULT_CACERT: '/ca.pem',
        },
        [],
        '1',
      ).secrets,
    ).toEqual({
      backend: 'vault',
      addr: 'https://vault:8200',
      token: TOKEN,
      root: 'team/rhythm/',
      kvVersion: 2,
      timeoutMs: 1500,
      caFile: '/ca.pem',
    });
    expect(loadConfig({ RHYTHM_SECRETS_DIR: '/run/secrets' }, [], '1').secrets).toEqual({
      backend: 'environment',
      dir: '/run/secrets',
    });
  });

  it("reads the original's none backend, and secrets.dir, as the environment backend", () => {
    expect(loadConfig({}, withFile({ backend: 'none' }), '1').secrets).toEqual({
      backend: 'environment',
    });
    expect(
      loadConfig({}, withFile({ backend: 'environment', dir: '/srv/secrets' }), '1').secrets,
    ).toEqual({ backend: 'environment', dir: '/srv/secrets' });
  });

  it('reports every problem of the section at start-up, never the token', () => {
    expect(problemsOf({ RHYTHM_SECRETS_BACKEND: 'aws' })).toEqual([
      "secrets backend 'aws' must be 'environment' or 'vault'",
    ]);
    expect(problemsOf({ RHYTHM_SECRETS_BACKEND: 'vault' })).toEqual([
      'secrets.vault.addr (RHYTHM_VAULT_ADDR or VAULT_ADDR) is required for the vault backend',
      'secrets.vault.token (RHYTHM_VAULT_TOKEN or VAULT_TOKEN) is required for the vault backend',
    ]);
    const bad = problemsOf({
      RHYTHM_SECRETS_BACKEND: 'vault',
      RHYTHM_VAULT_ADDR: 'vault:8200',
      RHYTHM_VAULT_TOKEN: TOKEN,
      RHYTHM_VAULT_ROOT: 'secret/../other',
      RHYTHM_VAULT_KV_VERSION: '3',
      RHYTHM_VAULT_TIMEOUT_MS: '-5',
    });
    expect(bad).toEqual([
      "Vault address 'vault:8200' must be an http:// or https:// URL",
      "Vault root 'secret/../other' must be a path like secret/rhythm/",
      "RHYTHM_VAULT_KV_VERSION '3' must be 1 or 2",
      "RHYTHM_VAULT_TIMEOUT_MS '-5' must be a whole number of milliseconds",
    ]);
    expect(bad.join('\n')).not.toContain(TOKEN);
    expect(
      problemsOf({
        RHYTHM_SECRETS_BACKEND: 'vault',
        RHYTHM_VAULT_ADDR: 'http://vault:8200',
        VAULT_TOKEN: TOKEN,
        RHYTHM_VAULT_CACERT: '/ca.pem',
        RHYTHM_VAULT_ROOT: '/',
      }),
    ).toEqual([
      'secrets.vault.cacert (RHYTHM_VAULT_CACERT) needs an https:// Vault address',
      "Vault root '/' must be a path like secret/rhythm/",
    ]);
    expect(
      problemsOf(
        {},
        withFile({ backend: 'vault', vault: { addr: 'http://v:1', token: 7, kvversion: '2' } }),
      ),
    ).toEqual([
      'secrets.vault.token must be a string',
      'secrets.vault.kvversion must be a number',
      'secrets.vault.token (RHYTHM_VAULT_TOKEN or VAULT_TOKEN) is required for the vault backend',
    ]);
  });
});
