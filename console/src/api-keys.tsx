import { useCallback, useState } from 'preact/hooks';
import { canHoldKeys, keyNameProblem, type Account, type Api, type ApiKey, type CidrRule, type KeyRole, type User } from './api.ts';
import { Modal } from './dialog.tsx';
import { copyText, errorText, when } from './format.ts';
import { useLoaded } from './use-loaded.ts';

/** The seed's API Keys tab: the account key, then the user keys with their allow lists. */
export function ApiKeysTab(props: { api: Api; role: KeyRole }) {
  const { api, role } = props;
  const owner = role === 'owner';
  const { data, error, reload } = useLoaded(useCallback(() => Promise.all([api.account(), api.apiKeys(), api.users()]), [api]));
  const [account, keys, users] = data ?? [undefined, undefined, []];
  const [dialog, setDialog] = useState<
    | { kind: 'add' }
    | { kind: 'created'; secret: string }
    | { kind: 'delete'; key: ApiKey }
    | { kind: 'manage'; key: ApiKey }
    | undefined
  >();

  const close = useCallback(() => {
    setDialog(undefined);
    reload();
  }, [reload]);

  const userName = (id: string): string => users.find((u) => u.id === id)?.name ?? id;

  return (
    <div class="api-keys">
      {error === undefined ? null : <p role="alert" class="error">{error}</p>}
      <AccountKey api={api} account={account} owner={owner} />
      <section aria-labelledby="user-keys-title">
        <div class="section-head">
          <h2 id="user-keys-title">API user keys</h2>
          {owner ? <button type="button" class="primary" onClick={() => { setDialog({ kind: 'add' }); }}>Add</button> : null}
        </div>
        {keys === undefined ? (
          <p role="status">Loading keys…</p>
        ) : keys.length === 0 ? (
          <p>No user keys yet.</p>
        ) : (
          <table aria-labelledby="user-keys-title" class="keys">
            <thead>
              <tr>
                <th scope="col">Key name</th>
                <th scope="col">User name</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">CIDR allow list</th>
                {owner ? <th scope="col"><span class="visually-hidden">Actions</span></th> : null}
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => (
                <tr key={key.id}>
                  <th scope="row" id={`key-${key.id}`}>{key.name}</th>
                  <td>{userName(key.userId)}</td>
                  <td title={key.createdAt}>{when(key.createdAt)}</td>
                  <td title={key.lastUsedAt ?? ''}>{when(key.lastUsedAt)}</td>
                  <td>
                    <span class="rules">{key.cidrAllowList.length === 0 ? 'All addresses' : key.cidrAllowList.map((r) => r.cidr).join(', ')}</span>
                    {owner ? (
                      <button type="button" class="link" aria-describedby={`key-${key.id}`} onClick={() => { setDialog({ kind: 'manage', key }); }}>
                        Manage
                      </button>
                    ) : null}
                  </td>
                  {owner ? (
                    <td class="row-actions">
                      <button type="button" class="danger" aria-describedby={`key-${key.id}`} onClick={() => { setDialog({ kind: 'delete', key }); }}>
                        Delete
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {dialog?.kind === 'add' ? (
        <AddKeyDialog
          api={api}
          users={users.filter((u) => canHoldKeys(u.role))}
          onClose={close}
          onCreated={(secret) => { setDialog({ kind: 'created', secret }); }}
        />
      ) : null}
      {dialog?.kind === 'created' ? <CreatedKeyDialog api={api} secret={dialog.secret} onClose={close} /> : null}
      {dialog?.kind === 'delete' ? <DeleteKeyDialog api={api} apiKey={dialog.key} onClose={close} /> : null}
      {dialog?.kind === 'manage' ? <ManageCidrDialog api={api} apiKey={dialog.key} onClose={close} /> : null}
    </div>
  );
}

function AccountKey(props: { api: Api; account: Account | undefined; owner: boolean }) {
  const { api, account, owner } = props;
  const [revealed, setRevealed] = useState<string>();
  const [status, setStatus] = useState<string>();
  const [error, setError] = useState<string>();
  const reveal = async (): Promise<string> => {
    const key = revealed ?? (await api.revealAccountKey());
    return key;
  };
  return (
    <section aria-labelledby="account-key-title" class="account-key">
      <h2 id="account-key-title">API account key</h2>
      {account === undefined ? (
        <p role="status">Loading the account…</p>
      ) : (
        <>
          <p class="account-name">{account.name}</p>
          <p>
            <code aria-label="Account key value">{revealed ?? account.accountKey.masked}</code>
          </p>
          {owner ? (
            <div class="actions">
              {revealed === undefined ? (
                <button type="button" onClick={() => { reveal().then(setRevealed, (e: unknown) => { setError(errorText(e)); }); }}>Show</button>
              ) : (
                <button type="button" onClick={() => { setRevealed(undefined); }}>Hide</button>
              )}
              <button
                type="button"
                onClick={() => {
                  reveal()
                    .then(copyText)
                    .then(() => { setStatus('Account key copied to the clipboard.'); }, (e: unknown) => { setError(errorText(e)); });
                }}
              >
                Copy
              </button>
            </div>
          ) : null}
          <p role="status" class="status">{status ?? ''}</p>
          {error === undefined ? null : <p role="alert" class="error">{error}</p>}
        </>
      )}
    </section>
  );
}

function AddKeyDialog(props: { api: Api; users: readonly User[]; onClose: () => void; onCreated: (secret: string) => void }) {
  const [name, setName] = useState('');
  const [touched, setTouched] = useState(false);
  const [userId, setUserId] = useState(props.users[0]?.id ?? '');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const problem = keyNameProblem(name);
  return (
    <Modal title="Add API user key" onClose={props.onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setTouched(true);
          if (problem !== undefined || userId === '') return;
          setBusy(true);
          props.api.createApiKey({ name, userId }).then(
            (created) => { props.onCreated(created.secret); },
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
          <select value={userId} onChange={(e) => { setUserId(e.currentTarget.value); }}>
            {props.users.map((u) => (
              <option key={u.id} value={u.id}>{`${u.name} (${u.role})`}</option>
            ))}
          </select>
        </label>
        {error === undefined ? null : <p role="alert" class="error">{error}</p>}
        <div class="actions">
          <button type="button" onClick={props.onClose}>Cancel</button>
          <button type="submit" class="primary" disabled={busy || problem !== undefined || userId === ''}>Create</button>
        </div>
      </form>
    </Modal>
  );
}

function CreatedKeyDialog(props: { api: Api; secret: string; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  const [status, setStatus] = useState('');
  const [error, setError] = useState<string>();
  return (
    <Modal title="API user key" onClose={() => { if (copied) props.onClose(); }} describedBy="created-key-warning">
      <p id="created-key-warning" class="warning">
        This is the only time the value of the user key is shown. Copy it and keep it somewhere safe before you finish: it cannot be retrieved later.
      </p>
      <p>
        <code aria-label="User key value">{props.secret}</code>
      </p>
      <div class="actions">
        <button
          type="button"
          onClick={() => {
            copyText(props.secret).then(() => { setCopied(true); setStatus('User key copied to the clipboard.'); }, (e: unknown) => { setError(errorText(e)); });
          }}
        >
          Copy
        </button>
        <button
          type="button"
          onClick={() => {
            props.api
              .revealAccountKey()
              .then(copyText)
              .then(() => { setStatus('Account key copied to the clipboard.'); }, (e: unknown) => { setError(errorText(e)); });
          }}
        >
          Copy account key
        </button>
        <button type="button" class="primary" disabled={!copied} onClick={props.onClose}>Finish</button>
      </div>
      <p role="status" class="status">{status}</p>
      {error === undefined ? null : <p role="alert" class="error">{error}</p>}
    </Modal>
  );
}

function DeleteKeyDialog(props: { api: Api; apiKey: ApiKey; onClose: () => void }) {
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

/** A rule being written: a new one (no id) or an edit of an existing one. */
interface Draft {
  readonly ruleId: string | undefined;
  readonly cidr: string;
  readonly error?: string;
}

function ManageCidrDialog(props: { api: Api; apiKey: ApiKey; onClose: () => void }) {
  const { api, apiKey } = props;
  const [rules, setRules] = useState<readonly CidrRule[]>(apiKey.cidrAllowList);
  const [draft, setDraft] = useState<Draft | undefined>(apiKey.cidrAllowList.length === 0 ? { ruleId: undefined, cidr: '' } : undefined);
  const [error, setError] = useState<string>();
  const reload = async (): Promise<void> => {
    setRules(await api.cidrRules(apiKey.id));
  };
  const save = (current: Draft): void => {
    const write = current.ruleId === undefined ? api.addCidrRule(apiKey.id, current.cidr.trim()) : api.updateCidrRule(apiKey.id, current.ruleId, current.cidr.trim());
    write.then(
      async () => { setDraft(undefined); await reload(); },
      (e: unknown) => { setDraft({ ...current, error: errorText(e) }); },
    );
  };
  const editor = (current: Draft) => (
    <form
      class="cidr-editor"
      onSubmit={(event) => { event.preventDefault(); save(current); }}
    >
      <label>
        CIDR
        <input
          value={current.cidr}
          placeholder="127.1.0.0/24"
          aria-invalid={current.error !== undefined}
          aria-describedby={current.error === undefined ? undefined : 'cidr-error'}
          onInput={(e) => { setDraft({ ruleId: current.ruleId, cidr: e.currentTarget.value }); }}
        />
      </label>
      <button type="submit" class="primary">Save</button>
      <button type="button" onClick={() => { setDraft(undefined); }}>Cancel</button>
      {current.error === undefined ? null : <p id="cidr-error" role="alert" class="error">{current.error}</p>}
    </form>
  );
  return (
    <Modal title="Manage CIDR allow list" onClose={props.onClose}>
      <p>
        Key <strong>{apiKey.name}</strong>. With no rule, every address may use it; with rules, only addresses inside one of them.
      </p>
      <ul class="cidr-rules">
        {rules.map((rule) => (
          <li key={rule.id}>
            {draft?.ruleId === rule.id ? (
              editor(draft)
            ) : (
              <>
                <code id={`rule-${rule.id}`}>{rule.cidr}</code>
                <button type="button" aria-describedby={`rule-${rule.id}`} onClick={() => { setDraft({ ruleId: rule.id, cidr: rule.cidr }); }}>Edit</button>
                <button
                  type="button"
                  class="danger"
                  aria-describedby={`rule-${rule.id}`}
                  onClick={() => { api.deleteCidrRule(apiKey.id, rule.id).then(reload, (e: unknown) => { setError(errorText(e)); }); }}
                >
                  Delete
                </button>
              </>
            )}
          </li>
        ))}
        {draft !== undefined && draft.ruleId === undefined ? <li>{editor(draft)}</li> : null}
      </ul>
      {error === undefined ? null : <p role="alert" class="error">{error}</p>}
      <div class="actions">
        <button type="button" disabled={draft !== undefined} onClick={() => { setDraft({ ruleId: undefined, cidr: '' }); }}>Add CIDR rule</button>
        <button type="button" onClick={props.onClose}>Close</button>
      </div>
    </Modal>
  );
}
