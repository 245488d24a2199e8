import { useState } from 'preact/hooks';
import {
  ACCOUNT_KEY_LENGTH,
  ACCOUNT_KEY_PREFIX,
  USER_KEY_LENGTH,
  USER_KEY_PREFIX,
  parseAccountKey,
  parseUserKey,
  type KeyFormatFault,
} from '../../shared/domain/key-format.ts';
import type { Keys } from './api.ts';

function faultText(field: string, prefix: string, length: number, fault: KeyFormatFault, value: string): string {
  switch (fault) {
    case 'prefix':
      return `The ${field} starts with ${prefix}.`;
    case 'length':
      return `The ${field} is ${length} characters long; this one has ${value.length}.`;
    case 'alphabet':
      return `The ${field} has only letters and digits after ${prefix}.`;
    case 'checksum':
      return `The ${field} does not match its checksum: a character was changed or lost in copying.`;
  }
}

/**
 * What is wrong with the keys as typed, told apart in the page by the domain's own parser
 * (prefix, length, checksum) before any request: the API would only say 401 to each.
 */
export function keysProblem(keys: Keys): { message: string; field: 'accountKey' | 'userKey' } | undefined {
  if (keys.accountKey.startsWith(USER_KEY_PREFIX) && keys.userKey.startsWith(ACCOUNT_KEY_PREFIX)) {
    return { message: `The keys are swapped: the account key starts with ${ACCOUNT_KEY_PREFIX}, the user key with ${USER_KEY_PREFIX}.`, field: 'accountKey' };
  }
  const account = parseAccountKey(keys.accountKey);
  if (!account.ok) return { message: faultText('account key', ACCOUNT_KEY_PREFIX, ACCOUNT_KEY_LENGTH, account.fault, keys.accountKey), field: 'accountKey' };
  const user = parseUserKey(keys.userKey);
  if (!user.ok) return { message: faultText('user key', USER_KEY_PREFIX, USER_KEY_LENGTH, user.fault, keys.userKey), field: 'userKey' };
  if (user.key.accountId !== account.key.accountId) return { message: 'The user key belongs to another account than the account key.', field: 'userKey' };
  return undefined;
}

/** The sign-in form. A refusal keeps what was typed, so a person fixes one key, not both. */
export function SignIn(props: { message: string | undefined; keys: Keys | undefined; onSignIn: (keys: Keys) => void }) {
  const [accountKey, setAccountKey] = useState(props.keys?.accountKey ?? '');
  const [userKey, setUserKey] = useState(props.keys?.userKey ?? '');
  const [problem, setProblem] = useState<ReturnType<typeof keysProblem>>();
  const message = problem?.message ?? props.message;
  return (
    <main class="sign-in">
      <h1>Latchkey console</h1>
      {message === undefined ? null : <p role="alert" class="error">{message}</p>}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const keys = { accountKey: accountKey.trim(), userKey: userKey.trim() };
          const found = keysProblem(keys);
          setProblem(found);
          if (found === undefined) props.onSignIn(keys);
        }}
      >
        <label>
          Account key
          <input
            name="accountKey"
            type="password"
            autocomplete="off"
            required
            aria-invalid={problem?.field === 'accountKey'}
            value={accountKey}
            onInput={(e) => { setAccountKey(e.currentTarget.value); }}
          />
        </label>
        <label>
          User key
          <input
            name="userKey"
            type="password"
            autocomplete="off"
            required
            aria-invalid={problem?.field === 'userKey'}
            value={userKey}
            onInput={(e) => { setUserKey(e.currentTarget.value); }}
          />
        </label>
        <button type="submit">Sign in</button>
      </form>
      <p class="hint">The keys stay in this tab only, until you sign out or close it.</p>
    </main>
  );
}
