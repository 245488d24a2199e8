import type { JSX } from 'preact';
import { useState } from 'preact/hooks';

/**
 * The `Grace period` field of both roll dialogs: seconds the replaced key keeps working. 0 (the
 * default, as after a leak) stops it at once; the API's own rule (0 to 7 days) answers anything
 * else, shown in place.
 */
export function useGracePeriod(): { seconds: number | undefined; field: JSX.Element } {
  const [text, setText] = useState('0');
  const seconds = /^\d+$/.test(text.trim()) ? Number(text.trim()) : undefined;
  const field = (
    <>
      <label>
        Grace period
        <input
          type="number"
          inputMode="numeric"
          min={0}
          step={1}
          value={text}
          aria-describedby="grace-period-hint"
          aria-invalid={seconds === undefined}
          onInput={(e) => { setText(e.currentTarget.value); }}
        />
      </label>
      <p id="grace-period-hint" class="hint">
        Seconds the current key keeps working beside the new one (up to 604800, a week). 0 stops it at once.
      </p>
    </>
  );
  return { seconds, field };
}
