/**
 * The contracts' error reasons as the storefront branches on them. ErrorInfo.reason on
 * the wire is the name of a value of a package's `ErrorReason` enum, so every reason is
 * spelled here through the generated enums, never as a string of our own: a reason the
 * contracts rename or drop fails the type check instead of silently never matching.
 */
import { ErrorReason as CommonReason } from "@pasar/contracts/pasar/common/v1/error_reason_pb";
import { ErrorReason as FulfillmentReason } from "@pasar/contracts/pasar/fulfillment/v1/error_reason_pb";
import { ErrorReason as OrderReason } from "@pasar/contracts/pasar/order/v1/error_reason_pb";
import { ErrorReason as PaymentReason } from "@pasar/contracts/pasar/payment/v1/error_reason_pb";
import { ErrorReason as ProductReason } from "@pasar/contracts/pasar/product/v1/error_reason_pb";

import type { ApiError } from "./http";

/** A Beli refused because the package is gone: the product page is stale. */
const packageRefusals: ReadonlySet<string> = new Set([
  ProductReason[ProductReason.PACKAGE_NOT_FOUND],
  ProductReason[ProductReason.PRODUCT_NOT_FOUND],
]);

/** A Beli refused because of the chosen payment channel: the channel list is stale. */
const channelRefusals: ReadonlySet<string> = new Set([
  PaymentReason[PaymentReason.CHANNEL_DISABLED],
  PaymentReason[PaymentReason.CHANNEL_NOT_FOUND],
]);

/**
 * Why a Beli (CreateOrder) was refused, when the reason says which part of the page is
 * stale or what the shopper can do: the channel's amount limits (AMOUNT_OUT_OF_RANGE),
 * the e-wallet's phone number (PAYER_PHONE_NUMBER_REQUIRED), or waiting (RATE_LIMITED).
 */
export type OrderRefusal =
  | "outOfStock"
  | "packageGone"
  | "channelRefused"
  | "amountOutOfRange"
  | "payerPhoneRequired"
  | "destinationRefused"
  | "rateLimited";

export function orderRefusal(error: ApiError): OrderRefusal | undefined {
  if (error.reason === undefined) return error.status === 429 ? "rateLimited" : undefined;
  if (error.reason === ProductReason[ProductReason.OUT_OF_STOCK]) return "outOfStock";
  if (packageRefusals.has(error.reason)) return "packageGone";
  if (error.reason === PaymentReason[PaymentReason.AMOUNT_OUT_OF_RANGE]) return "amountOutOfRange";
  if (channelRefusals.has(error.reason)) return "channelRefused";
  if (error.reason === PaymentReason[PaymentReason.PAYER_PHONE_NUMBER_REQUIRED]) return "payerPhoneRequired";
  if (error.reason === CommonReason[CommonReason.INVALID_DESTINATION]) return "destinationRefused";
  if (error.reason === CommonReason[CommonReason.RATE_LIMITED] || error.status === 429) return "rateLimited";
  return undefined;
}

/** A decimal integer of an error's metadata (such as `min_amount`), or undefined. */
function metadataInteger(error: ApiError, key: string): bigint | undefined {
  const value = error.metadata[key];
  return value !== undefined && /^\d{1,18}$/.test(value) ? BigInt(value) : undefined;
}

/** The channel's limits an AMOUNT_OUT_OF_RANGE names (metadata `min_amount`, `max_amount`, `channel_code`). */
export function refusedAmountRange(
  error: ApiError,
): { channelCode: string; minAmount: bigint | undefined; maxAmount: bigint | undefined } | undefined {
  if (error.reason !== PaymentReason[PaymentReason.AMOUNT_OUT_OF_RANGE]) return undefined;
  return {
    channelCode: error.metadata.channel_code ?? "",
    minAmount: metadataInteger(error, "min_amount"),
    maxAmount: metadataInteger(error, "max_amount"),
  };
}

/** How long a RATE_LIMITED answer asks to wait (metadata `retry_after_seconds`), when it says. */
export function retryAfterSeconds(error: ApiError): number | undefined {
  const seconds = metadataInteger(error, "retry_after_seconds");
  return seconds === undefined || seconds <= 0n ? undefined : Number(seconds);
}

/** A violation path that names a destination value: `lines[0].destination["phone_number"]`. */
const DESTINATION_PATH = /(?:^|\.)destination\["([^"]+)"\]$/;

/**
 * The destination field a refusal names (INVALID_DESTINATION, at Beli or at a look-up):
 * its metadata's `field`, or else the BadRequest violation's path.
 */
export function refusedDestinationField(error: ApiError): string | undefined {
  if (error.reason !== CommonReason[CommonReason.INVALID_DESTINATION]) return undefined;
  const named = error.metadata.field;
  if (named !== undefined && named !== "") return named;
  for (const violation of error.fieldViolations) {
    const match = DESTINATION_PATH.exec(violation.field);
    if (match?.[1] !== undefined) return match[1];
  }
  return undefined;
}

/** The biller knows no such destination (a meter number PLN has no customer for). */
export function isDestinationNotFound(error: ApiError): boolean {
  return error.reason === FulfillmentReason[FulfillmentReason.DESTINATION_NOT_FOUND];
}

/** The order can no longer be cancelled (paid, cancelled or expired). */
export function isNotCancellable(error: ApiError): boolean {
  return error.reason === OrderReason[OrderReason.ORDER_NOT_CANCELLABLE];
}

/** The payment is no longer waiting, so the sandbox cannot settle it. */
export function isPaymentNoLongerPending(error: ApiError): boolean {
  return (
    error.reason === PaymentReason[PaymentReason.PAYMENT_NOT_PENDING] ||
    error.reason === PaymentReason[PaymentReason.PAYMENT_PAID]
  );
}

/** The shop settles no payment by the sandbox (a real provider, or production). */
export function isSandboxDisabled(error: ApiError): boolean {
  return error.reason === PaymentReason[PaymentReason.SANDBOX_DISABLED];
}
