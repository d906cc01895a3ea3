import { writeFileSync } from 'node:fs';
import { Session, type Profiler } from 'node:inspector/promises';
import * as path from 'node:path';
import { REPO_ROOT } from './common';

export interface ProfileEntry {
  readonly name: string;
  readonly ms: number;
  /** Share of the profiled wall time. */
  readonly percent: number;
}

export interface ProfileSummary {
  readonly file: string;
  readonly wallMs: number;
  /** Self time by where the code lives: a package, a Rhythm lib, node internals, GC, idle. */
  readonly byArea: readonly ProfileEntry[];
  /** The functions with the most self time. */
  readonly topFunctions: readonly ProfileEntry[];
  /** Self time of everything under each Rhythm source file (callees in packages not included). */
  readonly rhythmFiles: readonly ProfileEntry[];
}

/** The V8 sampling profiler of this process, through the inspector (no restart needed). */
export class CpuProfiler {
  private session: Session | null = null;

  /** `intervalUs`: the sampling interval (a longer one disturbs an idle process less). */
  constructor(private readonly intervalUs = 250) {}

  async start(): Promise<void> {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: this.intervalUs });
    await session.post('Profiler.start');
    this.session = session;
  }

  async stop(file: string): Promise<ProfileSummary> {
    const session = this.session;
    if (!session) throw new Error('the profiler was not started');
    this.session = null;
    const { profile } = await session.post('Profiler.stop');
    await session.post('Profiler.disable');
    session.disconnect();
    writeFileSync(file, JSON.stringify(profile));
    return summarize(profile, path.relative(REPO_ROOT, file));
  }

  /** Stops without keeping anything (cleanup on error). */
  async abandon(): Promise<void> {
    const session = this.session;
    this.session = null;
    if (!session) return;
    await session.post('Profiler.stop').catch(() => undefined);
    session.disconnect();
  }
}

function summarize(profile: Profiler.Profile, file: string): ProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the time after it to the sample.
    const us = deltas[i + 1] ?? 0;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + us);
  }
  const wallUs = profile.endTime - profile.startTime;
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const byRhythmFile = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = nodes.get(id);
    if (!node) continue;
    const frame = node.callFrame;
    const area = areaOf(frame.url, frame.functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
    const where = frame.url === '' ? '' : ` ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    const fn = `${frame.functionName || '(anonymous)'}${where}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  }
  // Inclusive time per Rhythm file: a sample counts for each Rhythm file on its stack, once.
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const url = nodes.get(at)?.callFrame.url ?? '';
      const rel = rhythmFile(url);
      if (rel && !seen.has(rel)) {
        seen.add(rel);
        byRhythmFile.set(rel, (byRhythmFile.get(rel) ?? 0) + us);
      }
    }
  }
  const entries = (map: Map<string, number>, limit: number): ProfileEntry[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, us]) => ({ name, ms: us / 1000, percent: (100 * us) / wallUs }));
  return {
    file,
    wallMs: wallUs / 1000,
    byArea: entries(byArea, 20),
    topFunctions: entries(byFunction, 25),
    rhythmFiles: entries(byRhythmFile, 15),
  };
}

function fileOf(url: string): string {
  return url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
}

function shortUrl(url: string): string {
  const file = fileOf(url);
  const modules = file.lastIndexOf('/node_modules/');
  if (modules >= 0) return file.slice(modules + '/node_modules/'.length);
  return file.startsWith(REPO_ROOT) ? path.relative(REPO_ROOT, file) : file;
}

function rhythmFile(url: string): string | null {
  const file = fileOf(url);
  if (!file.startsWith(REPO_ROOT) || file.includes('/node_modules/')) return null;
  return path.relative(REPO_ROOT, file);
}

function areaOf(url: string, functionName: string): string {
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return 'idle (event loop waiting)';
    if (functionName === '(program)') return 'V8/native (program)';
    return `native ${functionName}`;
  }
  if (url.startsWith('node:')) return 'node internals';
  const file = fileOf(url);
  const modules = file.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = file.slice(modules + '/node_modules/'.length).split('/');
    return `pkg ${parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  const rel = rhythmFile(url);
  if (rel) {
    const parts = rel.split('/');
    return parts[0] === 'libs' ? `rhythm libs/${parts[1]}` : `rhythm ${parts[0]}`;
  }
  return 'other';
}
