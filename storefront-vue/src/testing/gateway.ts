/**
 * A fake of the gateway's REST surface for unit tests: fetch is replaced by a router of
 * handlers that answer with proto3 JSON (as google.protobuf.json_format writes it, default
 * values included) or with the gateway's error shape, and every request is recorded.
 */
import { vi } from "vitest";

/** One request the storefront sent. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: unknown;
}

export type Handler = (request: RecordedRequest) => Response | Promise<Response>;

export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/** The gateway's error shape. */
export function errorResponse(status: number, code: string, message: string, details: unknown[] = []): Response {
  return jsonResponse({ error: { code, message, details } }, status);
}

/** What the gateway answers for a route whose service is down. */
export function unavailable(): Response {
  return errorResponse(503, "UNAVAILABLE", "the service is unavailable");
}

export interface FakeGateway {
  /** Answers method + path (a string for an exact path, or a pattern). Later routes win. */
  on: (method: string, path: string | RegExp, handler: Handler) => FakeGateway;
  requests: RecordedRequest[];
  /** The requests to one path. */
  requestsTo: (method: string, path: string | RegExp) => RecordedRequest[];
}

export function installFakeGateway(): FakeGateway {
  const routes: { method: string; path: string | RegExp; handler: Handler }[] = [];
  const requests: RecordedRequest[] = [];
  const matches = (route: { method: string; path: string | RegExp }, method: string, path: string): boolean =>
    route.method === method && (typeof route.path === "string" ? route.path === path : route.path.test(path));

  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input), "http://storefront.test");
    const method = init?.method ?? "GET";
    const request: RecordedRequest = {
      method,
      path: url.pathname,
      query: url.searchParams,
      headers: new Headers(init?.headers),
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
    };
    requests.push(request);
    const route = [...routes].reverse().find((candidate) => matches(candidate, method, url.pathname));
    if (route === undefined) return errorResponse(404, "NOT_FOUND", `no route for ${method} ${url.pathname}`);
    return route.handler(request);
  });
  vi.stubGlobal("fetch", fetchMock);

  const gateway: FakeGateway = {
    on(method, path, handler) {
      routes.push({ method, path, handler });
      return gateway;
    },
    requests,
    requestsTo: (method, path) => requests.filter((request) => matches({ method, path }, request.method, request.path)),
  };
  return gateway;
}

/** A response that arrives only when release() is called, to look at the page meanwhile. */
export function deferredResponse(): { handler: Handler; release: (response: Response) => void } {
  let release: (response: Response) => void = () => undefined;
  const pending = new Promise<Response>((resolve) => {
    release = resolve;
  });
  return { handler: () => pending, release: (response) => release(response) };
}
