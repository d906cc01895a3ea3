import type { ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';

/** Waits until a server child process listens on a loopback port; fails if it exits first. */
export async function waitForPort(
  name: string,
  port: number,
  child: ChildProcess,
  log: () => string = () => '',
): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}): ${log().trim()}`);
    }
    if (await canConnect(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${name} did not listen on port ${port} within 10 s: ${log().trim()}`);
}

/** Ends a server child process abruptly (SIGKILL), as a crash would. */
export function killProcess(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
