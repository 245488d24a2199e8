import { useCallback, useState } from 'preact/hooks';
import { canHoldKeys, type Api, type ApiKey, type KeyRole, type Permission, type User } from './api.ts';
import { Modal } from './dialog.tsx';
import { errorText } from './format.ts';
import { useLoaded } from './use-loaded.ts';

/**
 * A key's permissions (DESIGN 14) as a person chooses them: `Full access` (everything its
 * holder's role grants, now and after a role change) or `Restricted` to the ticked ones, one
 * checkbox per permission the holder's role grants, named by the permission.
 */
export interface PermissionChoice {
  readonly restricted: boolean;
  /** Kept while the person switches user or radio, so that switching back loses nothing. */
  readonly ticked: ReadonlySet<string>;
}

export function choiceOf(permissions: readonly string[] | null): PermissionChoice {
  return { restricted: permissions !== null, ticked: new Set(permissions ?? []) };
}

/** The role of a key's holder; undefined while the users load (or for a role that holds no keys). */
export function holderRole(user: User | undefined): KeyRole | undefined {
  return user !== undefined && canHoldKeys(user.role) ? user.role : undefined;
}

/** What the role grants, in the API's order (by name); undefined until both are known. */
export function grantedTo(catalog: readonly Permission[] | undefined, role: KeyRole | undefined): readonly Permission[] | undefined {
  return catalog === undefined || role === undefined ? undefined : catalog.filter((p) => p.roles.includes(role));
}

/**
 * What to send: null for full access; otherwise the ticked permissions the role grants (one
 * ticked for an owner and left out of a viewer's role is not sent when a viewer is picked:
 * the API would refuse it with a 422). Undefined while a restriction cannot be sent yet: the
 * permissions are still loading, or none is ticked (the API takes 1 to 50).
 */
export function chosenList(choice: PermissionChoice, granted: readonly Permission[] | undefined): readonly string[] | null | undefined {
  if (!choice.restricted) return null;
  const list = granted?.filter((p) => choice.ticked.has(p.name)).map((p) => p.name);
  return list === undefined || list.length === 0 ? undefined : list;
}

/** The deployment's permissions (`GET /v1/permissions`), read when a dialog that offers them opens. */
export function usePermissionCatalog(api: Api): { catalog: readonly Permission[] | undefined; error: string | undefined } {
  const { data, error } = useLoaded(useCallback(() => api.permissions(), [api]));
  return { catalog: data, error };
}

/** The radios and, when restricted, the checkboxes: a fieldset `Permissions`. */
export function PermissionsFieldset(props: {
  choice: PermissionChoice;
  onChange: (choice: PermissionChoice) => void;
  granted: readonly Permission[] | undefined;
  /** Why the permissions could not be read, shown in place when they are needed. */
  loadError: string | undefined;
}) {
  const { choice, onChange, granted } = props;
  const tick = (name: string, on: boolean): void => {
    const ticked = new Set(choice.ticked);
    if (on) ticked.add(name);
    else ticked.delete(name);
    onChange({ restricted: true, ticked });
  };
  const noneTicked = granted !== undefined && !granted.some((p) => choice.ticked.has(p.name));
  return (
    <fieldset class="permissions">
      <legend>Permissions</legend>
      <div class="access" aria-describedby="key-access-hint">
        <label class="inline">
          <input type="radio" name="key-access" checked={!choice.restricted} onChange={() => { onChange({ ...choice, restricted: false }); }} />
          Full access
        </label>
        <label class="inline">
          <input type="radio" name="key-access" checked={choice.restricted} onChange={() => { onChange({ ...choice, restricted: true }); }} />
          Restricted
        </label>
      </div>
      <p id="key-access-hint" class="hint">
        {choice.restricted
          ? "Only the permissions ticked below, among those the user's role grants."
          : "Everything the user's role grants, now and after a change of role."}
      </p>
      {!choice.restricted ? null : granted === undefined ? (
        props.loadError === undefined ? <p role="status">Loading the permissions…</p> : <p role="alert" class="error">{props.loadError}</p>
      ) : (
        <>
          <ul class="permission-list">
            {granted.map((p) => (
              <li key={p.name}>
                <label class="checkbox">
                  <input
                    type="checkbox"
                    checked={choice.ticked.has(p.name)}
                    aria-describedby={`routes-of-${p.name}`}
                    onChange={(e) => { tick(p.name, e.currentTarget.checked); }}
                  />
                  {p.name}
                </label>
                <span id={`routes-of-${p.name}`} class="hint">{p.routes.join(', ')}</span>
              </li>
            ))}
          </ul>
          {noneTicked ? <p class="hint">Tick at least one permission.</p> : null}
        </>
      )}
    </fieldset>
  );
}

/**
 * An owner's `Edit permissions` dialog: the same choice for an existing key, sent with
 * `PATCH /v1/api-keys/{keyId}`; takes effect at once, both ways. A refusal is shown in place.
 */
export function EditPermissionsDialog(props: { api: Api; apiKey: ApiKey; holder: User | undefined; signedInWith: boolean; onClose: () => void }) {
  const { api, apiKey } = props;
  const { catalog, error: loadError } = usePermissionCatalog(api);
  const [choice, setChoice] = useState(() => choiceOf(apiKey.permissions));
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const granted = grantedTo(catalog, holderRole(props.holder));
  const list = chosenList(choice, granted);
  // Kept in the key's list but no longer granted (a demotion, a team route removed): they are not sent again.
  const lapsed = granted === undefined ? [] : (apiKey.permissions ?? []).filter((name) => !granted.some((p) => p.name === name));
  return (
    <Modal title="Edit permissions" onClose={props.onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (list === undefined) return;
          setBusy(true);
          setError(undefined);
          api.updateApiKeyPermissions(apiKey.id, list).then(props.onClose, (e: unknown) => { setBusy(false); setError(errorText(e)); });
        }}
      >
        <p>
          Key <strong>{apiKey.name}</strong>
          {props.holder === undefined ? '' : `, held by ${props.holder.name} (${props.holder.role})`}. A change takes effect at once.
        </p>
        {props.signedInWith ? (
          <p class="hint">This console is signed in with this key: leave out what it reads (account:read, api-keys:read, users:read) and the console is refused too.</p>
        ) : null}
        <PermissionsFieldset choice={choice} onChange={setChoice} granted={granted} loadError={loadError} />
        {lapsed.length === 0 ? null : <p class="hint">No longer granted by the user&apos;s role, and dropped on Save: {lapsed.join(', ')}.</p>}
        {error === undefined ? null : <p role="alert" class="error">{error}</p>}
        <div class="actions">
          <button type="button" onClick={props.onClose}>Cancel</button>
          <button type="submit" class="primary" disabled={busy || list === undefined}>Save</button>
        </div>
      </form>
    </Modal>
  );
}
