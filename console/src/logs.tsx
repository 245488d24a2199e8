import { useCallback, useEffect, useState } from 'preact/hooks';
import type { Api, ApiKey, AuditEvent, KeyRole, User } from './api.ts';
import { when } from './format.ts';
import { useLoaded } from './use-loaded.ts';

/** Names of the account's users and keys, by id; a logs viewer may not list them and sees ids only. */
interface Names {
  readonly users: ReadonlyMap<string, string>;
  readonly keys: ReadonlyMap<string, string>;
}
const NO_NAMES: Names = { users: new Map(), keys: new Map() };

async function readNames(api: Api): Promise<Names> {
  const [users, keys] = await Promise.all([api.users(), api.apiKeys()]);
  return { users: new Map(users.map((u: User) => [u.id, u.name])), keys: new Map(keys.map((k: ApiKey) => [k.id, k.name])) };
}

/** An id with its name beside it where the name is known (a deleted key's is not). */
function Named(props: { id: string | null; names: ReadonlyMap<string, string>; fallback?: string }) {
  if (props.id === null) return <>{props.fallback ?? ''}</>;
  const name = props.names.get(props.id);
  return name === undefined ? <span class="id">{props.id}</span> : <>{name} <span class="id">{props.id}</span></>;
}

function Target(props: { target: string; names: Names }) {
  const [kind, id = ''] = props.target.split('/', 2);
  const names = kind === 'user' ? props.names.users : kind === 'api-key' ? props.names.keys : undefined;
  const name = names?.get(id);
  return name === undefined ? <>{props.target}</> : <>{name} <span class="id">{props.target}</span></>;
}

/** The audit log, newest first, a page at a time; `Action` narrows the page shown to one action. */
export function LogsTab(props: { api: Api; role: KeyRole }) {
  const { api } = props;
  // The cursors of the pages before the current one: Previous pops one.
  const [cursors, setCursors] = useState<readonly (string | null)[]>([null]);
  const cursor = cursors.at(-1) ?? null;
  const { data: page, error } = useLoaded(useCallback(() => api.events(cursor), [api, cursor]));
  const canList = props.role !== 'logs-viewer';
  const loadedNames = useLoaded(useCallback(() => (canList ? readNames(api) : Promise.resolve(NO_NAMES)), [api, canList]));
  // The rows wait for the names (one read, once), so that a row does not change under the reader;
  // if the names cannot be read, the ids alone are shown.
  const names = loadedNames.data ?? (loadedNames.error === undefined ? undefined : NO_NAMES);
  const [action, setAction] = useState('');
  const [seen, setSeen] = useState<readonly string[]>([]);
  useEffect(() => {
    if (page === undefined) return;
    setSeen((known) => [...new Set([...known, ...page.items.map((e) => e.action)])].sort());
  }, [page]);
  const rows = page?.items.filter((e: AuditEvent) => action === '' || e.action === action);
  return (
    <div class="logs">
      {error === undefined ? null : <p role="alert" class="error">{error}</p>}
      <div class="actions">
        <label class="inline">
          Action
          <select value={action} onChange={(e) => { setAction(e.currentTarget.value); }}>
            <option value="">All actions</option>
            {seen.map((a) => <option key={a} value={a}>{a}</option>)}
          </select>
        </label>
      </div>
      {rows === undefined || names === undefined ? (
        error === undefined ? <p role="status">Loading the audit log…</p> : null
      ) : (
        <table aria-label="Audit log">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">User</th>
              <th scope="col">Key</th>
              <th scope="col">Source IP</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((event) => (
              <tr key={event.id}>
                <td title={event.time}>{when(event.time)}</td>
                <th scope="row">{event.action}</th>
                <td><Target target={event.target} names={names} /></td>
                <td><Named id={event.actor.userId} names={names.users} fallback="system" /></td>
                <td><Named id={event.actor.keyId} names={names.keys} /></td>
                <td>{event.sourceIp ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="actions">
        <button type="button" disabled={cursors.length <= 1} onClick={() => { setCursors(cursors.slice(0, -1)); }}>Newer</button>
        <button
          type="button"
          disabled={page?.nextCursor == null}
          onClick={() => { if (page?.nextCursor != null) setCursors([...cursors, page.nextCursor]); }}
        >
          Older
        </button>
      </div>
    </div>
  );
}
