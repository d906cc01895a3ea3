/** Most items a chunk holds before it is split in two. */
const MAX_CHUNK = 1024;
/** A chunk smaller than this is merged into a neighbour when the two fit in one. */
const MIN_CHUNK = MAX_CHUNK / 8;

/**
 * Distinct items kept in the order of `compare`, as a list of sorted chunks: finding a place is a
 * binary search over the chunks' last items and then within one chunk, and an insert or removal
 * moves at most one chunk's items (plus, rarely, the chunk list when a chunk splits or merges).
 * So each change costs O(log n + MAX_CHUNK), never a re-sort or a move of the whole list.
 */
export class SortedList<T> {
  private chunks: T[][] = [];
  private count = 0;

  constructor(private readonly compare: (a: T, b: T) => number) {}

  /** Replaces the content with `items`, which must already be in order. */
  reset(items: readonly T[]): void {
    this.chunks = [];
    for (let i = 0; i < items.length; i += MAX_CHUNK / 2) {
      this.chunks.push(items.slice(i, i + MAX_CHUNK / 2));
    }
    this.count = items.length;
  }

  get size(): number {
    return this.count;
  }

  first(): T | undefined {
    return this.chunks[0]?.[0];
  }

  insert(item: T): void {
    if (this.chunks.length === 0) {
      this.chunks.push([item]);
      this.count = 1;
      return;
    }
    const c = Math.min(
      this.chunkAtOrAfter((x) => this.compare(x, item) < 0),
      this.chunks.length - 1,
    );
    const chunk = this.chunks[c];
    chunk.splice(
      lowerBound(chunk, (x) => this.compare(x, item) < 0),
      0,
      item,
    );
    this.count += 1;
    if (chunk.length > MAX_CHUNK) this.chunks.splice(c + 1, 0, chunk.splice(chunk.length >>> 1));
  }

  /** Removes `item` itself (compared by identity once found by order); false when absent. */
  delete(item: T): boolean {
    const c = this.chunkAtOrAfter((x) => this.compare(x, item) < 0);
    const chunk = this.chunks[c] as T[] | undefined;
    if (!chunk) return false;
    const index = lowerBound(chunk, (x) => this.compare(x, item) < 0);
    if (chunk[index] !== item) return false;
    chunk.splice(index, 1);
    this.count -= 1;
    if (chunk.length < MIN_CHUNK) this.mergeSmall(c);
    return true;
  }

  /** Items from the first one for which `before` is false, in order; `before` must be monotonic. */
  *from(before: (item: T) => boolean = () => false): IterableIterator<T> {
    const start = this.chunkAtOrAfter(before);
    for (let c = start; c < this.chunks.length; c++) {
      const chunk = this.chunks[c];
      for (let i = c === start ? lowerBound(chunk, before) : 0; i < chunk.length; i++) {
        yield chunk[i];
      }
    }
  }

  /** Index of the first chunk whose last item is not `before`; chunks.length when none. */
  private chunkAtOrAfter(before: (item: T) => boolean): number {
    let low = 0;
    let high = this.chunks.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const chunk = this.chunks[mid];
      if (before(chunk[chunk.length - 1])) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private mergeSmall(c: number): void {
    const chunk = this.chunks[c];
    if (chunk.length === 0) {
      this.chunks.splice(c, 1);
      return;
    }
    const neighbour = c + 1 < this.chunks.length ? c + 1 : c - 1;
    if (neighbour < 0 || this.chunks[neighbour].length + chunk.length > MAX_CHUNK) return;
    const [low, high] = neighbour > c ? [c, neighbour] : [neighbour, c];
    this.chunks.splice(low, 2, this.chunks[low].concat(this.chunks[high]));
  }
}

/** Index of the first item for which `before` is false. */
function lowerBound<T>(items: readonly T[], before: (item: T) => boolean): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (before(items[mid])) low = mid + 1;
    else high = mid;
  }
  return low;
}
