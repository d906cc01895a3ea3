import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { killProcess, waitForPort } from './server-process';

/**
 * A real redis-server from PATH on a free loopback port, owned by the test that starts it.
 * Persistence is on (appendonly, fsync always) so tests can restart it without losing data.
 */
export class RedisServer {
  private process: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<RedisServer> {
    const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
    if (probe.error) {
      throw new Error(
        'redis-server was not found on PATH. Install it (Debian: apt-get install -y redis-server); ' +
          'the Redis tests start their own server and cannot run without it.',
      );
    }
    const server = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), 'rhythm-redis-')));
    await server.launch();
    return server;
  }

  private async launch(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir];
    args.push('--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--daemonize', 'no');
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.process = child;
    await waitForPort('redis-server', this.port, child);
  }

  /** Stops the server abruptly (SIGKILL), as a crash would. */
  async kill(): Promise<void> {
    const child = this.process;
    this.process = null;
    await killProcess(child);
  }

  /** Starts it again on the same port and data directory. */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
