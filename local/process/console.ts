import { consoleResponse, type ConsoleAssets } from '#functions/commons/console-site.ts';
import { buildConsole } from '#infra/console/build.ts';
import type { GatewayResponse } from '../gateway/gateway-responses.ts';

export type ConsoleHandler = (method: string, path: string) => Promise<GatewayResponse | undefined>;

/**
 * The console for the local server: built with esbuild on the first request for it, then
 * served from memory. Undefined for every path that is not the console's (the gateway's).
 */
export function localConsole(load: () => Promise<ConsoleAssets> = buildConsole): ConsoleHandler {
  let assets: Promise<ConsoleAssets> | undefined;
  return async (method, path) => {
    if (consoleResponse(new Map(), method, path) === undefined) return undefined;
    assets ??= load().catch((error: unknown) => {
      assets = undefined;
      throw error;
    });
    const response = consoleResponse(await assets, method, path);
    if (response === undefined) return undefined;
    return { status: response.status, headers: response.headers, body: response.body.toString('base64'), isBase64Encoded: true };
  };
}
