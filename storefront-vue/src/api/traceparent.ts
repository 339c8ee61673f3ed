/**
 * W3C Trace Context for the storefront's requests, without a tracing SDK: each user
 * action's request carries a `traceparent` the gateway continues (its HTTP span is the
 * child of this context), so one trace id names the whole action in the trace viewer,
 * and an error the storefront shows can quote it for support.
 *
 * Format (https://www.w3.org/TR/trace-context/#traceparent-header):
 * `00-<32 hex trace id>-<16 hex parent id>-01`, version 00, ids random and never all
 * zero, flags 01 (sampled: the shopper's action is worth recording).
 */

/** The header's name, as the gateway and the services read it. */
export const TRACEPARENT_HEADER = "traceparent";

const TRACE_ID_BYTES = 16;
const SPAN_ID_BYTES = 8;
const TRACEPARENT_PATTERN = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

/** Random bytes as lowercase hex, drawn again in the (2^-64 or less) case of all zeros. */
function randomHex(bytes: number): string {
  const buffer = new Uint8Array(bytes);
  do {
    crypto.getRandomValues(buffer);
  } while (buffer.every((byte) => byte === 0));
  return Array.from(buffer, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A new random trace id: 32 lowercase hex digits, never all zero. */
export function newTraceId(): string {
  return randomHex(TRACE_ID_BYTES);
}

/** A new random span (parent) id: 16 lowercase hex digits, never all zero. */
export function newSpanId(): string {
  return randomHex(SPAN_ID_BYTES);
}

/** True for a trace id this module would make or keep: 32 lowercase hex digits, not all zero. */
export function isTraceId(value: string): boolean {
  return /^[0-9a-f]{32}$/.test(value) && !/^0+$/.test(value);
}

/**
 * A `traceparent` value for one request: in the given trace (a retry of the same action
 * keeps its trace id), or in a new one; the span id is always new.
 */
export function newTraceparent(traceId: string = newTraceId()): string {
  if (!isTraceId(traceId)) throw new RangeError(`not a trace id: ${JSON.stringify(traceId)}`);
  return `00-${traceId}-${newSpanId()}-01`;
}

/** The trace id of a `traceparent` value this module made; undefined for any other value. */
export function traceIdOf(traceparent: string): string | undefined {
  return TRACEPARENT_PATTERN.exec(traceparent)?.[1];
}
