import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { consoleResponse, contentTypeOf, type ConsoleAsset, type ConsoleAssets } from './commons/console-site.ts';
import { type ProxyEvent, proxyEventV1Of } from './commons/proxy-event.ts';

/**
 * Serves the console's built assets (`GET /`, `GET /console`, `GET /console/{asset}`): public
 * methods, no keys, nothing read but the files bundled beside this handler
 * (infra/constructs/console-site.ts puts them in `console/`).
 */

/** Either payload (REST's 1.0, HTTP API's 2.0, read as 1.0 by ./commons/proxy-event.ts). */
export type ConsoleHandler = (event: ProxyEvent) => Promise<APIGatewayProxyResult>;

export function loadAssets(directory: string): ConsoleAssets {
  const assets = new Map<string, ConsoleAsset>();
  for (const name of readdirSync(directory)) {
    const contentType = contentTypeOf(name);
    if (contentType !== undefined) assets.set(name, { contentType, body: readFileSync(path.join(directory, name)) });
  }
  return assets;
}

/** The part of the browser's path before the stage's paths (`/prod` on the default endpoint). */
function basePathOf(event: APIGatewayProxyEvent): string {
  const full = event.requestContext.path;
  return full.endsWith(event.path) ? full.slice(0, full.length - event.path.length) : '';
}

export function createConsoleHandler(assets: ConsoleAssets): ConsoleHandler {
  return (given) => {
    const event = proxyEventV1Of(given);
    const response = consoleResponse(assets, event.httpMethod, event.path, basePathOf(event));
    if (response === undefined) {
      return Promise.resolve({ statusCode: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Not found' });
    }
    // Every asset is text: sent as is, since API Gateway decodes base64 only for the binary
    // media types of the API, which this one has none of.
    return Promise.resolve({ statusCode: response.status, headers: response.headers, body: response.body.toString('utf8') });
  };
}

let containerHandler: ConsoleHandler | undefined;

export const handler: ConsoleHandler = (event) => {
  containerHandler ??= createConsoleHandler(loadAssets(path.join(path.dirname(fileURLToPath(import.meta.url)), 'console')));
  return containerHandler(event);
};
