import { create, fromJson, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { OrderSchema, type Order } from "@pasar/contracts/pasar/order/v1/order_pb";
import { describe, expect, it } from "vitest";

import { orderWithLineJson } from "@/testing/catalog";

import { DELIVERY_DELAYED_AFTER_MS, deliveryStage, isOrderSettled, tokenInGroups, UNTRACKED_AFTER_MS } from "./delivery";

const NOW = new Date("2026-03-01T10:00:00Z");

function order(state: string, line: JsonObject = {}, paidMsAgo = 1000): Order {
  const parsed = fromJson(OrderSchema, orderWithLineJson(state, line));
  parsed.paidTime = timestampFromDate(new Date(NOW.getTime() - paidMsAgo));
  return parsed;
}

function stage(value: Order): string {
  const [line] = value.lines;
  if (line === undefined) throw new Error("no line");
  return deliveryStage(value, line, NOW);
}

const fulfillment = (state: string): JsonObject => ({ fulfillment: { id: "ful_1", state: `FULFILLMENT_STATE_${state}` } });

describe("a line's delivery stage", () => {
  it("follows the order before and without payment", () => {
    expect(stage(order("PENDING_PAYMENT"))).toBe("awaitingPayment");
    expect(stage(order("CANCELLED"))).toBe("notDelivered");
    expect(stage(order("EXPIRED"))).toBe("notDelivered");
  });

  it("waits for the fulfillment service, then says the delivery is delayed", () => {
    expect(stage(order("PAID"))).toBe("waiting");
    expect(stage(order("PAID", {}, DELIVERY_DELAYED_AFTER_MS))).toBe("delayed");
  });

  it("follows the fulfillment and the refund", () => {
    expect(stage(order("PAID", fulfillment("PENDING"), 60_000))).toBe("pending");
    expect(stage(order("FULFILLED", fulfillment("SUCCEEDED")))).toBe("delivered");
    expect(stage(order("PAID", fulfillment("FAILED")))).toBe("failed");
    expect(stage(order("REFUNDED", { ...fulfillment("FAILED"), refund: { id: "rfd_1" } }))).toBe("refunded");
  });

  it("waits for the delivery of a line without a destination (a voucher code)", () => {
    expect(stage(order("PAID", { destination: {} }))).toBe("waiting");
    expect(stage(order("PAID", { destination: {} }, 3_600_000))).toBe("delayed");
  });

  it("does not track a paid line that has no destination a day later (an order from before deliveries)", () => {
    expect(stage(order("PAID", { destination: {} }, UNTRACKED_AFTER_MS))).toBe("untracked");
  });
});

describe("an order's page stops refreshing", () => {
  it("once the order is final", () => {
    for (const state of ["FULFILLED", "REFUNDED", "CANCELLED", "EXPIRED"]) {
      expect(isOrderSettled(order(state), NOW)).toBe(true);
    }
    for (const state of ["PENDING_PAYMENT", "PAID"]) expect(isOrderSettled(order(state), NOW)).toBe(false);
  });

  it("but not while a just-paid voucher code, which has no destination, awaits its delivery", () => {
    expect(isOrderSettled(order("PAID", { destination: {} }), NOW)).toBe(false);
  });

  it("and for a paid order from before deliveries", () => {
    expect(isOrderSettled(order("PAID", { destination: {} }, UNTRACKED_AFTER_MS), NOW)).toBe(true);
    expect(isOrderSettled(create(OrderSchema, { state: 2, lines: [] }), NOW)).toBe(true);
  });
});

describe("an electricity token", () => {
  it("is shown in five groups of four", () => {
    expect(tokenInGroups("1234-5678-9012-3456-7890")).toBe("1234-5678-9012-3456-7890");
    expect(tokenInGroups("12345678901234567890")).toBe("1234-5678-9012-3456-7890");
    expect(tokenInGroups("1234 5678 9012 3456 7890")).toBe("1234-5678-9012-3456-7890");
    expect(tokenInGroups("ABC-123")).toBe("ABC-123");
  });
});
