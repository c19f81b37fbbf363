/**
 * Runs an async write at most once at a time; calls made while one is in flight collapse into a
 * single follow-up write. Storage on mini-programs is slow and asynchronous, and only the newest
 * value matters (inbox position, pending outbox), so this keeps writes bounded under load.
 */
export class CoalescedWriter {
  private running = false;
  private again = false;

  constructor(
    private readonly write: () => Promise<void> | void,
    private readonly onError: (err: unknown) => void,
  ) {}

  schedule(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.again = false;
    let result: Promise<void>;
    try {
      result = Promise.resolve(this.write());
    } catch (err) {
      result = Promise.reject(err);
    }
    result.catch(this.onError).then(() => {
      this.running = false;
      if (this.again) this.schedule();
    });
  }
}
