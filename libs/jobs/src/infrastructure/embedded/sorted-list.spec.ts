import { SortedList } from './sorted-list';

interface Item {
  readonly at: number;
  readonly key: string;
}

const order = (a: Item, b: Item) => a.at - b.at || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

describe('SortedList', () => {
  it('keeps the order of a reference array through random inserts and deletes', () => {
    let seed = 1;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    const list = new SortedList<Item>(order);
    const reference: Item[] = [];
    let largest = 0;
    for (let step = 0; step < 16_000; step++) {
      // Grows to a few thousand items (several chunks), then shrinks to empty.
      const growing = step < 10_000 ? random(10) < 7 : random(10) < 1;
      if (growing || reference.length === 0) {
        const item = { at: random(500), key: `k${step}` };
        list.insert(item);
        let index = 0;
        while (index < reference.length && order(reference[index], item) < 0) index += 1;
        reference.splice(index, 0, item);
      } else {
        const [item] = reference.splice(random(reference.length), 1);
        expect(list.delete(item)).toBe(true);
        expect(list.delete(item)).toBe(false);
      }
      largest = Math.max(largest, reference.length);
      if (step % 1999 === 0 || step === 15_999) {
        expect([...list.from()]).toEqual(reference);
        expect(list.size).toBe(reference.length);
        expect(list.first()).toBe(reference[0]);
      }
    }
    expect(largest).toBeGreaterThan(3000);
  });

  it('iterates from the first item not before a bound', () => {
    const list = new SortedList<Item>(order);
    const items = Array.from({ length: 3000 }, (_, i) => ({ at: i, key: '' }));
    list.reset(items);
    expect([...list.from((x) => x.at < 2500)]).toEqual(items.slice(2500));
    expect([...list.from((x) => x.at < 5000)]).toEqual([]);
    expect([...list.from((x) => x.at < -1)]).toHaveLength(3000);
  });

  it('does not delete an equal item that is not the stored one', () => {
    const list = new SortedList<Item>(order);
    list.insert({ at: 1, key: 'a' });
    expect(list.delete({ at: 1, key: 'a' })).toBe(false);
    expect(list.size).toBe(1);
  });
});
