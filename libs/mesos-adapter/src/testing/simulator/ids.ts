import { randomBytes, randomUUID } from 'node:crypto';

/**
 * Identifier formats of a real Mesos 1.x master: the master id is a UUID, and frameworks, agents
 * and offers are numbered under the id of the master that created them (`<master>-0000`,
 * `<master>-S0`, `<master>-O0`).
 */

export function newMasterId(): string {
  return randomUUID();
}

export function newContainerId(): string {
  return randomUUID();
}

export function frameworkIdOf(masterId: string, sequence: number): string {
  return `${masterId}-${String(sequence).padStart(4, '0')}`;
}

export function agentIdOf(masterId: string, sequence: number): string {
  return `${masterId}-S${sequence}`;
}

export function offerIdOf(masterId: string, sequence: number): string {
  return `${masterId}-O${sequence}`;
}

/** 16 random bytes shaped as an RFC 4122 version-4 UUID, as agents put in `TaskStatus.uuid`. */
export function newStatusUuid(): Buffer {
  const bytes = randomBytes(16);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  return bytes;
}

/** The master's `UUID::fromBytes` check: exactly 16 bytes with a known UUID version (1 to 5). */
export function isUuidBytes(bytes: Buffer): boolean {
  if (bytes.length !== 16) return false;
  const version = bytes[6] >> 4;
  return version >= 1 && version <= 5;
}
