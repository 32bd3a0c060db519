// Runs tasks of one key one after another (a session's Start before its Stop;
// one subscriber created once), tasks of different keys side by side. A key
// with nothing queued holds no memory.
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(task, task);
    const tail = next.catch(() => {});
    this.tails.set(key, tail);
    void tail.then(() => { if (this.tails.get(key) === tail) this.tails.delete(key); });
    return next;
  }

  get size(): number { return this.tails.size; }
}
