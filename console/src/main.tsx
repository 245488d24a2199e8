import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { Api, ApiError, apiBase, type Account, type Keys, type WhoAmI } from './api.ts';
import { ApiKeysTab, type SessionActions } from './api-keys.tsx';
import { LogsTab } from './logs.tsx';
import { SignIn } from './sign-in.tsx';
import { UsersTab } from './users.tsx';

/** The tab's keys live here only (never localStorage): they end with the tab or with Sign out. */
const SESSION_KEY = 'latchkey.console.keys';

function storedKeys(): Keys | null {
  const raw = sessionStorage.getItem(SESSION_KEY);
  if (raw === null) return null;
  try {
    const { accountKey, userKey } = JSON.parse(raw) as Partial<Keys>;
    return typeof accountKey === 'string' && typeof userKey === 'string' ? { accountKey, userKey } : null;
  } catch {
    return null;
  }
}

type Session =
  /** `keys`: what was refused, kept in the form so that one key can be fixed. */
  | { readonly state: 'signed-out'; readonly message?: string; readonly keys?: Keys }
  | { readonly state: 'checking'; readonly keys: Keys }
  | { readonly state: 'signed-in'; readonly keys: Keys; readonly whoami: WhoAmI }
  /** An owner of an account whose API is off: only the switch routes answer. */
  | { readonly state: 'api-off'; readonly keys: Keys; readonly account: Account };

const SESSION_ENDED = 'Your keys were refused (401): signed out. Sign in again with valid keys.';
const base = apiBase(location.pathname);

function App() {
  const [session, setSession] = useState<Session>(() => {
    const keys = storedKeys();
    return keys === null ? { state: 'signed-out' } : { state: 'checking', keys };
  });

  const signOut = useCallback((message?: string, keys?: Keys) => {
    sessionStorage.removeItem(SESSION_KEY);
    setSession({ state: 'signed-out', ...(message === undefined ? {} : { message }), ...(keys === undefined ? {} : { keys }) });
  }, []);
  const onUnauthorized = useCallback(() => {
    signOut(SESSION_ENDED);
  }, [signOut]);

  useEffect(() => {
    if (session.state !== 'checking') return;
    const { keys } = session;
    const api = new Api(base, keys, () => undefined);
    void (async () => {
      try {
        const whoami = await api.whoami(true);
        sessionStorage.setItem(SESSION_KEY, JSON.stringify(keys));
        setSession({ state: 'signed-in', keys, whoami });
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 401) {
          signOut(error instanceof Error ? error.message : 'The API could not be reached.', keys);
          return;
        }
        // A 401 may be an owner's keys on an account whose API is off: the account still answers them.
        try {
          const account = await api.account(true);
          sessionStorage.setItem(SESSION_KEY, JSON.stringify(keys));
          setSession({ state: 'api-off', keys, account });
        } catch {
          signOut('Those keys were not accepted (401). Check the account key and the user key.', keys);
        }
      }
    })();
  }, [session, signOut]);

  switch (session.state) {
    case 'signed-out':
      return <SignIn message={session.message} keys={session.keys} onSignIn={(keys) => { setSession({ state: 'checking', keys }); }} />;
    case 'checking':
      return <p role="status">Signing in…</p>;
    case 'api-off':
      return (
        <ApiOff
          api={new Api(base, session.keys, onUnauthorized)}
          account={session.account}
          onEnabled={() => { setSession({ state: 'checking', keys: session.keys }); }}
          onSignOut={() => { signOut(); }}
        />
      );
    case 'signed-in': {
      const { keys, whoami } = session;
      // A roll of the keys this tab signs with: the next requests carry the new ones.
      const resign = (next: Keys): void => {
        sessionStorage.setItem(SESSION_KEY, JSON.stringify(next));
        setSession({ state: 'signed-in', keys: next, whoami });
      };
      const actions: SessionActions = {
        onAccountKeyRolled: (accountKey) => { resign({ ...keys, accountKey }); },
        onUserKeyRolled: (userKey) => { resign({ ...keys, userKey }); },
        onApiDisabled: () => { setSession({ state: 'checking', keys }); },
      };
      return <Console api={new Api(base, keys, onUnauthorized)} whoami={whoami} session={actions} onSignOut={() => { signOut(); }} />;
    }
  }
}

function Header(props: { onSignOut: () => void; subtitle: string }) {
  return (
    <header>
      <h1>Access Management</h1>
      <span class="who">{props.subtitle}</span>
      <button type="button" onClick={props.onSignOut}>Sign out</button>
    </header>
  );
}

function ApiOff(props: { api: Api; account: Account; onEnabled: () => void; onSignOut: () => void }) {
  const [error, setError] = useState<string>();
  return (
    <>
      <Header onSignOut={props.onSignOut} subtitle={props.account.name} />
      <main>
        <section class="api-off" aria-labelledby="api-off-title">
          <h2 id="api-off-title">The API is disabled for this account</h2>
          <p>Every request with this account's keys is refused until an owner enables the API.</p>
          {error === undefined ? null : <p role="alert" class="error">{error}</p>}
          <button
            type="button"
            class="primary"
            onClick={() => {
              props.api.setApiEnabled(true).then(props.onEnabled, (e: unknown) => { setError(e instanceof Error ? e.message : String(e)); });
            }}
          >
            Enable API
          </button>
        </section>
      </main>
    </>
  );
}

type TabName = 'API Keys' | 'Users' | 'Logs';

/** Who is signed in, as the header says it: the user's name where the role may list users, else their id. */
function useSignedInAs(api: Api, whoami: WhoAmI): string {
  const [name, setName] = useState<string>();
  useEffect(() => {
    if (whoami.role === 'logs-viewer') return;
    api.users().then((users) => { setName(users.find((u) => u.id === whoami.userId)?.name); }, () => undefined);
  }, [api, whoami]);
  return `Signed in as ${name ?? `user ${whoami.userId}`} (${whoami.role})`;
}

function Console(props: { api: Api; whoami: WhoAmI; session: SessionActions; onSignOut: () => void }) {
  const { role } = props.whoami;
  const signedInAs = useSignedInAs(props.api, props.whoami);
  const tabs: TabName[] = role === 'logs-viewer' ? ['Logs'] : ['API Keys', 'Users', 'Logs'];
  const [tab, setTab] = useState<TabName>(tabs[0] ?? 'Logs');
  const select = (name: TabName, focus: boolean): void => {
    setTab(name);
    // At once, not at the next frame: a second arrow key pressed before it must already reach
    // the newly selected tab (every tab is rendered, so the button is there to focus).
    if (focus) document.getElementById(tabId(name))?.focus();
  };
  return (
    <>
      <Header onSignOut={props.onSignOut} subtitle={signedInAs} />
      <main>
        <div role="tablist" aria-label="Access Management">
          {tabs.map((name, index) => (
            <button
              type="button"
              role="tab"
              id={tabId(name)}
              key={name}
              aria-selected={tab === name}
              aria-controls={`${tabId(name)}-panel`}
              tabIndex={tab === name ? 0 : -1}
              onClick={() => { select(name, false); }}
              onKeyDown={(event) => {
                // Arrow keys move between tabs, as a screen reader user expects of a tab list.
                const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
                if (step === 0) return;
                event.preventDefault();
                const next = tabs[(index + step + tabs.length) % tabs.length];
                if (next !== undefined) select(next, true);
              }}
            >
              {name}
            </button>
          ))}
        </div>
        <section role="tabpanel" id={`${tabId(tab)}-panel`} aria-labelledby={tabId(tab)} tabIndex={0}>
          {tab === 'API Keys' ? <ApiKeysTab api={props.api} whoami={props.whoami} session={props.session} /> : null}
          {tab === 'Users' ? <UsersTab api={props.api} role={role} self={props.whoami.userId} /> : null}
          {tab === 'Logs' ? <LogsTab api={props.api} role={role} /> : null}
        </section>
      </main>
    </>
  );
}

function tabId(name: TabName): string {
  return `tab-${name.replace(/\s+/g, '-').toLowerCase()}`;
}

const root = document.getElementById('app');
if (root !== null) {
  root.textContent = '';
  render(<App />, root);
}
