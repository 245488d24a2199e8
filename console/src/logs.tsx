import { useCallback, useState } from 'preact/hooks';
import type { Api } from './api.ts';
import { when } from './format.ts';
import { useLoaded } from './use-loaded.ts';

/** The audit log, newest first, a page at a time. */
export function LogsTab(props: { api: Api }) {
  const { api } = props;
  // The cursors of the pages before the current one: Previous pops one.
  const [cursors, setCursors] = useState<readonly (string | null)[]>([null]);
  const cursor = cursors.at(-1) ?? null;
  const { data: page, error } = useLoaded(useCallback(() => api.events(cursor), [api, cursor]));
  return (
    <div class="logs">
      {error === undefined ? null : <p role="alert" class="error">{error}</p>}
      {page === undefined ? (
        <p role="status">Loading the audit log…</p>
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
            {page.items.map((event) => (
              <tr key={event.id}>
                <td title={event.time}>{when(event.time)}</td>
                <th scope="row">{event.action}</th>
                <td>{event.target}</td>
                <td>{event.actor.userId ?? 'system'}</td>
                <td>{event.actor.keyId ?? ''}</td>
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
