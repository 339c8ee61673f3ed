/**
 * The idempotency key of the order the shopper means to place. Pressing Beli again for
 * the same order (after a timeout, or once the order service is back) sends the same key,
 * so the order service returns the first attempt's order instead of placing a second one.
 * Changing the order (another package, quantity, channel or e-mail) is a new intent
 * with a new key; so is trying again after the service definitely refused the order.
 */
import { toBinary } from "@bufbuild/protobuf";
import { CreateOrderRequestSchema, type CreateOrderRequest } from "@pasar/contracts/pasar/order/v1/order_service_pb";

export interface OrderIntent {
  /** The key for this request: the same as the last one's when the request is the same. */
  keyFor: (request: CreateOrderRequest) => string;
  /** Forgets the current intent, after an answer that a retry would not change. */
  forget: () => void;
}

/** A stable text of what the request asks for; request_id itself is left out. */
function fingerprint(request: CreateOrderRequest): string {
  const content = { ...request, requestId: "" };
  return Array.from(toBinary(CreateOrderRequestSchema, content)).join(",");
}

/**
 * A random version-4 UUID. crypto.randomUUID exists only in secure contexts (https, or
 * 127.0.0.1); a shop opened over plain http on a LAN address builds one from
 * crypto.getRandomValues, which every context has.
 */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function" && globalThis.isSecureContext !== false) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function useOrderIntent(newKey: () => string = newIdempotencyKey): OrderIntent {
  let current: { fingerprint: string; key: string } | undefined;
  return {
    keyFor(request) {
      const print = fingerprint(request);
      if (current?.fingerprint !== print) current = { fingerprint: print, key: newKey() };
      return current.key;
    },
    forget() {
      current = undefined;
    },
  };
}
