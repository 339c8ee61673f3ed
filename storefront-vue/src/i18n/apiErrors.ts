/**
 * What a failed request means to a shopper, as a message key. Each part of a page names
 * its own "unavailable" message, so a shopper reads which part is down ("ordering is
 * unavailable") rather than a status code; contract reasons (ErrorInfo.reason) pick the
 * specific messages, never the server's English text.
 */
import type { ApiError } from "@/api/http";
import { isNotCancellable, isPaymentNoLongerPending, isSandboxDisabled, orderRefusal } from "@/api/reasons";

import type { MessageKey } from "./id";

/** The message for an error of one part of a page: unavailable, or else the fallback. */
export function sectionErrorKey(error: ApiError, unavailable: MessageKey, fallback: MessageKey = "common.failed"): MessageKey {
  if (error.unavailable) return unavailable;
  if (error.status === 429) return "common.tooManyRequests";
  return fallback;
}

/** The message for a failed Beli (CreateOrder). */
export function createOrderErrorKey(error: ApiError): MessageKey {
  const refusal = orderRefusal(error);
  if (refusal !== undefined) return `order.${refusal}`;
  if (error.code === "INVALID_ARGUMENT") return "order.invalid";
  return sectionErrorKey(error, "order.unavailable", "order.failed");
}

/** The message for a failed cancellation. */
export function cancelOrderErrorKey(error: ApiError): MessageKey {
  if (isNotCancellable(error)) return "cancel.notCancellable";
  return sectionErrorKey(error, "cancel.unavailable", "cancel.failed");
}

/** The message for a failed simulated payment. */
export function simulatePaymentErrorKey(error: ApiError): MessageKey {
  if (isPaymentNoLongerPending(error)) return "payment.simulateNotPending";
  if (isSandboxDisabled(error)) return "payment.sandboxDisabled";
  return sectionErrorKey(error, "payment.unavailable", "payment.simulateFailed");
}
