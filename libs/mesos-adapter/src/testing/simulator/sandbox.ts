import { mkdirSync, realpathSync, symlinkSync, unlinkSync } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Executor sandboxes laid out as a real agent does (`<work_dir>/slaves/<agent>/frameworks/<fw>/
 * executors/<executor>/runs/<container>`, plus a `latest` link), and the agent's file server:
 * virtual paths attached to directories, resolved by longest prefix as `files.cpp` does.
 */

/** READ_FILE reads at most 16 memory pages per call. */
export const MAX_READ_BYTES = 16 * 4096;

export type ReadFileResult =
  { ok: true; size: number; data: Buffer } | { ok: false; status: 400 | 404; message: string };

export class SandboxFiles {
  private readonly root: string;
  /** Virtual path → real directory. */
  private readonly attached = new Map<string, string>();

  constructor(workDir: string, agentId: string) {
    mkdirSync(workDir, { recursive: true });
    this.root = join(realpathSync(workDir), 'slaves', agentId);
  }

  /** Creates the run directory of one executor and attaches its virtual paths; returns it. */
  create(frameworkId: string, executorId: string, containerId: string): string {
    const executorDir = join(this.root, 'frameworks', frameworkId, 'executors', executorId);
    const runDir = join(executorDir, 'runs', containerId);
    mkdirSync(runDir, { recursive: true });
    const latest = join(executorDir, 'runs', 'latest');
    try {
      unlinkSync(latest);
    } catch {
      // No previous run of this executor.
    }
    symlinkSync(containerId, latest);
    this.attached.set(runDir, runDir);
    this.attached.set(latest, runDir);
    this.attached.set(`/frameworks/${frameworkId}/executors/${executorId}/runs/latest`, runDir);
    return runDir;
  }

  /** READ_FILE: the whole file size and up to `length` bytes from `offset`. */
  async read(path: string, offset: number, length: number | undefined): Promise<ReadFileResult> {
    const resolved = await this.resolve(path);
    if (resolved.kind === 'missing') return { ok: false, status: 404, message: '' };
    if (resolved.kind === 'invalid') return { ok: false, status: 400, message: resolved.message };
    const info = await stat(resolved.path);
    if (info.isDirectory()) {
      return { ok: false, status: 400, message: 'Cannot read a directory.\n' };
    }
    const size = info.size;
    if (offset >= size || length === 0) return { ok: true, size, data: Buffer.alloc(0) };
    const wanted = Math.min(length ?? size - offset, MAX_READ_BYTES);
    const handle = await open(resolved.path, 'r');
    try {
      const buffer = Buffer.alloc(wanted);
      const { bytesRead } = await handle.read(buffer, 0, wanted, offset);
      return { ok: true, size, data: buffer.subarray(0, bytesRead) };
    } finally {
      await handle.close();
    }
  }

  private async resolve(
    path: string,
  ): Promise<
    { kind: 'found'; path: string } | { kind: 'missing' } | { kind: 'invalid'; message: string }
  > {
    const tokens = path.replace(/\/+$/, '').split('/');
    const suffix: string[] = [];
    while (tokens.length > 0) {
      const prefix = tokens.join('/');
      const base = this.attached.get(prefix);
      if (base === undefined) {
        suffix.unshift(tokens.pop() ?? '');
        continue;
      }
      const candidate = suffix.length > 0 ? join(base, ...suffix) : base;
      let real: string;
      try {
        real = await realpath(candidate);
      } catch {
        return { kind: 'missing' };
      }
      // A symlink in the sandbox must not lead out of it.
      if (!real.startsWith(base)) {
        return { kind: 'invalid', message: `'${candidate}' is inaccessible.\n` };
      }
      return { kind: 'found', path: real };
    }
    return { kind: 'missing' };
  }
}
