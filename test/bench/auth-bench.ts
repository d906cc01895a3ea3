/**
 * GET one job through each authorization backend with a warm decision cache, against the `none`
 * backend: the goal is within 20 % of its throughput. Starts the built API (embedded store) once
 * per backend, a GitLab v4 fake and a real slapd. Run with `npm run bench:auth` (after a build).
 * BENCH_DURATION: seconds per measured run (default 10).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FakeGitLab } from '../support/fake-gitlab';
import { freePort } from '../support/free-port';
import { SlapdServer, TEST_DIRECTORY_LDIF } from '../support/slapd';

interface AutocannonResult {
  readonly requests: { readonly average: number };
  readonly latency: { readonly p50: number; readonly p99: number };
  readonly non2xx: number;
  readonly errors: number;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  headers?: Record<string, string>;
}) => PromiseLike<AutocannonResult>;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Autocannon;

const API_MAIN = path.resolve(__dirname, '../../apps/api/src/main.js');
const REPO_ROOT = path.resolve(__dirname, '../../../../..');
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = 32;
const TOKEN = 'glpat-bench-0123456789abcdef';
const JOB = {
  group: 'g',
  project: 'p',
  id: 'bench',
  cpus: 1,
  mem: 16,
  cmd: 'true',
  schedule: { cron: '0 0 1 1 *' },
  container: { docker: { image: 'alpine' } },
};

interface Backend {
  readonly name: string;
  readonly env: Record<string, string>;
  readonly headers: Record<string, string>;
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'rhythm-auth-bench-'));
  const gitlab = await FakeGitLab.start({ tokens: { [TOKEN]: { 'g/p': { project_access: 40 } } } });
  // The compiled bench runs from dist/, which holds no LDIF: read the source tree's.
  const ldif = path.join(
    REPO_ROOT,
    path.relative(path.resolve(__dirname, '../../'), TEST_DIRECTORY_LDIF),
  );
  const slapd = await SlapdServer.start({ ldif });
  const ldapConfig = path.join(scratch, 'ldap.json');
  writeFileSync(
    ldapConfig,
    JSON.stringify({
      api: {
        auth: {
          backend: 'ldap',
          ldap: {
            addrs: [slapd.url],
            userdn: `ou=people,${slapd.suffix}`,
            userattr: 'uid',
            groupdn: `ou=groups,${slapd.suffix}`,
            groupacl: { devs: { 'g/p': 'readwrite' } },
          },
        },
      },
    }),
  );
  const basic = `Basic ${Buffer.from('alice:alice-pw').toString('base64')}`;
  const backends: Backend[] = [
    { name: 'none', env: {}, headers: {} },
    {
      name: 'gitlab',
      env: { RHYTHM_AUTH: 'gitlab', RHYTHM_GITLAB_ADDR: gitlab.url },
      headers: { 'X-Token': TOKEN },
    },
    { name: 'ldap', env: { RHYTHM_CONFIG: ldapConfig }, headers: { Authorization: basic } },
  ];
  const rows: Array<{
    backend: string;
    rps: number;
    p50: number;
    p99: number;
    non2xx: number;
    ratio: number;
  }> = [];
  try {
    for (const backend of backends) {
      const api = await startApi(backend, path.join(scratch, backend.name));
      try {
        const created = await fetch(`${api.url}/api/v1/jobs`, {
          method: 'POST',
          headers: backend.headers,
          body: JSON.stringify(JOB),
        });
        if (created.status !== 204) {
          throw new Error(`${backend.name}: create answered ${created.status}`);
        }
        const url = `${api.url}/api/v1/jobs/g/p/bench`;
        await autocannon({ url, connections: CONNECTIONS, duration: 2, headers: backend.headers }); // warm-up
        const result = await autocannon({
          url,
          connections: CONNECTIONS,
          duration: DURATION_S,
          headers: backend.headers,
        });
        const none = rows[0]?.rps ?? result.requests.average;
        rows.push({
          backend: backend.name,
          rps: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          non2xx: result.non2xx + result.errors,
          ratio: result.requests.average / none,
        });
      } finally {
        await stop(api.child);
      }
    }
  } finally {
    await gitlab.stop();
    await slapd.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  const lines = [
    `GET one job, ${CONNECTIONS} connections, ${DURATION_S} s, embedded store, decision cache warm`,
    '',
    '| backend | req/s | p50 ms | p99 ms | non-2xx | vs none | goal ≥ 80 % |',
    '|---|--:|--:|--:|--:|--:|---|',
    ...rows.map(
      (r) =>
        `| ${r.backend} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${(r.ratio * 100).toFixed(0)} % | ${
          r.backend === 'none' ? '' : r.ratio >= 0.8 && r.non2xx === 0 ? 'pass' : 'FAIL'
        } |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  mkdirSync(path.join(REPO_ROOT, '.bench'), { recursive: true });
  writeFileSync(path.join(REPO_ROOT, '.bench', 'auth-results.json'), JSON.stringify(rows, null, 2));
}

async function startApi(
  backend: Backend,
  dataDir: string,
): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [API_MAIN], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      RHYTHM_ADDR: `127.0.0.1:${port}`,
      RHYTHM_DATA_DIR: dataDir,
      RHYTHM_LOG_LEVEL: 'error',
      ...backend.env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 200; attempt++) {
    const healthy = await fetch(`${url}/api/v1/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (healthy) return { url, child };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop(child);
  throw new Error(`the ${backend.name} API did not start`);
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
