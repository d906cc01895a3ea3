import { awsConfig } from './aws-config';

describe('awsConfig', () => {
  it('defaults to no named account and 5 s polls', () => {
    const problems: string[] = [];
    expect(awsConfig({}, {}, problems)).toEqual({ accounts: {}, pollIntervalMs: 5000 });
    expect(problems).toEqual([]);
  });

  it('reads named accounts with keys in any case, and the poll interval', () => {
    const problems: string[] = [];
    const config = awsConfig(
      { RHYTHM_AWS_POLL_MS: '250' },
      {
        accounts: {
          prod: { Region: 'eu-west-1', ROLEARN: 'arn:aws:iam::1:role/r', externalid: 'x' },
          local: { endpoint: 'http://127.0.0.1:4566' },
        },
      },
      problems,
    );
    expect(problems).toEqual([]);
    expect(config).toEqual({
      accounts: {
        prod: { region: 'eu-west-1', roleArn: 'arn:aws:iam::1:role/r', externalId: 'x' },
        local: { endpoint: 'http://127.0.0.1:4566' },
      },
      pollIntervalMs: 250,
    });
  });

  it('names what is wrong', () => {
    const problems: string[] = [];
    awsConfig({ RHYTHM_AWS_POLL_MS: 'soon' }, { accounts: { prod: 'eu-west-1' } }, problems);
    expect(problems).toEqual([
      'RHYTHM_AWS_POLL_MS (aws.pollinterval) must be an integer of at least 10 (ms)',
      'aws.accounts.prod must be an object',
    ]);
  });
});
