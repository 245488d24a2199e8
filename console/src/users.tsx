import { useCallback, useState } from 'preact/hooks';
import { ROLES, canHoldKeys, type Api, type ApiKey, type KeyRole, type Role, type User } from './api.ts';
import { Modal } from './dialog.tsx';
import { when } from './format.ts';
import { useLoaded } from './use-loaded.ts';

/** Users of the account: an owner adds them, changes their role and deletes them. */
export function UsersTab(props: { api: Api; role: KeyRole; self: string }) {
  const { api } = props;
  const owner = props.role === 'owner';
  // An owner also reads the keys: a role that may not hold keys deletes the user's, and says which first.
  const { data, error, act } = useLoaded(
    useCallback(() => Promise.all([api.users(), owner ? api.apiKeys() : Promise.resolve<readonly ApiKey[]>([])]), [api, owner]),
  );
  const [users, keys] = data ?? [undefined, []];
  const [deleting, setDeleting] = useState<User>();
  const [changing, setChanging] = useState<{ user: User; role: Role; keys: readonly ApiKey[] }>();
  const changeRole = (user: User, role: Role): void => {
    const doomed = canHoldKeys(role) ? [] : keys.filter((k) => k.userId === user.id);
    if (doomed.length === 0) act(api.updateUser(user.id, role));
    else setChanging({ user, role, keys: doomed });
  };

  return (
    <div class="users">
      {error === undefined ? null : <p role="alert" class="error">{error}</p>}
      {owner ? <AddUserForm onAdd={(body) => { act(api.createUser(body)); }} /> : null}
      {users === undefined ? (
        error === undefined ? <p role="status">Loading users…</p> : null
      ) : (
        <table aria-label="Users">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Created</th>
              {owner ? <th scope="col"><span class="visually-hidden">Actions</span></th> : null}
            </tr>
          </thead>
          <tbody>
            {users.map((user) => (
              <tr key={user.id}>
                <th scope="row">{user.name}</th>
                <td>{user.email}</td>
                <td>
                  {owner ? (
                    <select aria-label={`Role of ${user.name}`} value={user.role} onChange={(e) => { changeRole(user, e.currentTarget.value as Role); }}>
                      {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
                    </select>
                  ) : (
                    user.role
                  )}
                </td>
                <td title={user.createdAt}>{when(user.createdAt)}</td>
                {owner ? (
                  <td class="row-actions">
                    <button type="button" class="danger" aria-label={`Delete user ${user.name}`} onClick={() => { setDeleting(user); }}>Delete</button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {changing === undefined ? null : (
        <Modal title="Change role" onClose={() => { setChanging(undefined); }}>
          <p>
            A {changing.role} may hold no API keys: making <strong>{changing.user.name}</strong> a {changing.role} deletes{' '}
            {changing.keys.length === 1 ? 'their key' : `their ${changing.keys.length} keys`}, refused at once:
          </p>
          <ul class="doomed-keys">
            {changing.keys.map((k) => <li key={k.id}>{k.name}</li>)}
          </ul>
          <div class="actions">
            <button type="button" onClick={() => { setChanging(undefined); }}>Cancel</button>
            <button
              type="button"
              class="danger"
              onClick={() => { const { user, role } = changing; setChanging(undefined); act(api.updateUser(user.id, role)); }}
            >
              Change role
            </button>
          </div>
        </Modal>
      )}
      {deleting === undefined ? null : (
        <Modal title="Delete user" onClose={() => { setDeleting(undefined); }}>
          <p>
            Delete <strong>{deleting.name}</strong> ({deleting.email}) and every user key they hold? Their keys are refused at once.
          </p>
          <div class="actions">
            <button type="button" onClick={() => { setDeleting(undefined); }}>Cancel</button>
            <button type="button" class="danger" onClick={() => { const user = deleting; setDeleting(undefined); act(api.deleteUser(user.id)); }}>Delete</button>
          </div>
        </Modal>
      )}
    </div>
  );
}

function AddUserForm(props: { onAdd: (body: { name: string; email: string; role: Role }) => void }) {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  return (
    <form
      class="add-user"
      aria-label="Add a user"
      onSubmit={(event) => {
        event.preventDefault();
        props.onAdd({ name: name.trim(), email: email.trim(), role });
        setName('');
        setEmail('');
      }}
    >
      <label>
        Name
        <input value={name} required onInput={(e) => { setName(e.currentTarget.value); }} />
      </label>
      <label>
        Email
        <input type="email" value={email} required onInput={(e) => { setEmail(e.currentTarget.value); }} />
      </label>
      <label>
        Role
        <select value={role} onChange={(e) => { setRole(e.currentTarget.value as Role); }}>
          {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
        </select>
      </label>
      <button type="submit" class="primary">Add user</button>
    </form>
  );
}
