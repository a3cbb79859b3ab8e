/**
 * A FIFO lock. PGlite is a single Postgres session: two transactions sharing it would interleave
 * their statements, so every use of the session takes this lock first.
 */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();
  #waiting = 0;

  get waiting(): number {
    return this.#waiting;
  }

  async acquire(): Promise<() => void> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.#tail;
    this.#tail = previous.then(() => released);
    this.#waiting++;
    await previous;
    this.#waiting--;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      release();
    };
  }
}
