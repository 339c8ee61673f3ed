import type { VueWrapper } from "@vue/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ORDER_ID, orderJson, paymentJson, PAYMENT_ID } from "@/testing/catalog";
import { installFakeGateway, jsonResponse } from "@/testing/gateway";
import { renderRoute, settle } from "@/testing/render";

/** Lazy pages load on first use, which can take a while on a busy machine. */
const WAIT = { timeout: 10_000 };

let mounted: VueWrapper | undefined;

beforeEach(() => {
  installFakeGateway()
    .on("GET", `/api/v1/orders/${ORDER_ID}`, () => jsonResponse(orderJson()))
    .on("GET", `/api/v1/payments/${PAYMENT_ID}`, () => jsonResponse(paymentJson()));
});
afterEach(() => {
  mounted?.unmount();
  mounted = undefined;
});

async function open(path = "/orders") {
  const rendered = await renderRoute(path);
  mounted = rendered.wrapper;
  return rendered;
}

describe("the order lookup", () => {
  it("opens the order from a pasted e-mail link", async () => {
    const { wrapper, router } = await open();
    await wrapper.get("#order-link").setValue(`http://127.0.0.1:8080/orders/${ORDER_ID}?token=tok-1`);
    await wrapper.findAll("form")[0]?.trigger("submit");
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe(`/orders/${ORDER_ID}?token=tok-1`), WAIT);
  });

  it("opens the order from its number and token", async () => {
    const { wrapper, router } = await open(`/orders?orderId=${ORDER_ID}`);
    expect((wrapper.get("#order-id").element as HTMLInputElement).value).toBe(ORDER_ID);
    await wrapper.get("#order-token").setValue(" tok-2 ");
    await wrapper.findAll("form")[1]?.trigger("submit");
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe(`/orders/${ORDER_ID}?token=tok-2`), WAIT);
  });

  it("explains what is wrong with a link or an order number", async () => {
    const { wrapper, router } = await open();
    await wrapper.get("#order-link").setValue("http://127.0.0.1:8080/products/pulsa");
    await wrapper.findAll("form")[0]?.trigger("submit");
    await wrapper.get("#order-id").setValue("12345");
    await wrapper.findAll("form")[1]?.trigger("submit");
    await settle();
    expect(wrapper.get("#order-link-error").text()).toContain("bukan tautan pesanan Pasar");
    expect(wrapper.get("#order-id-error").text()).toContain("diawali ord_");
    expect(wrapper.get("#order-token-error").text()).toContain("Masukkan token");
    expect(wrapper.get("#order-id").attributes("aria-invalid")).toBe("true");
    expect(router.currentRoute.value.name).toBe("order-lookup");
  });
});
