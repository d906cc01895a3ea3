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
