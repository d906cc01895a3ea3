import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { freePort } from '../../support/free-port';
import { REPO_ROOT, waitFor } from '../scheduler/common';

export const SOURCE_MAIN = 'apps/api/src/main.ts';
export const DIST_MAIN = 'dist/apps/api/apps/api/src/main.js';

/**
 * The real API (`apps/api/src/main.ts` under ts-node, no build needed, or the built `dist`) as a
 * child process of its own, so that its memory and CPU can be read from /proc apart from the
 * bench's. Only the given RHYTHM_* settings apply: none of the bench's own environment.
 */
export class RhythmProcess {
  private outputTail = '';
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        this.outputTail = (this.outputTail + chunk).slice(-8192);
      });
    }
  }

  static async start(options: {
    env: Record<string, string>;
    nodeArgs?: readonly string[];
    /** Runs the built `dist` instead of the sources under ts-node. */
    fromDist?: boolean;
  }): Promise<RhythmProcess> {
    const main = options.fromDist
      ? [DIST_MAIN]
      : ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', SOURCE_MAIN];
    if (options.fromDist && !existsSync(path.join(REPO_ROOT, DIST_MAIN))) {
      throw new Error(`${DIST_MAIN} is missing: build first (npm run build)`);
    }
    const port = await freePort();
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...main], {
      cwd: REPO_ROOT,
      // stdout too: the JSON log lines (errors only, with RHYTHM_LOG_LEVEL=error).
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...Object.fromEntries(
          Object.entries(process.env).filter(([key]) => !key.startsWith('RHYTHM_')),
        ),
        ...options.env,
        RHYTHM_ADDR: `127.0.0.1:${port}`,
      },
    });
    return new RhythmProcess(child, `http://127.0.0.1:${port}`);
  }

  get pid(): number {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error('the Rhythm process has no pid');
    return pid;
  }

  /** The last 8 KiB Rhythm wrote (log lines on stdout, crashes on stderr). */
  get output(): string {
    return this.outputTail;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits until /api/v1/health says this instance leads; fails at once if it exits. */
  async waitForLeadership(timeoutMs: number): Promise<void> {
    await waitFor(
      async () => {
        if (!this.running) throw new Error(`Rhythm exited during start-up: ${this.outputTail}`);
        try {
          const response = await fetch(`${this.url}/api/v1/health`, {
            signal: AbortSignal.timeout(1_000),
          });
          return response.ok && ((await response.json()) as { Leader: boolean }).Leader;
        } catch {
          return false; // not listening yet
        }
      },
      'Rhythm to answer /api/v1/health as the leader',
      timeoutMs,
      100,
    );
  }

  /** SIGTERM (graceful: a `--cpu-prof` profile is written), SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** A `/proc/<pid>/status` field in kB (VmRSS, VmHWM), or null once the process is gone. */
export function statusKb(pid: number, field: string): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return match ? Number(match[1]) : null;
}

/**
 * VmRSS of a process sampled every `intervalMs`: the peak since the last `mark()` and overall.
 * The kernel's VmHWM (which no interval can miss) is read alongside.
 */
export class RssSampler {
  private readonly timer: NodeJS.Timeout;
  private peakKb = 0;
  private sincePeakKb = 0;

  constructor(
    private readonly pid: number,
    intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** The current RSS (MB), which starts a new "since" window. */
  mark(): number {
    const kb = this.sample();
    this.sincePeakKb = kb;
    return kb / 1024;
  }

  /** Peak sampled RSS since the last mark (MB). */
  peakSinceMarkMb(): number {
    this.sample();
    return this.sincePeakKb / 1024;
  }

  peakMb(): number {
    this.sample();
    return this.peakKb / 1024;
  }

  highWaterMarkMb(): number | null {
    const kb = statusKb(this.pid, 'VmHWM');
    return kb === null ? null : kb / 1024;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(): number {
    const kb = statusKb(this.pid, 'VmRSS') ?? 0;
    this.peakKb = Math.max(this.peakKb, kb);
    this.sincePeakKb = Math.max(this.sincePeakKb, kb);
    return kb;
  }
}
