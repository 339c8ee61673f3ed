/**
 * The one place the storefront talks HTTP: requests to the gateway's REST routes, and
 * its one error shape (`{"error": {"code", "message", "details"}}`) turned into ApiError.
 * The modules beside this one parse successful bodies into the contracts' typed messages.
 */
import { fromJson, type DescMessage, type JsonValue, type MessageShape } from "@bufbuild/protobuf";

import { newTraceparent, TRACEPARENT_HEADER, traceIdOf } from "./traceparent";

/** Where the gateway's API lives: on the storefront's own origin. */
export const API_BASE = "/api/v1";

/** How long a request may take before the storefront gives up on it. */
export const REQUEST_TIMEOUT_MS = 15_000;

/** One field the server rejected (google.rpc.BadRequest.FieldViolation). */
export interface FieldViolation {
  field: string;
  description: string;
}

/** gRPC code names for HTTP statuses, used when a response carries no error body. */
const codeForStatus: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ABORTED",
  422: "FAILED_PRECONDITION",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  501: "UNIMPLEMENTED",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

/** A request that did not succeed: the gateway's error, or no answer at all (status 0). */
export class ApiError extends Error {
  override readonly name = "ApiError";
  /** The HTTP status; 0 when no response arrived (network failure or timeout). */
  readonly status: number;
  /** The gRPC status code name, such as "NOT_FOUND" or "UNAVAILABLE". */
  readonly code: string;
  /** google.rpc.ErrorInfo's reason (a value name of a contract's ErrorReason enum, see api/reasons.ts), when the server gave one. */
  readonly reason: string | undefined;
  /** google.rpc.ErrorInfo's metadata, such as the package that ran out of stock. */
  readonly metadata: Readonly<Record<string, string>>;
  /** google.rpc.BadRequest's field violations. */
  readonly fieldViolations: readonly FieldViolation[];
  /**
   * The trace id the failed request's `traceparent` named (api/traceparent.ts), which a
   * support person pastes into the trace viewer; undefined for a failure of no request.
   */
  readonly traceId: string | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    extra: {
      reason?: string;
      metadata?: Record<string, string>;
      fieldViolations?: FieldViolation[];
      traceId?: string;
    } = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.reason = extra.reason;
    this.metadata = extra.metadata ?? {};
    this.fieldViolations = extra.fieldViolations ?? [];
    this.traceId = extra.traceId;
  }

  /**
   * True when the service behind the route could not answer (down, overloaded, too
   * slow, or the network failed): the request may succeed if tried again later.
   */
  get unavailable(): boolean {
    return this.status === 0 || this.status === 502 || this.status === 503 || this.status === 504;
  }

  /**
   * True when the outcome is unknown or temporary, so a retry must reuse the same
   * idempotency key; false when the server definitely refused the request.
   */
  get retryable(): boolean {
    return this.unavailable || this.contention || this.status >= 500 || this.status === 408 || this.status === 429;
  }

  /**
   * True when the request conflicted with another one at the service (ABORTED, as the
   * services answer contention): the contract says the same request, tried again, succeeds.
   */
  get contention(): boolean {
    return this.code === "ABORTED";
  }
}

/** Turns anything thrown into an ApiError, so views handle one type. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError(0, "UNKNOWN", message);
}

/** True for the abort a caller asked for (a newer request replaced this one). */
export function isAbort(error: unknown): boolean {
  return typeof error === "object" && error !== null && "name" in error && error.name === "AbortError";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringRecord(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
}

/**
 * Reads the gateway's error body; details are google.protobuf.Any in proto3 JSON.
 * traceId is the trace the request was sent in, kept on the error.
 */
export function parseErrorBody(status: number, body: unknown, traceId?: string): ApiError {
  const fallbackCode = codeForStatus[status] ?? (status >= 500 ? "INTERNAL" : "UNKNOWN");
  const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  if (error === undefined) return new ApiError(status, fallbackCode, `HTTP ${status}`, { traceId });
  const code = typeof error.code === "string" && error.code !== "" ? error.code : fallbackCode;
  const message = typeof error.message === "string" ? error.message : `HTTP ${status}`;
  let reason: string | undefined;
  let metadata: Record<string, string> = {};
  const fieldViolations: FieldViolation[] = [];
  for (const detail of Array.isArray(error.details) ? error.details : []) {
    if (!isRecord(detail)) continue;
    const type = typeof detail["@type"] === "string" ? detail["@type"] : "";
    if (type.endsWith("/google.rpc.ErrorInfo") && typeof detail.reason === "string") {
      reason = detail.reason;
      metadata = stringRecord(detail.metadata);
    } else if (type.endsWith("/google.rpc.BadRequest") && Array.isArray(detail.fieldViolations)) {
      for (const violation of detail.fieldViolations) {
        if (isRecord(violation) && typeof violation.field === "string") {
          const description = typeof violation.description === "string" ? violation.description : "";
          fieldViolations.push({ field: violation.field, description });
        }
      }
    }
  }
  return new ApiError(status, code, message, { reason, metadata, fieldViolations, traceId });
}

/** What a request sends besides its method and path. */
export interface RequestOptions {
  /** Query parameters; empty and undefined values are left out. */
  query?: Record<string, string | number | undefined>;
  /** A JSON body. */
  body?: JsonValue;
  headers?: Record<string, string>;
  /** Aborts the request, for example when a newer one replaces it. */
  signal?: AbortSignal;
  /**
   * The trace of the user action this request serves (api/traceparent.ts' newTraceId), so
   * that the retries of one action share it; a new trace when left out.
   */
  traceId?: string;
}

function urlFor(path: string, query: RequestOptions["query"]): string {
  const parameters = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== "") parameters.set(name, String(value));
  }
  const search = parameters.toString();
  return `${API_BASE}${path}${search === "" ? "" : `?${search}`}`;
}

/**
 * Sends a request and returns its JSON body; throws ApiError for anything but 2xx. Each
 * request carries a W3C `traceparent` (a new span id, in options.traceId's trace or a new
 * one), and the ApiError it throws names that trace.
 */
export async function requestJson(method: "GET" | "POST", path: string, options: RequestOptions = {}): Promise<JsonValue> {
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
  const traceparent = newTraceparent(options.traceId);
  const traceId = traceIdOf(traceparent);
  const headers: Record<string, string> = {
    Accept: "application/json",
    ...options.headers,
    [TRACEPARENT_HEADER]: traceparent,
  };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(urlFor(path, options.query), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal,
    });
  } catch (error) {
    if (options.signal?.aborted === true) throw options.signal.reason ?? error;
    if (timeout.aborted) throw new ApiError(0, "DEADLINE_EXCEEDED", "the request timed out", { traceId });
    throw new ApiError(0, "UNAVAILABLE", error instanceof Error ? error.message : "the network failed", { traceId });
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (!response.ok) throw parseErrorBody(response.status, body, traceId);
  if (body === undefined) throw new ApiError(response.status, "INTERNAL", "the response is not JSON", { traceId });
  return body as JsonValue;
}

/** Parses a response body into a contract message; unknown fields are newer fields, kept out. */
export function parseMessage<Desc extends DescMessage>(schema: Desc, json: JsonValue): MessageShape<Desc> {
  try {
    return fromJson(schema, json, { ignoreUnknownFields: true });
  } catch (error) {
    throw new ApiError(200, "INTERNAL", `the response is not a ${schema.typeName}: ${String(error)}`);
  }
}
