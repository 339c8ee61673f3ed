/**
 * The message of each value of the contracts' enums that shoppers see. The records are
 * keyed by the generated enums, so a value added to a contract fails the type check
 * until it has wording here.
 */
import { FailureReason } from "@pasar/contracts/pasar/fulfillment/v1/fulfillment_pb";
import { OrderState } from "@pasar/contracts/pasar/order/v1/order_pb";
import { PaymentChannelKind } from "@pasar/contracts/pasar/payment/v1/payment_pb";

import type { MessageKey } from "./id";

export const orderStateKeys: Record<OrderState, MessageKey> = {
  [OrderState.UNSPECIFIED]: "status.UNSPECIFIED",
  [OrderState.PENDING_PAYMENT]: "status.PENDING_PAYMENT",
  [OrderState.PAID]: "status.PAID",
  [OrderState.CANCELLED]: "status.CANCELLED",
  [OrderState.EXPIRED]: "status.EXPIRED",
  [OrderState.FULFILLED]: "status.FULFILLED",
  [OrderState.REFUNDED]: "status.REFUNDED",
};

/** Why a line was not delivered, in words for shoppers (never the biller's own message). */
export const failureReasonKeys: Record<FailureReason, MessageKey> = {
  [FailureReason.UNSPECIFIED]: "failure.UNSPECIFIED",
  [FailureReason.DESTINATION_NOT_FOUND]: "failure.DESTINATION_NOT_FOUND",
  [FailureReason.DESTINATION_REFUSED]: "failure.DESTINATION_REFUSED",
  [FailureReason.PRODUCT_UNAVAILABLE]: "failure.PRODUCT_UNAVAILABLE",
  [FailureReason.BILLER_ERROR]: "failure.BILLER_ERROR",
};

export const channelKindKeys: Record<PaymentChannelKind, MessageKey> = {
  [PaymentChannelKind.UNSPECIFIED]: "order.channelKind.UNSPECIFIED",
  [PaymentChannelKind.VIRTUAL_ACCOUNT]: "order.channelKind.VIRTUAL_ACCOUNT",
  [PaymentChannelKind.QRIS]: "order.channelKind.QRIS",
  [PaymentChannelKind.EWALLET]: "order.channelKind.EWALLET",
  [PaymentChannelKind.RETAIL_OUTLET]: "order.channelKind.RETAIL_OUTLET",
};
