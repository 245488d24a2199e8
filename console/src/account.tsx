import { useState } from 'preact/hooks';
import type { Account, Api } from './api.ts';
import { Modal } from './dialog.tsx';
import { copyText, errorText, when } from './format.ts';
import { RollDialog } from './grace-period.tsx';

export interface AccountActions {
  /** The account key was rolled: the session signs its next requests with the new one. */
  readonly onAccountKeyRolled: (accountKey: string) => void;
  /** The API was turned off: the console shows the switch screen. */
  readonly onApiDisabled: () => void;
}

type AccountDialog = 'roll' | 'disable' | undefined;

/** The account key (masked until Show), its roll, the API switch and the leak banner. */
export function AccountSection(props: { api: Api; account: Account | undefined; loading: boolean; owner: boolean; actions: AccountActions }) {
  const { api, account, owner } = props;
  const [revealed, setRevealed] = useState<string>();
  const [status, setStatus] = useState<string>();
  const [error, setError] = useState<string>();
  const [dialog, setDialog] = useState<AccountDialog>();
  const reveal = async (): Promise<string> => revealed ?? (await api.revealAccountKey());
  const fail = (e: unknown): void => { setError(errorText(e)); };
  const rollButton = <button type="button" onClick={() => { setDialog('roll'); }}>Roll account key</button>;
  return (
    <>
      {account?.accountKeyLeakReportedAt == null ? null : (
        <section class="banner" aria-labelledby="leak-title">
          <h2 id="leak-title">Account key reported as leaked</h2>
          <p>
            The account key was reported as leaked on {when(account.accountKeyLeakReportedAt)}. Roll it, then give the new key to
            everyone who signs requests with it.
          </p>
          {owner ? rollButton : null}
        </section>
      )}
      <section aria-labelledby="account-key-title" class="account-key">
        <h2 id="account-key-title">API account key</h2>
        {account === undefined ? (
          props.loading ? <p role="status">Loading the account…</p> : null
        ) : (
          <>
            <p class="account-name">{account.name}</p>
            <p>
              <code class="key-value" aria-label="Account key value">{revealed ?? account.accountKey.masked}</code>
            </p>
            {owner ? (
              <div class="actions">
                {revealed === undefined ? (
                  <button type="button" onClick={() => { reveal().then(setRevealed, fail); }}>Show</button>
                ) : (
                  <button type="button" onClick={() => { setRevealed(undefined); }}>Hide</button>
                )}
                <button type="button" onClick={() => { reveal().then(copyText).then(() => { setStatus('Account key copied to the clipboard.'); }, fail); }}>
                  Copy
                </button>
                {rollButton}
                <button type="button" class="danger" onClick={() => { setDialog('disable'); }}>Disable API</button>
              </div>
            ) : null}
            <p role="status" class="status">{status ?? ''}</p>
            {error === undefined ? null : <p role="alert" class="error">{error}</p>}
          </>
        )}
      </section>
      {dialog === 'roll' ? (
        <RollAccountKeyDialog
          api={api}
          onClose={() => { setDialog(undefined); }}
          onRolled={(rolled, previousUntil) => {
            setDialog(undefined);
            setRevealed(rolled);
            setStatus(previousUntil === null ? 'Account key rolled: the previous one stopped at once.' : `Account key rolled: the previous one works until ${when(previousUntil)}.`);
            props.actions.onAccountKeyRolled(rolled);
          }}
        />
      ) : null}
      {dialog === 'disable' ? <DisableApiDialog api={api} onClose={() => { setDialog(undefined); }} onDisabled={props.actions.onApiDisabled} /> : null}
    </>
  );
}

function RollAccountKeyDialog(props: { api: Api; onClose: () => void; onRolled: (accountKey: string, previousUntil: string | null) => void }) {
  return (
    <RollDialog
      title="Roll API account key"
      onClose={props.onClose}
      roll={(seconds) => props.api.rollAccountKey(seconds).then((rolled) => { props.onRolled(rolled.accountKey, rolled.previousKeyExpiresAt); })}
    >
      <p>A new account key replaces the current one for every user of the account. Show and Copy give the new one.</p>
    </RollDialog>
  );
}

function DisableApiDialog(props: { api: Api; onClose: () => void; onDisabled: () => void }) {
  const [error, setError] = useState<string>();
  return (
    <Modal title="Disable API" onClose={props.onClose}>
      <p>
        Every request with this account's keys is refused (401) until an owner enables the API again: your own applications and this
        console too, but for its <strong>Enable API</strong> button.
      </p>
      {error === undefined ? null : <p role="alert" class="error">{error}</p>}
      <div class="actions">
        <button type="button" onClick={props.onClose}>Cancel</button>
        <button type="button" class="danger" onClick={() => { props.api.setApiEnabled(false).then(props.onDisabled, (e: unknown) => { setError(errorText(e)); }); }}>
          Disable API
        </button>
      </div>
    </Modal>
  );
}
