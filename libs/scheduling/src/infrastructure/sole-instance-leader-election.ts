import type { LeaderElection, LeadershipTerm } from '../application/ports/leader-election.port';

/**
 * For one-process deployments (the embedded store, which one process owns): the instance leads from
 * start to stop, in a single term.
 */
export class SoleInstanceLeaderElection implements LeaderElection {
  private term: { epoch: number; controller: AbortController } | null = null;
  private readonly listeners: Array<(term: LeadershipTerm) => void> = [];

  isLeader(): boolean {
    return this.term !== null;
  }

  currentTerm(): LeadershipTerm | null {
    return this.term ? { epoch: this.term.epoch, signal: this.term.controller.signal } : null;
  }

  onTerm(listener: (term: LeadershipTerm) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    if (this.term) return;
    this.term = { epoch: 1, controller: new AbortController() };
    const term = this.currentTerm() as LeadershipTerm;
    for (const listener of this.listeners) listener(term);
  }

  async stop(): Promise<void> {
    this.term?.controller.abort();
    this.term = null;
  }
}
