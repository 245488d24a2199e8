import { useState } from 'preact/hooks';
import type { Api, ApiKey, CidrRule } from './api.ts';
import { Modal } from './dialog.tsx';
import { errorText } from './format.ts';

/** A rule being written: a new one (no id) or an edit of an existing one. */
interface Draft {
  readonly ruleId: string | undefined;
  readonly cidr: string;
  readonly error?: string;
}

function withRule(rules: readonly CidrRule[], rule: CidrRule): readonly CidrRule[] {
  return rules.some((r) => r.id === rule.id) ? rules.map((r) => (r.id === rule.id ? rule : r)) : [...rules, rule];
}

/**
 * The `Manage CIDR allow list` dialog. Each write's own answer updates the list at once; the
 * list is then read again, and that read may be refused: a rule that leaves out the caller's
 * address refuses the very key the console is signed in with (403). That refusal is an alert
 * in the dialog, never an unhandled rejection, and the caller's address is shown beforehand.
 */
export function ManageCidrDialog(props: { api: Api; apiKey: ApiKey; sourceIp: string; signedInWith: boolean; onClose: () => void }) {
  const { api, apiKey } = props;
  const [rules, setRules] = useState<readonly CidrRule[]>(apiKey.cidrAllowList);
  const [draft, setDraft] = useState<Draft | undefined>(apiKey.cidrAllowList.length === 0 ? { ruleId: undefined, cidr: '' } : undefined);
  const [error, setError] = useState<string>();
  const readAgain = (what: string): void => {
    api.cidrRules(apiKey.id).then(setRules, (e: unknown) => { setError(`${what}, but reading the list again failed. ${errorText(e)}`); });
  };
  const save = (current: Draft): void => {
    setError(undefined);
    const cidr = current.cidr.trim();
    const write = current.ruleId === undefined ? api.addCidrRule(apiKey.id, cidr) : api.updateCidrRule(apiKey.id, current.ruleId, cidr);
    write.then(
      (rule) => {
        setDraft(undefined);
        setRules((shown) => withRule(shown, rule));
        readAgain(`Saved ${rule.cidr}`);
      },
      (e: unknown) => { setDraft({ ...current, error: errorText(e) }); },
    );
  };
  const remove = (rule: CidrRule): void => {
    setError(undefined);
    api.deleteCidrRule(apiKey.id, rule.id).then(
      () => {
        setRules((shown) => shown.filter((r) => r.id !== rule.id));
        readAgain(`Deleted ${rule.cidr}`);
      },
      (e: unknown) => { setError(errorText(e)); },
    );
  };
  const editor = (current: Draft) => (
    <form class="cidr-editor" onSubmit={(event) => { event.preventDefault(); save(current); }}>
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
      <p class="hint">
        Your address: <code>{props.sourceIp}</code>
        {props.signedInWith ? ' (this console is signed in with this key: leave your address out and the console is refused too)' : ''}
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
                <button type="button" class="danger" aria-describedby={`rule-${rule.id}`} onClick={() => { remove(rule); }}>
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
