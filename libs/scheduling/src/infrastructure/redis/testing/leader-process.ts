/**
 * A child process for the cross-process leader election tests: campaigns with a
 * RedisLeaderElection and reports to its parent over IPC.
 *
 * argv: <redis url> <key prefix> <ttl ms> <retry ms>
 * Sends:   { event: 'ready', pid } once campaigning,
 *          { event: 'term', epoch, pid } for each term won,
 *          { event: 'lost', epoch, pid } when that term's signal aborts,
 *          { event: 'status', leader, epoch, pid } in answer to { cmd: 'status' }.
 * Exits when the parent goes away.
 */
import { createRedisConnection } from '@rhythm/jobs';
import { RedisLeaderElection } from '../redis-leader-election';

export type LeaderProcessMessage =
  | { event: 'ready'; pid: number }
  | { event: 'term'; epoch: number; pid: number }
  | { event: 'lost'; epoch: number; pid: number }
  | { event: 'status'; leader: boolean; epoch: number | null; pid: number };

export type LeaderProcessCommand = { cmd: 'status' };

function send(message: LeaderProcessMessage): void {
  if (process.connected) process.send?.(message);
}

function main(): void {
  const [url, keyPrefix, ttl, retry] = process.argv.slice(2);
  if (!url || !keyPrefix) {
    throw new Error('usage: leader-process <redis url> <key prefix> [ttl] [retry]');
  }
  const redis = createRedisConnection(url);
  redis.on('error', () => undefined);
  const election = new RedisLeaderElection(redis, {
    keyPrefix,
    ttlMs: Number(ttl ?? 1_000),
    retryMs: Number(retry ?? 200),
  });
  election.onTerm((term) => {
    send({ event: 'term', epoch: term.epoch, pid: process.pid });
    term.signal.addEventListener('abort', () =>
      send({ event: 'lost', epoch: term.epoch, pid: process.pid }),
    );
  });
  process.on('message', (command: LeaderProcessCommand) => {
    if (command.cmd === 'status') {
      const leader = election.isLeader();
      const epoch = election.currentTerm()?.epoch ?? null;
      send({ event: 'status', leader, epoch, pid: process.pid });
    }
  });
  process.on('disconnect', () => process.exit(0));
  void election.start().then(() => send({ event: 'ready', pid: process.pid }));
}

main();
