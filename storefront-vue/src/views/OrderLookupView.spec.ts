import { fromJson } from "@bufbuild/protobuf";
import { ErrorReason as CommonReason } from "@pasar/contracts/pasar/common/v1/error_reason_pb";
import { ErrorReason as OrderReason } from "@pasar/contracts/pasar/order/v1/error_reason_pb";
import { OrderSchema } from "@pasar/contracts/pasar/order/v1/order_pb";
import type { VueWrapper } from "@vue/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { forgetAllOrders, rememberOrder, useRecentOrders } from "@/composables/useRecentOrders";
import { ORDER_ID, orderJson, paymentJson, PAYMENT_ID } from "@/testing/catalog";
import { errorResponse, installFakeGateway, jsonResponse, type FakeGateway } from "@/testing/gateway";
import { renderRoute, settle } from "@/testing/render";

/** Lazy pages load on first use, which can take a while on a busy machine. */
const WAIT = { timeout: 10_000 };
const NUMBER = "PSR-7K3M9Q";

let mounted: VueWrapper | undefined;
let gateway: FakeGateway;

function notFound(): Response {
  return errorResponse(404, "NOT_FOUND", "order not found", [
    { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: OrderReason[OrderReason.ORDER_NOT_FOUND], domain: "order.pasar", metadata: {} },
  ]);
}

function rateLimited(seconds: string): Response {
  return errorResponse(429, "RESOURCE_EXHAUSTED", "too many look-ups", [
    {
      "@type": "type.googleapis.com/google.rpc.ErrorInfo",
      reason: CommonReason[CommonReason.RATE_LIMITED],
      domain: "order.pasar",
      metadata: { retry_after_seconds: seconds },
    },
  ]);
}

beforeEach(() => {
  localStorage.clear();
  forgetAllOrders();
  gateway = installFakeGateway()
    .on("GET", `/api/v1/orders/${ORDER_ID}`, () => jsonResponse(orderJson("PENDING_PAYMENT", { orderNumber: NUMBER })))
    .on("GET", `/api/v1/payments/${PAYMENT_ID}`, () => jsonResponse(paymentJson()));
});
afterEach(() => {
  mounted?.unmount();
  mounted = undefined;
});

async function open(path = "/orders", locale: "id" | "en" = "id") {
  const rendered = await renderRoute(path, { locale });
  mounted = rendered.wrapper;
  return rendered;
}

/** Submits the form an input belongs to, as Enter in that input does. */
async function submitFormOf(wrapper: VueWrapper, input: string): Promise<void> {
  (wrapper.get(input).element as HTMLInputElement).form?.dispatchEvent(new Event("submit"));
  await settle();
}

function lookupForm(wrapper: VueWrapper) {
  return wrapper.get('[data-section="order-lookup"]');
}

describe("finding an order by its number", () => {
  it("sends the number as the contract writes it with the contact, and opens the order's page", async () => {
    gateway.on("POST", "/api/v1/orders:lookup", () =>
      jsonResponse({ order: orderJson("PENDING_PAYMENT", { orderNumber: NUMBER }), accessToken: "tok-found" }),
    );
    const { wrapper, router } = await open();
    await wrapper.get("#order-number").setValue(" psr 7k3m 9q ");
    await wrapper.get("#order-contact").setValue("  Siti@Example.co.id ");
    await lookupForm(wrapper).trigger("submit");
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe(`/orders/${ORDER_ID}?token=tok-found`), WAIT);
    expect(gateway.requestsTo("POST", "/api/v1/orders:lookup").map((request) => request.body)).toEqual([
      { orderNumber: NUMBER, contact: "Siti@Example.co.id" },
    ]);
    // Found on this device, it is among this device's orders from now on.
    expect(useRecentOrders().orders.value.map((entry) => [entry.orderNumber, entry.accessToken])).toEqual([[NUMBER, "tok-found"]]);
  });

  it.each([
    ["7K3M9Q", NUMBER],
    ["psr7k3m9q", NUMBER],
    ["PSR-7K3-M9Q", NUMBER],
  ])("adds PSR- and upper-cases %s", async (typed, sent) => {
    gateway.on("POST", "/api/v1/orders:lookup", () => notFound());
    const { wrapper } = await open();
    await wrapper.get("#order-number").setValue(typed);
    await wrapper.get("#order-contact").setValue("081234567890");
    await lookupForm(wrapper).trigger("submit");
    await settle();
    expect(gateway.requestsTo("POST", "/api/v1/orders:lookup")[0]?.body).toEqual({ orderNumber: sent, contact: "081234567890" });
  });

  it("says the same for a wrong pair as for an unknown number, stays on the page and remembers nothing", async () => {
    gateway.on("POST", "/api/v1/orders:lookup", () => notFound());
    const { wrapper, router } = await open();
    await wrapper.get("#order-number").setValue(NUMBER);
    await wrapper.get("#order-contact").setValue("orang-lain@example.co.id");
    await lookupForm(wrapper).trigger("submit");
    await settle();
    const alert = wrapper.get("[data-lookup-error]");
    expect(alert.attributes("role")).toBe("alert");
    expect(alert.text()).toBe(
      "Pesanan tidak ditemukan. Periksa nomor pesanan, dan pakai e-mail atau nomor HP yang sama seperti saat memesan.",
    );
    expect(document.activeElement).toBe(alert.element);
    // Nothing tells a wrong pair from an unknown number, not even a trace id beside it.
    expect(wrapper.find("[data-trace-id]").exists()).toBe(false);
    expect(router.currentRoute.value.name).toBe("order-lookup");
    expect(useRecentOrders().orders.value).toEqual([]);
  });

  it("tells how long to wait when there were too many attempts", async () => {
    gateway.on("POST", "/api/v1/orders:lookup", () => rateLimited("840"));
    const { wrapper } = await open();
    await wrapper.get("#order-number").setValue(NUMBER);
    await wrapper.get("#order-contact").setValue("siti@example.co.id");
    await lookupForm(wrapper).trigger("submit");
    await settle();
    expect(wrapper.get("[data-lookup-error]").text()).toBe("Terlalu banyak percobaan. Coba lagi dalam 14 menit.");
  });

  it("says so in English, without a wait it was not told", async () => {
    gateway.on("POST", "/api/v1/orders:lookup", () => errorResponse(429, "RESOURCE_EXHAUSTED", "slow down"));
    const { wrapper } = await open("/orders", "en");
    await wrapper.get("#order-number").setValue(NUMBER);
    await wrapper.get("#order-contact").setValue("siti@example.co.id");
    await lookupForm(wrapper).trigger("submit");
    await settle();
    expect(wrapper.get("[data-lookup-error]").text()).toBe("Too many attempts. Wait a moment, then try again.");
  });

  it("says the look-up is unavailable when the order service is down", async () => {
    gateway.on("POST", "/api/v1/orders:lookup", () => errorResponse(503, "UNAVAILABLE", "down"));
    const { wrapper } = await open();
    await wrapper.get("#order-number").setValue(NUMBER);
    await wrapper.get("#order-contact").setValue("siti@example.co.id");
    await lookupForm(wrapper).trigger("submit");
    await settle();
    expect(wrapper.get("[data-lookup-error]").text()).toBe("Cek pesanan sedang tidak tersedia. Coba lagi sebentar lagi.");
    // The trace id the request carried, for support to look up.
    const sent = gateway.requestsTo("POST", "/api/v1/orders:lookup")[0]?.headers.get("traceparent") ?? "";
    expect(wrapper.get("[data-trace-id]").attributes("data-trace-id")).toBe(sent.split("-")[1]);
  });

  it("checks the number and the contact before asking", async () => {
    const { wrapper } = await open();
    await wrapper.get("#order-number").setValue("PSR-0OIL1U");
    await lookupForm(wrapper).trigger("submit");
    await settle();
    expect(wrapper.get("#order-number-error").text()).toContain("PSR-7K3M9Q");
    expect(wrapper.get("#order-number").attributes("aria-invalid")).toBe("true");
    expect(wrapper.get("#order-contact-error").text()).toBe("Masukkan e-mail atau nomor HP yang dipakai saat memesan.");
    expect(document.activeElement?.id).toBe("order-number");
    expect(gateway.requestsTo("POST", "/api/v1/orders:lookup")).toEqual([]);
  });

  it("refuses a contact longer than the contract's max_len, naming the limit", async () => {
    const { wrapper } = await open();
    await wrapper.get("#order-number").setValue(NUMBER);
    await wrapper.get("#order-contact").setValue(`${"a".repeat(251)}@x.id`);
    await lookupForm(wrapper).trigger("submit");
    await settle();
    expect(wrapper.get("#order-contact-error").text()).toBe("E-mail atau nomor HP paling panjang 254 karakter.");
    expect(gateway.requestsTo("POST", "/api/v1/orders:lookup")).toEqual([]);
  });
});

describe("the orders on this device", () => {
  it("lists them with their number, products and total, opens one and forgets them", async () => {
    rememberOrder(fromJson(OrderSchema, orderJson("PENDING_PAYMENT", { orderNumber: NUMBER })), "tok-1");
    const second = `ord_${"b".repeat(32)}`;
    rememberOrder(fromJson(OrderSchema, orderJson("PENDING_PAYMENT", { id: second, orderNumber: "PSR-ABCDEF" })), "tok-2");
    const { wrapper, router } = await open();
    const items = wrapper.findAll("[data-recent-order]");
    expect(items.map((item) => item.get("[data-recent-number]").text())).toEqual(["PSR-ABCDEF", NUMBER]);
    expect(items[1]?.get("[data-recent-products]").text()).toBe("Pulsa Nusantara");
    expect(items[1]?.get("[data-recent-total]").text()).toBe("Rp\u00a027.000");
    expect(items[1]?.get("time").attributes("datetime")).toBe("2026-01-05T08:00:00.000Z");
    expect(items[1]?.get("time").text()).toMatch(/^Dipesan 5 Jan 2026/);

    await items[0]?.get("button").trigger("click");
    await settle();
    expect(wrapper.findAll("[data-recent-order]").map((item) => item.attributes("data-recent-order"))).toEqual([ORDER_ID]);
    expect(wrapper.get('[data-section="recent-orders"] [role="status"]').text()).toBe("PSR-ABCDEF dihapus dari perangkat ini.");

    await wrapper.get("[data-recent-number]").trigger("click");
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe(`/orders/${ORDER_ID}?token=tok-1`), WAIT);
  });

  it("forgets all at once", async () => {
    for (const index of [1, 2, 3]) {
      const id = `ord_${String(index).repeat(32)}`;
      rememberOrder(fromJson(OrderSchema, orderJson("PENDING_PAYMENT", { id })), `tok-${index}`);
    }
    const { wrapper } = await open();
    expect(wrapper.findAll("[data-recent-order]")).toHaveLength(3);
    const all = wrapper.findAll("button").find((button) => button.text() === "Hapus semua");
    await all?.trigger("click");
    await settle();
    expect(wrapper.findAll("[data-recent-order]")).toHaveLength(0);
    expect(wrapper.text()).toContain("Belum ada pesanan yang dibuat atau dicari di perangkat ini.");
    expect(localStorage.getItem("pasar.recentOrders")).toBeNull();
  });
});

describe("opening an order from its e-mail", () => {
  it("opens the order from a pasted e-mail link, and the hint shows the shop's own address", async () => {
    const { wrapper, router } = await open();
    expect(wrapper.get("[data-link-hint]").text()).toContain(`${window.location.origin}/orders/ord_`);
    expect(wrapper.get("[data-link-hint]").text()).not.toContain("127.0.0.1:8080");
    await wrapper.get("#order-link").setValue(`http://127.0.0.1:8080/orders/${ORDER_ID}?token=tok-1`);
    await submitFormOf(wrapper, "#order-link");
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe(`/orders/${ORDER_ID}?token=tok-1`), WAIT);
  });

  it("opens the order from its id and token", async () => {
    const { wrapper, router } = await open(`/orders?orderId=${ORDER_ID}`);
    expect((wrapper.get("#order-id").element as HTMLInputElement).value).toBe(ORDER_ID);
    await wrapper.get("#order-token").setValue(" tok-2 ");
    await submitFormOf(wrapper, "#order-token");
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe(`/orders/${ORDER_ID}?token=tok-2`), WAIT);
  });

  it("explains what is wrong with a link or an order id", async () => {
    const { wrapper, router } = await open();
    await wrapper.get("#order-link").setValue("http://127.0.0.1:8080/products/pulsa");
    await submitFormOf(wrapper, "#order-link");
    await wrapper.get("#order-id").setValue("12345");
    await submitFormOf(wrapper, "#order-id");
    await settle();
    expect(wrapper.get("#order-link-error").text()).toContain("bukan tautan pesanan Pasar");
    expect(wrapper.get("#order-id-error").text()).toContain("diawali ord_");
    expect(wrapper.get("#order-token-error").text()).toContain("Masukkan token");
    expect(wrapper.get("#order-id").attributes("aria-invalid")).toBe("true");
    expect(router.currentRoute.value.name).toBe("order-lookup");
  });
});
