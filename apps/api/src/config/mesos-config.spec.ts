import { mesosConfig } from './mesos-config';

describe('mesosConfig', () => {
  it('is null without a master: command jobs then run as local processes', () => {
    const problems: string[] = [];
    expect(mesosConfig({}, {}, problems)).toBeNull();
    expect(problems).toEqual([]);
  });

  it("reads the original file's mesos section with its keys and defaults", () => {
    const problems: string[] = [];
    const config = mesosConfig(
      {},
      {
        addrs: ['http://m1:5050/', 'https://m2:5050'],
        user: 'rhythm',
        principal: 'rhythm-principal',
        auth: { type: 'basic', basic: { username: 'u', password: 'p' } },
        failovertimeout: 3_600_000,
        checkpoint: true,
        webuiurl: 'http://rhythm.example',
        hostname: 'rhythm-1',
        labels: { team: 'infra' },
        cacert: '/etc/ca.pem',
      },
      problems,
    );
    expect(problems).toEqual([]);
    expect(config).toEqual({
      masters: ['http://m1:5050', 'https://m2:5050'],
      user: 'rhythm',
      roles: ['*'],
      principal: 'rhythm-principal',
      basicAuth: { username: 'u', password: 'p' },
      failoverTimeoutSeconds: 3600,
      checkpoint: true,
      webuiUrl: 'http://rhythm.example',
      hostname: 'rhythm-1',
      labels: { team: 'infra' },
      caCertFile: '/etc/ca.pem',
    });
  });

  it('lets RHYTHM_MESOS_* variables win and defaults the failover timeout to 7 days', () => {
    const problems: string[] = [];
    const config = mesosConfig(
      { RHYTHM_MESOS_MASTERS: 'http://a:5050, http://b:5050', RHYTHM_MESOS_ROLES: 'batch,cron' },
      { addrs: ['http://ignored:5050'] },
      problems,
    );
    expect(config?.masters).toEqual(['http://a:5050', 'http://b:5050']);
    expect(config?.roles).toEqual(['batch', 'cron']);
    expect(config?.failoverTimeoutSeconds).toBe(7 * 24 * 3600);
    expect(problems).toEqual([]);
  });

  it('names every problem', () => {
    const problems: string[] = [];
    mesosConfig(
      {},
      { addrs: ['m1:5050'], auth: { type: 'kerberos' }, failovertimeout: -1, labels: { a: 1 } },
      problems,
    );
    expect(problems).toEqual([
      "Mesos master 'm1:5050' must be a URL like http://host:5050",
      "mesos.auth.type 'kerberos' must be none or basic",
      'mesos.failovertimeout must be a number of milliseconds, at least 0',
      'mesos.labels.a must be a string',
    ]);
  });
});
