/**
 * The message of each value of the contracts' enums that shoppers see. The records are
 * keyed by the generated enums, so a value added to a contract fails the type check
 * until it has wording here.
 */
import { OrderState } from "@pasar/contracts/pasar/order/v1/order_pb";
import { PaymentChannelKind } from "@pasar/contracts/pasar/payment/v1/payment_pb";

import type { MessageKey } from "./id";

export const orderStateKeys: Record<OrderState, MessageKey> = {
  [OrderState.UNSPECIFIED]: "status.UNSPECIFIED",
  [OrderState.PENDING_PAYMENT]: "status.PENDING_PAYMENT",
  [OrderState.PAID]: "status.PAID",
  [OrderState.CANCELLED]: "status.CANCELLED",
  [OrderState.EXPIRED]: "status.EXPIRED",
};

export const channelKindKeys: Record<PaymentChannelKind, MessageKey> = {
  [PaymentChannelKind.UNSPECIFIED]: "order.channelKind.UNSPECIFIED",
  [PaymentChannelKind.VIRTUAL_ACCOUNT]: "order.channelKind.VIRTUAL_ACCOUNT",
  [PaymentChannelKind.QRIS]: "order.channelKind.QRIS",
  [PaymentChannelKind.EWALLET]: "order.channelKind.EWALLET",
  [PaymentChannelKind.RETAIL_OUTLET]: "order.channelKind.RETAIL_OUTLET",
};
