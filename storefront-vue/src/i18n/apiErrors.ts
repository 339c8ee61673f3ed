/**
 * What a failed request means to a shopper, as a message key. Each part of a page names
 * its own "unavailable" message, so a shopper reads which part is down ("ordering is
 * unavailable") rather than a status code; contract reasons (ErrorInfo.reason) pick the
 * specific messages, never the server's English text.
 */
import type { ApiError } from "@/api/http";
import {
  isNotCancellable,
  isPaymentNoLongerPending,
  isSandboxDisabled,
  orderRefusal,
  refusedAmountRange,
  retryAfterSeconds,
} from "@/api/reasons";
import { formatRupiah } from "@/pricing/rupiah";

import type { MessageKey } from "./id";
import type { MessageParams } from "./index";

/** The message for an error of one part of a page: unavailable, or else the fallback. */
export function sectionErrorKey(error: ApiError, unavailable: MessageKey, fallback: MessageKey = "common.failed"): MessageKey {
  if (error.unavailable) return unavailable;
  if (error.status === 429) return "common.tooManyRequests";
  return fallback;
}

/** A message key with the values of its placeholders. */
export interface Message {
  key: MessageKey;
  params: MessageParams;
}

/** What the order page knows that a refusal's message names. */
export interface OrderContext {
  /** The order's amount before fees, as sent. */
  amount?: bigint;
  /** A channel's name by its code. */
  channelName: (code: string) => string | undefined;
}

/**
 * The message for a failed Beli (CreateOrder): the contract's reason picks it, and its
 * metadata fills it in (the channel's minimum or maximum, how long to wait, how many are
 * left); otherwise the status says whether ordering is unavailable or failed.
 */
export function createOrderErrorMessage(error: ApiError, context: OrderContext): Message {
  const refusal = orderRefusal(error);
  const channel = context.channelName(error.metadata.channel_code ?? "") ?? error.metadata.channel_code ?? "";
  switch (refusal) {
    case "outOfStock":
      return { key: "order.outOfStock", params: { available: error.metadata.available ?? "0" } };
    case "amountOutOfRange": {
      const range = refusedAmountRange(error);
      const aboveMaximum =
        range?.maxAmount !== undefined &&
        (context.amount === undefined ? range.minAmount === undefined : context.amount > range.maxAmount);
      if (aboveMaximum && range?.maxAmount !== undefined) {
        return { key: "order.amountAboveMaximum", params: { channel, amount: formatRupiah(range.maxAmount) } };
      }
      if (range?.minAmount !== undefined) {
        return { key: "order.amountBelowMinimum", params: { channel, amount: formatRupiah(range.minAmount) } };
      }
      return { key: "order.channelRefused", params: {} };
    }
    case "payerPhoneRequired":
      return { key: "order.payerPhoneRequired", params: { wallet: channel } };
    case "rateLimited": {
      const seconds = retryAfterSeconds(error);
      return seconds === undefined
        ? { key: "order.rateLimitedShort", params: {} }
        : { key: "order.rateLimited", params: { count: seconds } };
    }
    case undefined:
      if (error.code === "INVALID_ARGUMENT") return { key: "order.invalid", params: {} };
      return { key: sectionErrorKey(error, "order.unavailable", "order.failed"), params: {} };
    default:
      return { key: `order.${refusal}`, params: {} };
  }
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
