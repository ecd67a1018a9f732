/**
 * A background loop that runs one step, waits an interval (or until woken), and
 * repeats until stopped; a failing step is reported and the loop goes on. Shared by
 * the roles that poll (the cascade mixer, the survey collector).
 *
 * @module
 */

/** Options of {@linkcode PollLoop}. */
export interface PollLoopOptions {
  /** Milliseconds between steps. */
  intervalMs: number;
  /** One step. */
  step: () => Promise<unknown>;
  /** Called with the error of a failed step (the loop goes on). */
  onError: (error: unknown) => void;
}

/**
 * A start/stop polling loop with early wake-up.
 *
 * @example
 * ```ts
 * import { PollLoop } from "./poll_loop.ts";
 * let steps = 0;
 * const loop = new PollLoop({ intervalMs: 10, step: async () => void steps++, onError: () => {} });
 * loop.start();
 * await loop.stop();
 * console.assert(steps >= 1);
 * ```
 */
export class PollLoop {
  #o: PollLoopOptions;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  /**
   * Creates the loop (not started).
   *
   * @param options interval, step and error handler
   */
  constructor(options: PollLoopOptions) {
    this.#o = options;
  }

  /** True once {@linkcode stop} was called on a started loop: a long step may end early. */
  get stopping(): boolean {
    return !this.#running && this.#loop !== undefined;
  }

  /** Starts the loop (once). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Ends the wait before the next step. */
  wake(): void {
    this.#wake?.();
  }

  /**
   * Stops after the current step.
   *
   * @returns when the loop has ended
   */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        await this.#o.step();
      } catch (error) {
        this.#o.onError(error);
      }
      if (!this.#running) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.#o.intervalMs);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }
}
