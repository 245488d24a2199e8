import type { Writable } from 'node:stream';

/**
 * The local runtime's stdout and stderr once nobody reads them (`npm start | head -2`, its
 * terminal closed, the parent that read it gone). Each write then fails (EPIPE, EIO, or
 * ERR_STREAM_DESTROYED), and Node reports the failure as an 'error' event on a later tick.
 * Unheard, it becomes an uncaught exception, whose report is itself a write that fails: the
 * process spins on that loop and never reaches its clean-up. Node's stdio streams also undo
 * their own destruction, so every later write fails anew rather than being dropped.
 *
 * So: the first failure closes that output for good. Its writes become no-ops that succeed,
 * the runtime keeps serving, and no fault handler ever writes to a broken stream.
 */
function quietWhenClosed(stream: Writable): void {
  let closed = false;
  stream.on('error', () => {
    // Whatever the code, this output cannot be written any more; nothing here may throw or write.
    if (closed) return;
    closed = true;
    stream.write = (...args: unknown[]): boolean => {
      // A caller that waits for its write (a callback as last argument) hears that it is done.
      const callback = args.at(-1);
      if (typeof callback === 'function') {
        queueMicrotask(() => {
          (callback as () => void)();
        });
      }
      return true;
    };
  });
}

/** Installed first thing in `npm start`, before anything writes. */
export function quietWhenOutputCloses(): void {
  quietWhenClosed(process.stdout);
  quietWhenClosed(process.stderr);
}
