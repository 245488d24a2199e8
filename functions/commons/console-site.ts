/**
 * Serving the console (DESIGN 8): `GET /console` and its assets, `GET /` leading a browser
 * there. No keys are needed to load it; every byte of it is the project's own, and the
 * Content-Security-Policy says so: scripts, styles and requests from this origin only, no
 * inline script or style, no frames, no plugins. Used by the deployed console function and by
 * the local server alike.
 */

import { CONSOLE_PATH, FAVICON_PATH } from '#shared/http/team-routes.ts';

export { CONSOLE_PATH, FAVICON_PATH };

/**
 * What `GET /favicon.ico` (which browsers ask for on their own) answers: the console's icon, an
 * SVG, text like every console asset, so API Gateway needs no binary media type. Unanswered, it
 * was the gateway's 403, which every page load logged as an error.
 */
export const FAVICON_ASSET = 'favicon.svg';

export const CONSOLE_SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
} as const;

export interface ConsoleAsset {
  readonly contentType: string;
  readonly body: Buffer;
}

/** The built console: `index.html`, `app.js`, `app.css`, by file name. */
export type ConsoleAssets = ReadonlyMap<string, ConsoleAsset>;

export interface ConsoleResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export function contentTypeOf(fileName: string): string | undefined {
  const dot = fileName.lastIndexOf('.');
  return dot === -1 ? undefined : CONTENT_TYPES[fileName.slice(dot)];
}

/**
 * The answer for a console path (relative to the stage), or undefined when the path is not the
 * console's. `basePath` is what precedes the stage's paths in the browser's URL (`/prod` on
 * API Gateway's default endpoint, empty locally), for the redirect.
 */
export function consoleResponse(assets: ConsoleAssets, method: string, path: string, basePath = ''): ConsoleResponse | undefined {
  if (path !== '/' && path !== FAVICON_PATH && path !== CONSOLE_PATH && !path.startsWith(`${CONSOLE_PATH}/`)) return undefined;
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  const empty = Buffer.alloc(0);
  if (path === '/') {
    return { status: 302, headers: { location: `${basePath}${CONSOLE_PATH}`, 'cache-control': 'no-cache', ...CONSOLE_SECURITY_HEADERS }, body: empty };
  }
  const name = path === CONSOLE_PATH ? 'index.html' : path === FAVICON_PATH ? FAVICON_ASSET : path.slice(CONSOLE_PATH.length + 1);
  const asset = assets.get(name);
  if (asset === undefined) {
    return {
      status: 404,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache', ...CONSOLE_SECURITY_HEADERS },
      body: Buffer.from('Not found'),
    };
  }
  return {
    status: 200,
    // Revalidated on every load: the assets are not content-hashed, and a stale script would
    // call routes that moved.
    headers: { 'content-type': asset.contentType, 'cache-control': 'no-cache', ...CONSOLE_SECURITY_HEADERS },
    body: method === 'HEAD' ? empty : asset.body,
  };
}
