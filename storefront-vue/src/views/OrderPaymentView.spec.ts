import { ErrorReason as PaymentReason } from "@pasar/contracts/pasar/payment/v1/error_reason_pb";
import type { VueWrapper } from "@vue/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ACCESS_TOKEN, channelsJson, ORDER_ID, orderJson, PAYMENT_ID, paymentJson } from "@/testing/catalog";
import { errorResponse, installFakeGateway, jsonResponse, unavailable, type FakeGateway } from "@/testing/gateway";
import { renderRoute, settle } from "@/testing/render";

/** Lazy pages load on first use, which can take a while on a busy machine. */
const WAIT = { timeout: 10_000 };

const PATH = `/orders/${ORDER_ID}?token=${ACCESS_TOKEN}`;
let gateway: FakeGateway;
let mounted: VueWrapper | undefined;
let orderState: string;
let paymentState: string;

beforeEach(() => {
  orderState = "PENDING_PAYMENT";
  paymentState = "PENDING";
  gateway = installFakeGateway()
    .on("GET", `/api/v1/orders/${ORDER_ID}`, () => jsonResponse(orderJson(orderState)))
    .on("GET", `/api/v1/payments/${PAYMENT_ID}`, () => jsonResponse(paymentJson(paymentState)))
    .on("GET", "/api/v1/payment-channels", () => jsonResponse(channelsJson()));
});
afterEach(() => {
  mounted?.unmount();
  mounted = undefined;
  vi.useRealTimers();
});

async function open(path = PATH) {
  const rendered = await renderRoute(path);
  mounted = rendered.wrapper;
  return rendered;
}

function section(wrapper: VueWrapper, name: string) {
  return wrapper.get(`[data-section="${name}"]`);
}

describe("the payment page", () => {
  it("shows Detail Pembayaran with the instructions and Detail Transaksi with the order", async () => {
    const { wrapper } = await open();
    const payment = section(wrapper, "payment");
    expect(payment.get("h2").text()).toBe("Detail Pembayaran");
    expect(payment.get("[data-account-number]").text()).toBe("8808123456789012");
    expect(payment.get("[data-payment-total]").text()).toBe("Rp\u00a027.000");
    expect(payment.find("[data-countdown]").exists()).toBe(true);
    expect(payment.find('[aria-label="Salin Nomor Virtual Account"]').exists()).toBe(true);
    const transaction = section(wrapper, "transaction");
    expect(transaction.get("h2").text()).toBe("Detail Transaksi");
    expect(transaction.get("[data-order-id]").text()).toBe(ORDER_ID);
    expect(transaction.get("[data-line-product]").text()).toBe("Pulsa Nusantara");
    expect(transaction.get("[data-line-package]").text()).toBe("Pulsa 10.000");
    expect(transaction.get("[data-line-quantity]").text()).toBe("2");
    expect(transaction.get('[data-state="PENDING_PAYMENT"]').text()).toBe("Menunggu pembayaran");
    expect(transaction.text()).toContain("BCA Virtual Account");
    expect(gateway.requestsTo("GET", `/api/v1/orders/${ORDER_ID}`)[0]?.query.get("token")).toBe(ACCESS_TOKEN);
  });

  it("draws a QRIS payload as a QR image", async () => {
    gateway.on("GET", `/api/v1/payments/${PAYMENT_ID}`, () =>
      jsonResponse(
        paymentJson("PENDING", {
          channelKind: "PAYMENT_CHANNEL_KIND_QRIS",
          virtualAccount: undefined,
          qris: { qrString: "00020101021226610016ID.CO.PASAR.WWW0118936000000000000001" },
        }),
      ),
    );
    const { wrapper } = await open();
    await vi.waitFor(() => expect(wrapper.find("[data-qr-payload]").exists()).toBe(true), WAIT);
    const image = wrapper.get("[data-qr-payload]");
    expect(image.attributes("src")).toMatch(/^data:image\/svg\+xml;charset=utf-8,%3Csvg/);
    expect(image.attributes("alt")).toBe("Kode QRIS untuk membayar Rp\u00a027.000");
  });

  it("settles a sandbox payment, follows the order to PAID and then stops refreshing", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "setInterval", "clearTimeout", "clearInterval"] });
    gateway.on("POST", `/api/v1/payments/${PAYMENT_ID}:simulate`, () => {
      paymentState = "PAID";
      return jsonResponse(paymentJson("PAID", { paidTime: "2026-01-05T08:05:00Z" }));
    });
    const { wrapper } = await open();
    await wrapper.get('[data-action="simulate"]').trigger("click");
    await settle();
    expect(gateway.requestsTo("POST", `/api/v1/payments/${PAYMENT_ID}:simulate`)).toHaveLength(1);
    expect(wrapper.text()).toContain("Pembayaran diterima; pesanan sedang diproses");

    // The order service learns of the payment a moment later; the page polls until then.
    orderState = "PAID";
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    expect(wrapper.get('[data-outcome="paid"]').text()).toContain("Pembayaran diterima. Terima kasih!");
    expect(section(wrapper, "transaction").get("[data-state]").text()).toBe("Lunas");
    expect(wrapper.find('[data-action="simulate"]').exists()).toBe(false);
    expect(wrapper.find('[data-action="cancel"]').exists()).toBe(false);

    const reads = gateway.requestsTo("GET", `/api/v1/orders/${ORDER_ID}`).length;
    await vi.advanceTimersByTimeAsync(30_000);
    await settle();
    expect(gateway.requestsTo("GET", `/api/v1/orders/${ORDER_ID}`)).toHaveLength(reads);
  });

  it("offers no simulated payment where the sandbox does not settle payments (a real shop)", async () => {
    gateway.on("GET", "/api/v1/payment-channels", () => jsonResponse(channelsJson({ sandbox: false })));
    const { wrapper } = await open();
    await vi.waitFor(() => expect(wrapper.find("[data-account-number]").exists()).toBe(true), WAIT);
    expect(wrapper.find('[data-action="simulate"]').exists()).toBe(false);
    expect(wrapper.text()).not.toContain("Mode sandbox");
  });

  it("offers no simulated payment while it cannot tell whether the sandbox is on", async () => {
    gateway.on("GET", "/api/v1/payment-channels", () => unavailable());
    const { wrapper } = await open();
    await vi.waitFor(() => expect(wrapper.find("[data-account-number]").exists()).toBe(true), WAIT);
    expect(wrapper.find('[data-action="simulate"]').exists()).toBe(false);
  });

  it("says simulated payments are off when the service answers SANDBOX_DISABLED", async () => {
    gateway.on("POST", `/api/v1/payments/${PAYMENT_ID}:simulate`, () =>
      errorResponse(409, "FAILED_PRECONDITION", "not the sandbox", [
        { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: PaymentReason[PaymentReason.SANDBOX_DISABLED], domain: "pasar.shop" },
      ]),
    );
    const { wrapper } = await open();
    await wrapper.get('[data-action="simulate"]').trigger("click");
    await settle();
    expect(wrapper.text()).toContain("Simulasi pembayaran tidak tersedia di toko ini.");
  });

  it("refreshes a pending order's status on its own", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "setInterval", "clearTimeout", "clearInterval"] });
    const { wrapper } = await open();
    const reads = gateway.requestsTo("GET", `/api/v1/orders/${ORDER_ID}`).length;
    orderState = "EXPIRED";
    paymentState = "EXPIRED";
    await vi.advanceTimersByTimeAsync(3000);
    await settle();
    expect(gateway.requestsTo("GET", `/api/v1/orders/${ORDER_ID}`).length).toBe(reads + 1);
    expect(wrapper.get('[data-outcome="expired"]').text()).toBe("Waktu pembayaran sudah habis.");
    expect(section(wrapper, "transaction").get("[data-state]").text()).toBe("Kedaluwarsa");
  });

  it("cancels a pending order after asking to confirm", async () => {
    const gatewayCancel = gateway.on("POST", `/api/v1/orders/${ORDER_ID}:cancel`, () => {
      paymentState = "CANCELLED";
      return jsonResponse(orderJson("CANCELLED"));
    });
    const { wrapper } = await open();
    await wrapper.get('[data-action="cancel"]').trigger("click");
    expect(wrapper.text()).toContain("Yakin ingin membatalkan pesanan ini?");
    await wrapper.get('[data-action="confirm-cancel"]').trigger("click");
    await settle();
    expect(gatewayCancel.requestsTo("POST", `/api/v1/orders/${ORDER_ID}:cancel`)).toHaveLength(1);
    expect(section(wrapper, "transaction").get("[data-state]").text()).toBe("Dibatalkan");
    expect(wrapper.find('[data-outcome="cancelled"]').exists()).toBe(true);
  });

  it("keeps Detail Transaksi when the payment service is down, and retries the payment alone", async () => {
    gateway.on("GET", `/api/v1/payments/${PAYMENT_ID}`, () => unavailable());
    const { wrapper } = await open();
    const payment = section(wrapper, "payment");
    expect(payment.get('[role="alert"]').text()).toContain("Detail pembayaran sedang tidak dapat dimuat");
    expect(section(wrapper, "transaction").get("[data-order-id]").text()).toBe(ORDER_ID);

    gateway.on("GET", `/api/v1/payments/${PAYMENT_ID}`, () => jsonResponse(paymentJson()));
    await payment.get('[role="alert"] button').trigger("click");
    await settle();
    expect(section(wrapper, "payment").get("[data-account-number]").text()).toBe("8808123456789012");
  });

  it("says the order service is unavailable in Detail Transaksi, with a retry", async () => {
    gateway.on("GET", `/api/v1/orders/${ORDER_ID}`, () => unavailable());
    const { wrapper } = await open();
    expect(section(wrapper, "transaction").get('[role="alert"]').text()).toContain(
      "Detail transaksi sedang tidak dapat dimuat",
    );
    gateway.on("GET", `/api/v1/orders/${ORDER_ID}`, () => jsonResponse(orderJson()));
    await section(wrapper, "transaction").get("button").trigger("click");
    await settle();
    expect(section(wrapper, "transaction").get("[data-order-id]").text()).toBe(ORDER_ID);
    expect(section(wrapper, "payment").find("[data-account-number]").exists()).toBe(true);
  });

  it("says the order is not found for a wrong token, and that a link without a token is incomplete", async () => {
    gateway.on("GET", `/api/v1/orders/${ORDER_ID}`, () => errorResponse(404, "NOT_FOUND", "order not found"));
    const first = await open();
    expect(section(first.wrapper, "order-not-found").text()).toContain("Pesanan tidak ditemukan");
    first.wrapper.unmount();

    const second = await open(`/orders/${ORDER_ID}`);
    expect(section(second.wrapper, "missing-token").text()).toContain("token pesanan tidak ada");
    expect(second.wrapper.get('[data-section="missing-token"] a').attributes("href")).toBe(`/orders?orderId=${ORDER_ID}`);
  });
});
