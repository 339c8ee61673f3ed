import { fromJson } from "@bufbuild/protobuf";
import { OrderSchema, type Order } from "@pasar/contracts/pasar/order/v1/order_pb";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ORDER_ID, orderJson } from "@/testing/catalog";

import {
  forgetAllOrders,
  forgetOrder,
  RECENT_ORDERS_LIMIT,
  RECENT_ORDERS_STORAGE_KEY,
  reloadRecentOrders,
  rememberOrder,
  useRecentOrders,
} from "./useRecentOrders";

function order(index: number, overrides: Record<string, string> = {}): Order {
  const id = `ord_${index.toString(16).padStart(32, "0")}`;
  return fromJson(OrderSchema, orderJson("PENDING_PAYMENT", { id, orderNumber: `PSR-${"ABCDEFGHJK"[index % 10]}23456`, ...overrides }));
}

function stored(): unknown {
  return JSON.parse(localStorage.getItem(RECENT_ORDERS_STORAGE_KEY) ?? "null");
}

beforeEach(() => {
  localStorage.clear();
  forgetAllOrders();
});
afterEach(() => vi.unstubAllGlobals());

describe("the recent orders on this device", () => {
  it("remembers what the list shows and what opens the order", () => {
    rememberOrder(fromJson(OrderSchema, orderJson("PENDING_PAYMENT", { orderNumber: "PSR-7K3M9Q" })), "tok-1");
    expect(useRecentOrders().orders.value).toEqual([
      {
        id: ORDER_ID,
        accessToken: "tok-1",
        orderNumber: "PSR-7K3M9Q",
        totalAmount: "27000",
        currencyCode: "IDR",
        createTime: "2026-01-05T08:00:00.000Z",
        productNames: ["Pulsa Nusantara"],
        productNamesEn: ["Pulsa Nusantara"],
      },
    ]);
    expect(stored()).toEqual(useRecentOrders().orders.value);
  });

  it("names each product in English where the snapshot has an English name, else in Indonesian", () => {
    const placed = fromJson(OrderSchema, orderJson("PENDING_PAYMENT", { orderNumber: "PSR-7K3M9Q" }));
    const [line] = placed.lines;
    if (line === undefined) throw new Error("the sample order has a line");
    placed.lines = [
      { ...line, productDisplayName: "Token Listrik", productDisplayNameEn: "Electricity token" },
      { ...line, productDisplayName: "Voucher Game", productDisplayNameEn: "  " },
    ];
    rememberOrder(placed, "tok-1");
    expect(useRecentOrders().orders.value[0]?.productNames).toEqual(["Token Listrik", "Voucher Game"]);
    expect(useRecentOrders().orders.value[0]?.productNamesEn).toEqual(["Electricity token", "Voucher Game"]);
  });

  it("lists the newest first, keeps ten, and moves an order remembered again to the top", () => {
    for (let index = 1; index <= RECENT_ORDERS_LIMIT + 2; index += 1) rememberOrder(order(index), `tok-${index}`);
    const ids = (): string[] => useRecentOrders().orders.value.map((entry) => entry.accessToken);
    expect(ids()).toEqual(["tok-12", "tok-11", "tok-10", "tok-9", "tok-8", "tok-7", "tok-6", "tok-5", "tok-4", "tok-3"]);
    rememberOrder(order(5), "tok-5");
    expect(ids().slice(0, 3)).toEqual(["tok-5", "tok-12", "tok-11"]);
    expect(ids()).toHaveLength(RECENT_ORDERS_LIMIT);
  });

  it("forgets one order, then all, on this device too", () => {
    rememberOrder(order(1), "tok-1");
    rememberOrder(order(2), "tok-2");
    forgetOrder(order(2).id);
    reloadRecentOrders();
    expect(useRecentOrders().orders.value.map((entry) => entry.id)).toEqual([order(1).id]);
    forgetAllOrders();
    reloadRecentOrders();
    expect(useRecentOrders().orders.value).toEqual([]);
    expect(localStorage.getItem(RECENT_ORDERS_STORAGE_KEY)).toBeNull();
  });

  it("never talks to a server", () => {
    const fetchSpy = vi.fn();
    vi.stubGlobal("fetch", fetchSpy);
    rememberOrder(order(1), "tok-1");
    forgetOrder(order(1).id);
    forgetAllOrders();
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it("drops what it cannot read instead of failing", () => {
    localStorage.setItem(RECENT_ORDERS_STORAGE_KEY, "{not json");
    reloadRecentOrders();
    expect(useRecentOrders().orders.value).toEqual([]);
    localStorage.setItem(
      RECENT_ORDERS_STORAGE_KEY,
      JSON.stringify([{ id: ORDER_ID }, { id: ORDER_ID, accessToken: "t", totalAmount: "12a", productNames: ["A", 3] }]),
    );
    reloadRecentOrders();
    expect(useRecentOrders().orders.value).toEqual([
      expect.objectContaining({ id: ORDER_ID, accessToken: "t", totalAmount: "0", productNames: ["A"], productNamesEn: ["A"] }),
    ]);
  });

  it("keeps working when the browser refuses to store anything", () => {
    vi.spyOn(Storage.prototype, "setItem").mockImplementation(() => {
      throw new DOMException("quota", "QuotaExceededError");
    });
    rememberOrder(order(1), "tok-1");
    expect(useRecentOrders().orders.value).toHaveLength(1);
    vi.restoreAllMocks();
  });
});
