import type { SchedulerStateRepository } from '../../application/ports/scheduler-state.port';
import type { EmbeddedStore } from './embedded-store';

const STATE_FILE = 'scheduler-state.json';

/**
 * Scheduler state in one JSON file beside the journal. The embedded store has one process, which
 * always leads, so fences never refuse; writes are serialised so the file is never torn.
 */
export class EmbeddedSchedulerStateRepository implements SchedulerStateRepository {
  private writes: Promise<void> = Promise.resolve();

  constructor(private readonly store: EmbeddedStore) {}

  async get(name: string): Promise<string | null> {
    await this.writes;
    return (await this.read())[name] ?? null;
  }

  set(name: string, value: string | null): Promise<void> {
    const write = this.writes.then(async () => {
      const state = await this.read();
      if (value === null) delete state[name];
      else state[name] = value;
      await this.store.writeSideFile(STATE_FILE, JSON.stringify(state));
    });
    this.writes = write.catch(() => undefined);
    return write;
  }

  private async read(): Promise<Record<string, string>> {
    const text = await this.store.readSideFile(STATE_FILE);
    return text === null ? {} : (JSON.parse(text) as Record<string, string>);
  }
}
