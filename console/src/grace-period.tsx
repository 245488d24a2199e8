import type { ComponentChildren, JSX } from 'preact';
import { useState } from 'preact/hooks';
import { Modal } from './dialog.tsx';
import { errorText } from './format.ts';

/**
 * The `Grace period` field of both roll dialogs: seconds the replaced key keeps working. 0 (the
 * default, as after a leak) stops it at once; the API's own rule (0 to 7 days) answers anything
 * else, shown in place.
 */
function useGracePeriod(): { seconds: number | undefined; field: JSX.Element } {
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

/**
 * A roll, user key or account key alike: the `Grace period` field, the refusal shown in place,
 * and `Roll`, which calls `roll` with the seconds and stays busy until it settles.
 */
export function RollDialog(props: { title: string; children: ComponentChildren; roll: (graceSeconds: number) => Promise<void>; onClose: () => void }) {
  const grace = useGracePeriod();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  return (
    <Modal title={props.title} onClose={props.onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (grace.seconds === undefined) return;
          setBusy(true);
          props.roll(grace.seconds).catch((e: unknown) => { setBusy(false); setError(errorText(e)); });
        }}
      >
        {props.children}
        {grace.field}
        {error === undefined ? null : <p role="alert" class="error">{error}</p>}
        <div class="actions">
          <button type="button" onClick={props.onClose}>Cancel</button>
          <button type="submit" class="primary" disabled={busy || grace.seconds === undefined}>Roll</button>
        </div>
      </form>
    </Modal>
  );
}
