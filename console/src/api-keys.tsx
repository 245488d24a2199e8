import { useCallback, useState } from 'preact/hooks';
import { canHoldKeys, type Api, type ApiKey, type KeyRole, type User, type WhoAmI } from './api.ts';
import { AccountSection, type AccountActions } from './account.tsx';
import { ManageCidrDialog } from './cidr-dialog.tsx';
import { when } from './format.ts';
import { EditPermissionsDialog } from './permissions-dialog.tsx';
import { AddKeyDialog, DeleteKeyDialog, OneTimeKeyDialog, RollKeyDialog, type OneTimeSecret } from './key-dialogs.tsx';
import { UsageSection } from './usage.tsx';
import { useLoaded } from './use-loaded.ts';

/** What the tab tells the session: a roll of the signed-in key changes the keys it signs with. */
export interface SessionActions extends AccountActions {
  readonly onUserKeyRolled: (userKey: string) => void;
}

type KeyDialog =
  | { kind: 'add' }
  | { kind: 'secret'; created: OneTimeSecret }
  | { kind: 'delete'; key: ApiKey }
  | { kind: 'roll'; key: ApiKey }
  | { kind: 'manage'; key: ApiKey }
  | { kind: 'permissions'; key: ApiKey };

function matches(key: ApiKey, userName: string, filter: string): boolean {
  const needle = filter.trim().toLowerCase();
  return needle === '' || [key.name, key.id, userName, ...key.cidrAllowList.map((r) => r.cidr)].some((text) => text.toLowerCase().includes(needle));
}

/** The seed's API Keys tab: the account key, usage, then the user keys with their allow lists. */
export function ApiKeysTab(props: { api: Api; whoami: WhoAmI; session: SessionActions }) {
  const { api, whoami, session } = props;
  const role: KeyRole = whoami.role;
  const owner = role === 'owner';
  const { data, error, reload } = useLoaded(useCallback(() => Promise.all([api.account(), api.apiKeys(), api.users()]), [api]));
  const [account, keys, users] = data ?? [undefined, undefined, undefined];
  const [dialog, setDialog] = useState<KeyDialog>();
  const [filter, setFilter] = useState('');

  const close = useCallback(() => {
    setDialog(undefined);
    reload();
  }, [reload]);
  const showSecret = (created: OneTimeSecret): void => {
    // Rolled with no grace, the signed-in key's old secret is already refused: sign with the new one.
    if (created.keyId === whoami.keyId) session.onUserKeyRolled(created.secret);
    setDialog({ kind: 'secret', created });
  };

  const userName = (id: string): string => users?.find((u) => u.id === id)?.name ?? id;
  const shown = keys?.filter((key) => matches(key, userName(key.userId), filter));

  return (
    <div class="api-keys">
      {error === undefined ? null : <p role="alert" class="error">{error}</p>}
      <AccountSection api={api} account={account} loading={error === undefined} owner={owner} actions={session} />
      <UsageSection api={api} />
      <section aria-labelledby="user-keys-title">
        <div class="section-head">
          <h2 id="user-keys-title">API user keys</h2>
          <input type="search" aria-label="Filter keys" placeholder="Filter keys" value={filter} onInput={(e) => { setFilter(e.currentTarget.value); }} />
          {owner ? <button type="button" class="primary" onClick={() => { setDialog({ kind: 'add' }); }}>Add</button> : null}
        </div>
        {keys === undefined || shown === undefined ? (
          // A refused read is shown once, above; nothing is loading any more.
          error === undefined ? <p role="status">Loading keys…</p> : null
        ) : keys.length === 0 ? (
          <p>No user keys yet.</p>
        ) : shown.length === 0 ? (
          <p role="status">No key matches “{filter.trim()}”.</p>
        ) : (
          <KeyTable keys={shown} owner={owner} userName={userName} onAction={setDialog} />
        )}
      </section>
      {dialog?.kind === 'add' ? (
        <AddKeyDialog api={api} users={users?.filter((u: User) => canHoldKeys(u.role))} onClose={close} onCreated={showSecret} />
      ) : null}
      {dialog?.kind === 'secret' ? <OneTimeKeyDialog api={api} created={dialog.created} onClose={close} /> : null}
      {dialog?.kind === 'delete' ? <DeleteKeyDialog api={api} apiKey={dialog.key} onClose={close} /> : null}
      {dialog?.kind === 'roll' ? <RollKeyDialog api={api} apiKey={dialog.key} onClose={close} onRolled={showSecret} /> : null}
      {dialog?.kind === 'manage' ? (
        <ManageCidrDialog api={api} apiKey={dialog.key} sourceIp={whoami.sourceIp} signedInWith={dialog.key.id === whoami.keyId} onClose={close} />
      ) : null}
      {dialog?.kind === 'permissions' ? (
        <EditPermissionsDialog
          api={api}
          apiKey={dialog.key}
          holder={users?.find((u) => u.id === dialog.key.userId)}
          signedInWith={dialog.key.id === whoami.keyId}
          onClose={close}
        />
      ) : null}
    </div>
  );
}

function KeyTable(props: { keys: readonly ApiKey[]; owner: boolean; userName: (id: string) => string; onAction: (dialog: KeyDialog) => void }) {
  const { owner, onAction } = props;
  return (
    <table aria-labelledby="user-keys-title" class="keys">
      <thead>
        <tr>
          <th scope="col">Key name</th>
          <th scope="col">User name</th>
          <th scope="col">Created</th>
          <th scope="col">Last used</th>
          <th scope="col">Expires</th>
          <th scope="col">CIDR allow list</th>
          <th scope="col">Permissions</th>
          {owner ? <th scope="col"><span class="visually-hidden">Actions</span></th> : null}
        </tr>
      </thead>
      <tbody>
        {props.keys.map((key) => (
          <tr key={key.id}>
            <th scope="row" id={`key-${key.id}`}>{key.name}</th>
            <td>{props.userName(key.userId)}</td>
            <td title={key.createdAt}>{when(key.createdAt)}</td>
            <td title={key.lastUsedAt ?? ''}>{when(key.lastUsedAt)}</td>
            <td title={key.expiresAt ?? ''}>{when(key.expiresAt)}</td>
            <td>
              <span class="rules">{key.cidrAllowList.length === 0 ? 'All addresses' : key.cidrAllowList.map((r) => r.cidr).join(', ')}</span>
              {owner ? (
                <button type="button" class="link" aria-describedby={`key-${key.id}`} onClick={() => { onAction({ kind: 'manage', key }); }}>
                  Manage
                </button>
              ) : null}
            </td>
            <td>
              {key.permissions === null ? <span class="rules">Full access</span> : <span class="rules permissions">{key.permissions.join(', ')}</span>}
              {owner ? (
                <button type="button" class="link" aria-describedby={`key-${key.id}`} onClick={() => { onAction({ kind: 'permissions', key }); }}>
                  Edit permissions
                </button>
              ) : null}
            </td>
            {owner ? (
              <td class="row-actions">
                <button type="button" aria-describedby={`key-${key.id}`} onClick={() => { onAction({ kind: 'roll', key }); }}>Roll</button>
                <button type="button" class="danger" aria-describedby={`key-${key.id}`} onClick={() => { onAction({ kind: 'delete', key }); }}>
                  Delete
                </button>
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
