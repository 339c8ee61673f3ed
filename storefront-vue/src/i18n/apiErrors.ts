/**
 * What a failed request means to a shopper, as a message key. Each part of a page names
 * its own "unavailable" message, so a shopper reads which part is down ("ordering is
 * unavailable") rather than a status code; contract reasons (ErrorInfo.reason) pick the
 * specific messages, never the server's English text.
 */
import type { ApiError } from "@/api/http";

import type { MessageKey } from "./id";

/** The message for an error of one part of a page: unavailable, or else the fallback. */
export function sectionErrorKey(error: ApiError, unavailable: MessageKey, fallback: MessageKey = "common.failed"): MessageKey {
  if (error.unavailable) return unavailable;
  if (error.status === 429) return "common.tooManyRequests";
  return fallback;
}

/** The message for a failed Beli (CreateOrder). */
export function createOrderErrorKey(error: ApiError): MessageKey {
  switch (error.reason) {
    case "OUT_OF_STOCK":
      return "order.outOfStock";
    case "AMOUNT_OUT_OF_RANGE":
    case "CHANNEL_DISABLED":
    case "CHANNEL_NOT_FOUND":
      return "order.channelRefused";
    case "PACKAGE_NOT_FOUND":
    case "PRODUCT_NOT_FOUND":
      return "order.packageGone";
    default:
      break;
  }
  if (error.code === "INVALID_ARGUMENT") return "order.invalid";
  return sectionErrorKey(error, "order.unavailable", "order.failed");
}

/** The message for a failed cancellation. */
export function cancelOrderErrorKey(error: ApiError): MessageKey {
  if (error.reason === "ORDER_NOT_CANCELLABLE") return "cancel.notCancellable";
  return sectionErrorKey(error, "cancel.unavailable", "cancel.failed");
}

/** The message for a failed simulated payment. */
export function simulatePaymentErrorKey(error: ApiError): MessageKey {
  if (error.reason === "PAYMENT_NOT_PENDING" || error.reason === "PAYMENT_PAID") return "payment.simulateNotPending";
  if (error.reason === "SANDBOX_DISABLED") return "payment.sandboxDisabled";
  return sectionErrorKey(error, "payment.unavailable", "payment.simulateFailed");
}
