import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

const FOCUSABLE = 'button, input, select, textarea, a[href], [tabindex]:not([tabindex="-1"])';

/**
 * A modal built on the native `<dialog>`: `showModal` makes the rest of the page inert (focus
 * stays inside), Escape closes it, and focus goes back to whatever opened it.
 */
export function Modal(props: { title: string; onClose: () => void; children: ComponentChildren; describedBy?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = `dialog-${props.title.replace(/\W+/g, '-').toLowerCase()}`;
  const { onClose } = props;
  useEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    dialog.showModal();
    const cancel = (event: Event): void => {
      event.preventDefault();
      onClose();
    };
    // A modal dialog makes the page inert, but Tab past its last control would leave for the
    // browser's own UI: wrap around instead, so focus stays in the dialog until it closes.
    const trap = (event: KeyboardEvent): void => {
      if (event.key !== 'Tab') return;
      const focusable = [...dialog.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => !el.hasAttribute('disabled'));
      const first = focusable[0];
      const last = focusable.at(-1);
      if (first === undefined || last === undefined) return;
      const active = document.activeElement;
      if (event.shiftKey && (active === first || !dialog.contains(active))) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (active === last || !dialog.contains(active))) {
        event.preventDefault();
        first.focus();
      }
    };
    dialog.addEventListener('cancel', cancel);
    dialog.addEventListener('keydown', trap);
    return () => {
      dialog.removeEventListener('cancel', cancel);
      dialog.removeEventListener('keydown', trap);
      if (dialog.open) dialog.close();
      if (opener?.isConnected === true) opener.focus();
    };
  }, [onClose]);
  return (
    <dialog ref={ref} aria-labelledby={titleId} aria-describedby={props.describedBy}>
      <h2 id={titleId}>{props.title}</h2>
      {props.children}
    </dialog>
  );
}
