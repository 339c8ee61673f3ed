import { describe, expect, it } from "vitest";

import { orderLocation, parseOrderLink } from "./orderLinks";

const ORDER_ID = "ord_0123456789abcdef0123456789abcdef";

describe("order links", () => {
  it("reads the order id and token from an e-mail link", () => {
    expect(parseOrderLink(` http://127.0.0.1:8080/orders/${ORDER_ID}?token=abc-123 `)).toEqual({
      orderId: ORDER_ID,
      token: "abc-123",
    });
    expect(parseOrderLink(`/orders/${ORDER_ID}/?token=a%2Bb&utm=x`)).toEqual({ orderId: ORDER_ID, token: "a+b" });
  });

  it("refuses links that are not an order's", () => {
    expect(parseOrderLink("")).toBeUndefined();
    expect(parseOrderLink(`http://shop.test/orders/${ORDER_ID}`)).toBeUndefined();
    expect(parseOrderLink("http://shop.test/orders/ord_123?token=x")).toBeUndefined();
    expect(parseOrderLink(`http://shop.test/products/${ORDER_ID}?token=x`)).toBeUndefined();
    expect(parseOrderLink("http://[bad")).toBeUndefined();
  });

  it("keeps the token in the order page's address", () => {
    expect(orderLocation(ORDER_ID, "t")).toEqual({ name: "order", params: { orderId: ORDER_ID }, query: { token: "t" } });
  });
});
