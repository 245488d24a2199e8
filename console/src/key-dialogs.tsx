import { useState } from 'preact/hooks';
import { keyNameProblem, type Api, type ApiKey, type User } from './api.ts';
import { Modal } from './dialog.tsx';
import { clipboardAvailable, copyText, errorText, NO_CLIPBOARD, when } from './format.ts';
import { RollDialog } from './grace-period.tsx';
import { PermissionsFieldset, choiceOf, chosenList, grantedTo, holderRole, usePermissionCatalog } from './permissions-dialog.tsx';

/** A user key's secret, shown once: after Create and after Roll. */
export interface OneTimeSecret {
  readonly keyId: string;
  readonly secret: string;
  /** After a roll: until when the replaced secret works (null: it stopped at once). */
  readonly previousUntil?: string | null;
}

/** `datetime-local` text (the person's own time zone) as RFC 3339 UTC, or undefined when empty. */
function expiryOf(text: string): string | undefined {
  if (text.trim() === '') return undefined;
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

export function AddKeyDialog(props: { api: Api; users: readonly User[] | undefined; onClose: () => void; onCreated: (created: OneTimeSecret) => void }) {
  const users = props.users ?? [];
  const [name, setName] = useState('');
  const [touched, setTouched] = useState(false);
  const [picked, setPicked] = useState<string>();
  const [expires, setExpires] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const { catalog, error: catalogError } = usePermissionCatalog(props.api);
  const [choice, setChoice] = useState(() => choiceOf(null));
  // The users may arrive after the dialog opened: until one is picked, the first is, whenever it comes.
  const userId = users.some((u) => u.id === picked) ? (picked ?? '') : (users[0]?.id ?? '');
  const problem = keyNameProblem(name);
  // The checkboxes follow the picked user's role: a viewer's key is offered only what a viewer may do.
  const granted = grantedTo(catalog, holderRole(users.find((u) => u.id === userId)));
  const permissions = chosenList(choice, granted);
  return (
    <Modal title="Add API user key" onClose={props.onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setTouched(true);
          if (problem !== undefined || userId === '' || permissions === undefined) return;
          setBusy(true);
          const expiresAt = expiryOf(expires);
          const restriction = permissions === null ? {} : { permissions };
          props.api.createApiKey({ name, userId, ...(expiresAt === undefined ? {} : { expiresAt }), ...restriction }).then(
            (created) => { props.onCreated({ keyId: created.id, secret: created.secret }); },
            (e: unknown) => { setBusy(false); setError(errorText(e)); },
          );
        }}
      >
        <label>
          Key name
          <input
            value={name}
            required
            aria-invalid={touched && problem !== undefined}
            aria-describedby="key-name-rule"
            onInput={(e) => { setName(e.currentTarget.value); setTouched(true); }}
          />
        </label>
        <p id="key-name-rule" class={touched && problem !== undefined ? 'error' : 'hint'} aria-live="polite">
          {touched && problem !== undefined ? problem : '10 to 50 characters: letters, digits, hyphens and underscores.'}
        </p>
        <label>
          User name
          <select value={userId} aria-describedby="key-user-hint" onChange={(e) => { setPicked(e.currentTarget.value); }}>
            {users.map((u) => (
              <option key={u.id} value={u.id}>{`${u.name} (${u.role})`}</option>
            ))}
          </select>
        </label>
        <p id="key-user-hint" class="hint" aria-live="polite">
          {props.users === undefined ? 'Loading the users…' : users.length === 0 ? 'No user may hold keys: add an owner, viewer or logs viewer first.' : ''}
        </p>
        <label>
          Expires
          <input type="datetime-local" value={expires} aria-describedby="key-expiry-hint" onInput={(e) => { setExpires(e.currentTarget.value); }} />
        </label>
        <p id="key-expiry-hint" class="hint">Optional, your local time, at most 366 days ahead. Empty: the key never expires.</p>
        <PermissionsFieldset choice={choice} onChange={setChoice} granted={granted} loadError={catalogError} />
        {error === undefined ? null : <p role="alert" class="error">{error}</p>}
        <div class="actions">
          <button type="button" onClick={props.onClose}>Cancel</button>
          <button type="submit" class="primary" disabled={busy || problem !== undefined || userId === '' || permissions === undefined}>Create</button>
        </div>
      </form>
    </Modal>
  );
}

/**
 * The `API user key` dialog: the secret once, Finish only after it was copied, or, where the
 * page has no clipboard or the copy failed, after the person says they saved it.
 */
export function OneTimeKeyDialog(props: { api: Api; created: OneTimeSecret; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  const [saved, setSaved] = useState(false);
  const [copyFailed, setCopyFailed] = useState(!clipboardAvailable());
  const [status, setStatus] = useState('');
  const [error, setError] = useState<string>();
  const done = copied || saved;
  const copy = (read: () => Promise<string>, what: string, onCopied?: () => void): void => {
    read()
      .then(copyText)
      .then(
        () => { onCopied?.(); setError(undefined); setStatus(`${what} copied to the clipboard.`); },
        (e: unknown) => { setCopyFailed(true); setError(errorText(e)); },
      );
  };
  const { previousUntil } = props.created;
  return (
    <Modal title="API user key" onClose={() => { if (done) props.onClose(); }} describedBy="created-key-warning">
      <p id="created-key-warning" class="warning">
        This is the only time the value of the user key is shown. Copy it and keep it somewhere safe before you finish: it cannot be retrieved later.
      </p>
      {previousUntil === undefined ? null : (
        <p>{previousUntil === null ? 'The previous secret of this key stopped working.' : `The previous secret of this key works until ${when(previousUntil)}.`}</p>
      )}
      <code class="key-value secret" aria-label="User key value">{props.created.secret}</code>
      {copyFailed ? (
        <>
          {clipboardAvailable() ? null : <p class="hint">{NO_CLIPBOARD}</p>}
          <label class="checkbox">
            <input type="checkbox" checked={saved} onChange={(e) => { setSaved(e.currentTarget.checked); }} />
            I have saved this key
          </label>
        </>
      ) : null}
      <div class="actions">
        <button type="button" onClick={() => { copy(() => Promise.resolve(props.created.secret), 'User key', () => { setCopied(true); }); }}>Copy</button>
        <button type="button" onClick={() => { copy(() => props.api.revealAccountKey(), 'Account key'); }}>Copy account key</button>
        <button type="button" class="primary" disabled={!done} onClick={props.onClose}>Finish</button>
      </div>
      <p role="status" class="status">{status}</p>
      {error === undefined ? null : <p role="alert" class="error">{error}</p>}
    </Modal>
  );
}

export function DeleteKeyDialog(props: { api: Api; apiKey: ApiKey; onClose: () => void }) {
  const [error, setError] = useState<string>();
  return (
    <Modal title="Delete API secret key" onClose={props.onClose}>
      <p>
        Delete the user key <strong>{props.apiKey.name}</strong>? Requests signed with it are refused at once. This cannot be undone.
      </p>
      {error === undefined ? null : <p role="alert" class="error">{error}</p>}
      <div class="actions">
        <button type="button" onClick={props.onClose}>Cancel</button>
        <button type="button" class="danger" onClick={() => { props.api.deleteApiKey(props.apiKey.id).then(props.onClose, (e: unknown) => { setError(errorText(e)); }); }}>
          Delete
        </button>
      </div>
    </Modal>
  );
}

export function RollKeyDialog(props: { api: Api; apiKey: ApiKey; onClose: () => void; onRolled: (rolled: OneTimeSecret) => void }) {
  return (
    <RollDialog
      title="Roll API user key"
      onClose={props.onClose}
      roll={(seconds) =>
        props.api.rollApiKey(props.apiKey.id, seconds).then((rolled) => {
          props.onRolled({ keyId: rolled.id, secret: rolled.secret, previousUntil: rolled.previousSecretExpiresAt });
        })
      }
    >
      <p>
        A new secret for <strong>{props.apiKey.name}</strong>: same key, name and allow list. The new secret is shown once.
      </p>
    </RollDialog>
  );
}
