import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { errorText } from './format.ts';

/** What a tab shows of the API: the latest answer, the latest fault, and how to read again. */
export interface Loaded<T> {
  /** The latest answer; undefined until the first one arrives (the tab says it is loading). */
  readonly data: T | undefined;
  /** The latest fault, as a sentence to show; cleared by the next write. */
  readonly error: string | undefined;
  /** Reads again; an answer to an earlier read that arrives later is dropped. */
  readonly reload: () => void;
  /** Makes a write, then reads again whether it succeeded or not; its fault is shown. */
  readonly act: (write: Promise<unknown>) => void;
}

/**
 * Loads what `read` answers when the tab opens and whenever `read` changes (pass it through
 * `useCallback`, with what it reads from as its dependencies: a new page cursor reads the new
 * page). The previous answer stays on screen until the next one arrives.
 */
export function useLoaded<T>(read: () => Promise<T>): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  const latest = useRef(0);
  const reload = useCallback(() => {
    latest.current += 1;
    const mine = latest.current;
    read().then(
      (value) => { if (mine === latest.current) setData(() => value); },
      (e: unknown) => { if (mine === latest.current) setError(errorText(e)); },
    );
  }, [read]);
  useEffect(reload, [reload]);
  const act = useCallback((write: Promise<unknown>) => {
    setError(undefined);
    write.then(reload, (e: unknown) => { setError(errorText(e)); reload(); });
  }, [reload]);
  return { data, error, reload, act };
}
