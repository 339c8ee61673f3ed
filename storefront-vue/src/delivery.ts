/**
 * Where an order line's delivery stands, as the payment page explains it between "paid"
 * and "delivered": read from the order (its state, when it was paid) and the line (its
 * destination, its fulfillment as the fulfillment service last reported it, its refund).
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { FulfillmentState } from "@pasar/contracts/pasar/fulfillment/v1/fulfillment_pb";
import { OrderState, type Order, type OrderLine } from "@pasar/contracts/pasar/order/v1/order_pb";

/**
 * How long a paid line may wait for the fulfillment service to accept it before the page
 * says the delivery is delayed. The sandbox biller answers in a fraction of a second and
 * the order service hands a paid order over within moments, so a line still without a
 * fulfillment after this long means the fulfillment service is down or behind.
 */
export const DELIVERY_DELAYED_AFTER_MS = 15_000;

export type DeliveryStage =
  /** The order awaits its payment: delivery comes after. */
  | "awaitingPayment"
  /** Cancelled or expired: nothing is delivered. */
  | "notDelivered"
  /** Paid; the fulfillment service has not accepted the line yet. */
  | "waiting"
  /** Paid a while ago and still not accepted: the fulfillment service is down or behind. */
  | "delayed"
  /** Accepted and handed to the biller, whose answer is awaited. */
  | "pending"
  | "delivered"
  /** The biller delivered nothing; the refund is under way. */
  | "failed"
  /** The biller delivered nothing and the line's price went back. */
  | "refunded"
  /** A paid line that is never delivered (an order placed before deliveries existed). */
  | "untracked";

/**
 * How long after the payment a line with neither a destination nor a fulfillment is taken
 * for a line of an order placed before deliveries existed (the order service never asks
 * to deliver those: they stay PAID for good). Sooner, it is a line of a product without
 * destination fields (a voucher code) waiting for the fulfillment service like any other.
 */
export const UNTRACKED_AFTER_MS = 24 * 60 * 60 * 1000;

function paidMsAgo(order: Order, now: Date): number {
  return order.paidTime === undefined ? Infinity : now.getTime() - timestampDate(order.paidTime).getTime();
}

/** Whether the line is (or will be) delivered by the fulfillment service. */
function tracked(order: Order, line: OrderLine, now: Date): boolean {
  return (
    Object.keys(line.destination).length > 0 ||
    line.fulfillment !== undefined ||
    paidMsAgo(order, now) < UNTRACKED_AFTER_MS
  );
}

export function deliveryStage(
  order: Order,
  line: OrderLine,
  now: Date,
  delayedAfterMs = DELIVERY_DELAYED_AFTER_MS,
): DeliveryStage {
  if (order.state === OrderState.PENDING_PAYMENT || order.state === OrderState.UNSPECIFIED) return "awaitingPayment";
  if (order.state === OrderState.CANCELLED || order.state === OrderState.EXPIRED) return "notDelivered";
  if (line.refund !== undefined) return "refunded";
  switch (line.fulfillment?.state) {
    case FulfillmentState.SUCCEEDED:
      return "delivered";
    case FulfillmentState.FAILED:
      return "failed";
    case FulfillmentState.PENDING:
      return "pending";
    default:
      break;
  }
  if (!tracked(order, line, now)) return "untracked";
  return paidMsAgo(order, now) >= delayedAfterMs ? "delayed" : "waiting";
}

/** True when the order changes no more (as seen at now), so its page may stop refreshing. */
export function isOrderSettled(order: Order, now: Date): boolean {
  switch (order.state) {
    case OrderState.CANCELLED:
    case OrderState.EXPIRED:
    case OrderState.FULFILLED:
    case OrderState.REFUNDED:
      return true;
    case OrderState.PAID:
      // Orders placed before deliveries existed stay PAID for good.
      return order.lines.every((line) => !tracked(order, line, now));
    default:
      return false;
  }
}

/** An electricity token in its five groups of four ("1234-5678-9012-3456-7890"), however it came. */
export function tokenInGroups(token: string): string {
  const digits = token.replace(/[\s-]/g, "");
  return /^[0-9]{20}$/.test(digits) ? (digits.match(/[0-9]{4}/g) ?? []).join("-") : token;
}
