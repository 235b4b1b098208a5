// A small JSON client for Homeostat's HTTP API, used by the demo, the simulator's live mode and tests.

export interface JsonResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: callers check the status, then read the JSON they expect
  body: any;
  headers: Headers;
}
export type JsonCall = (method: string, path: string, body?: unknown) => Promise<JsonResponse>;

/** A string body is sent as is (tests use it to send malformed JSON). */
export function jsonClient(baseUrl: string, headers: Record<string, string> = {}): JsonCall {
  return async (method, path, body) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
  };
}
