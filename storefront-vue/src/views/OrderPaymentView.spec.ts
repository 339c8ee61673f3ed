import { FailureReason } from "@pasar/contracts/pasar/fulfillment/v1/fulfillment_pb";
import { ErrorReason as PaymentReason } from "@pasar/contracts/pasar/payment/v1/error_reason_pb";
import type { VueWrapper } from "@vue/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { JsonObject } from "@bufbuild/protobuf";

import {
  ACCESS_TOKEN,
  channelsJson,
  failureJson,
  fulfillmentJson,
  money,
  ORDER_ID,
  orderJson,
  orderWithLineJson,
  PAYMENT_ID,
  paymentJson,
  refundJson,
  tokenProductJson,
} from "@/testing/catalog";
import { errorResponse, installFakeGateway, jsonResponse, unavailable, type FakeGateway } from "@/testing/gateway";
import { renderRoute, settle } from "@/testing/render";

/** Lazy pages load on first use, which can take a while on a busy machine. */
const WAIT = { timeout: 10_000 };

const PATH = `/orders/${ORDER_ID}?token=${ACCESS_TOKEN}`;
let gateway: FakeGateway;
let mounted: VueWrapper | undefined;
let orderState: string;
let paymentState: string;
/** More fields of the order's line (its fulfillment, its refund), and of the order. */
let orderLine: JsonObject;
let orderFields: JsonObject;

beforeEach(() => {
  orderState = "PENDING_PAYMENT";
  paymentState = "PENDING";
  orderLine = {};
  orderFields = {};
  gateway = installFakeGateway()
    .on("GET", `/api/v1/orders/${ORDER_ID}`, () => jsonResponse(orderWithLineJson(orderState, orderLine, orderFields)))
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

  it("settles a sandbox payment, follows the order through its delivery, and stops refreshing once delivered", async () => {
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
    orderFields = { paidTime: new Date().toISOString() };
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    expect(wrapper.get('[data-outcome="paid"]').text()).toContain("Pembayaran diterima. Terima kasih!");
    expect(section(wrapper, "transaction").get("[data-state]").text()).toBe("Lunas");
    expect(wrapper.find('[data-action="simulate"]').exists()).toBe(false);
    expect(wrapper.find('[data-action="cancel"]').exists()).toBe(false);
    expect(section(wrapper, "delivery").get("[data-delivery-title]").text()).toBe("Lunas, menunggu pengiriman");

    orderLine = { fulfillment: fulfillmentJson("PENDING") };
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    expect(section(wrapper, "delivery").get("[data-delivery-title]").text()).toBe("Sedang dikirim");

    orderState = "FULFILLED";
    orderLine = {
      fulfillment: fulfillmentJson("SUCCEEDED", {
        deliveries: [{ serialNumber: "4102938475610293" }, { serialNumber: "4102938475610294" }],
      }),
    };
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    expect(wrapper.get('[data-outcome="fulfilled"]').text()).toContain("Pesanan Anda sudah terkirim.");
    expect(section(wrapper, "transaction").get("[data-state]").text()).toBe("Terkirim");
    const delivery = section(wrapper, "delivery");
    expect(delivery.get("[data-delivery-title]").text()).toBe("Terkirim");
    expect(delivery.findAll("[data-serial-number]").map((serial) => serial.text())).toEqual([
      "4102938475610293",
      "4102938475610294",
    ]);

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

  it("shows where the order goes before it is paid, and that delivery follows the payment", async () => {
    const { wrapper } = await open();
    const delivery = section(wrapper, "delivery");
    expect(delivery.get("h2").text()).toBe("Pengiriman");
    expect(delivery.get("dt").text()).toBe("Nomor HP");
    // In full: the page is behind the order's access token.
    expect(delivery.get('[data-destination="phone_number"]').text()).toBe("081234567890");
    expect(delivery.text()).toContain("Produk dikirim otomatis setelah pembayaran diterima.");
  });

  it("says the delivery is delayed when the order was paid a while ago and nothing was delivered, and keeps looking", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "setInterval", "clearTimeout", "clearInterval"] });
    orderState = "PAID";
    paymentState = "PAID";
    orderFields = { paidTime: new Date(Date.now() - 60_000).toISOString() };
    const { wrapper } = await open();
    const stage = section(wrapper, "delivery").get("[data-delivery-stage]");
    expect(stage.attributes("data-delivery-stage")).toBe("delayed");
    expect(stage.get("[data-delivery-title]").text()).toBe("Pengiriman tertunda");
    expect(stage.text()).toContain("Pembayaran Anda aman.");
    expect(stage.get('[role="status"]').attributes("aria-live")).toBe("polite");

    // Deliveries go out once the fulfillment service is back: the page follows.
    const reads = gateway.requestsTo("GET", `/api/v1/orders/${ORDER_ID}`).length;
    orderState = "FULFILLED";
    orderLine = { fulfillment: fulfillmentJson("SUCCEEDED", { deliveries: [{ serialNumber: "4102938475610293" }] }) };
    await vi.advanceTimersByTimeAsync(3000);
    await settle();
    expect(gateway.requestsTo("GET", `/api/v1/orders/${ORDER_ID}`).length).toBe(reads + 1);
    expect(section(wrapper, "delivery").get("[data-delivery-stage]").attributes("data-delivery-stage")).toBe("delivered");
  });

  it("shows an electricity token in groups with its kWh, and copies it", async () => {
    const writeText = vi.fn(async () => undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    orderState = "FULFILLED";
    gateway.on("GET", "/api/v1/products/token-listrik", () => jsonResponse(tokenProductJson()));
    orderLine = {
      productId: "token-listrik",
      productDisplayName: "Token Listrik Prabayar",
      packageDisplayName: "Token Listrik 20.000",
      destination: { meter_number: "12345678901" },
      fulfillment: fulfillmentJson("SUCCEEDED", {
        deliveryKind: "DELIVERY_KIND_ELECTRICITY_TOKEN",
        deliveries: [{ serialNumber: "5123456789012345", token: "1234-5678-9012-3456-7890", kwh: "13.85" }],
      }),
    };
    const { wrapper } = await open();
    const delivery = section(wrapper, "delivery");
    expect(delivery.get('[data-destination="meter_number"]').text()).toBe("12345678901");
    // The product's own label for the field.
    expect(delivery.get("dt").text()).toBe("Nomor meter / ID pelanggan");
    expect(delivery.get("[data-token]").text()).toBe("1234-5678-9012-3456-7890");
    expect(delivery.get("[data-kwh]").text()).toBe("13,85 kWh");
    await delivery.get('[aria-label="Salin Token listrik"]').trigger("click");
    await settle();
    expect(writeText).toHaveBeenCalledWith("1234-5678-9012-3456-7890");
    expect(delivery.text()).toContain("Token listrik disalin");
  });

  it("explains a failed delivery and its refund, and the refunded order", async () => {
    orderState = "REFUNDED";
    paymentState = "REFUNDED";
    orderFields = { refundedTotal: money(27000), paidTime: "2026-01-05T08:05:00Z" };
    orderLine = {
      fulfillment: fulfillmentJson("FAILED", {
        failure: failureJson(FailureReason.DESTINATION_NOT_FOUND, "no such subscriber"),
      }),
      refund: refundJson(),
    };
    const { wrapper } = await open();
    expect(wrapper.get('[data-outcome="refunded"]').text()).toContain("Pengiriman gagal; dana sudah dikembalikan.");
    expect(section(wrapper, "transaction").get("[data-state]").text()).toBe("Dana dikembalikan");
    expect(section(wrapper, "transaction").get("[data-refunded-total]").text()).toBe("Rp\u00a027.000");
    const delivery = section(wrapper, "delivery");
    expect(delivery.get("[data-delivery-title]").text()).toBe("Dana dikembalikan");
    expect(delivery.get("[data-failure]").text()).toBe("Nomor tujuan tidak ditemukan.");
    expect(delivery.get("[data-refund]").text()).toMatch(/^Rp\u00a023\.000 dikembalikan ke pembayaran Anda /);
    // The biller's own words are for support, never shown to shoppers.
    expect(wrapper.text()).not.toContain("no such subscriber");
  });

  it("tells a failed line whose refund is still under way, in English", async () => {
    orderState = "PAID";
    paymentState = "PAID";
    orderFields = { paidTime: new Date().toISOString() };
    orderLine = {
      fulfillment: fulfillmentJson("FAILED", { failure: failureJson(FailureReason.PRODUCT_UNAVAILABLE) }),
    };
    const rendered = await renderRoute(PATH, { locale: "en" });
    mounted = rendered.wrapper;
    const delivery = section(rendered.wrapper, "delivery");
    expect(delivery.get("[data-delivery-title]").text()).toBe("Delivery failed");
    expect(delivery.text()).toContain("The money for this item is being refunded.");
    expect(delivery.get("[data-failure]").text()).toBe("The product is not available from the biller right now.");
  });
});

/** The order as v1.3 gives it: its number, its deadline and the instructions it keeps. */
const ORDER_NUMBER = "PSR-7K3M9Q";
const KEPT_VA = { virtualAccount: { bankName: "BCA", accountNumber: "11808123456789012", accountName: "PASAR SANDBOX" } };

function v13Order(overrides: JsonObject = {}): JsonObject {
  return {
    orderNumber: ORDER_NUMBER,
    createTime: "2099-01-05T08:00:00Z",
    expireTime: "2099-01-06T08:00:00Z",
    paymentInstructions: KEPT_VA,
    ...overrides,
  };
}

describe("the payment page's one deadline and order number (issue 15)", () => {
  it("counts down to the order's expiry, in WIB, and says how long the channel gives", async () => {
    orderFields = v13Order();
    // The payment says otherwise (as before issue 15): the page keeps to the order's deadline.
    gateway.on("GET", `/api/v1/payments/${PAYMENT_ID}`, () =>
      jsonResponse(paymentJson("PENDING", { expireTime: "2099-01-07T08:00:00Z" })),
    );
    const { wrapper } = await open();
    const payment = section(wrapper, "payment");
    expect(payment.get("[data-payment-window]").text()).toBe("Bayar dalam 24 jam");
    const deadline = payment.get("[data-deadline]");
    expect(deadline.text()).toBe("6 Jan 2099, 15.00 WIB");
    expect(deadline.attributes("datetime")).toBe("2099-01-06T15:00:00+07:00");
    expect(payment.get("[data-deadline-box]").text()).toContain("Bayar sebelum 6 Jan 2099, 15.00 WIB");
  });

  it("shows the order number prominently with a copy button, and names the tab by it", async () => {
    const writeText = vi.fn(async () => undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    orderFields = v13Order();
    const { wrapper, router } = await open();
    const number = section(wrapper, "order-number");
    expect(number.get("[data-order-number]").text()).toBe(ORDER_NUMBER);
    await number.get('[aria-label="Salin Nomor pesanan"]').trigger("click");
    await settle();
    expect(writeText).toHaveBeenCalledWith(ORDER_NUMBER);
    expect(document.title).toMatch(new RegExp(`^Pembayaran ${ORDER_NUMBER}`));
    // The id stays the key: in the address, and in Detail Transaksi for support.
    expect(router.currentRoute.value.params.orderId).toBe(ORDER_ID);
    expect(section(wrapper, "transaction").get("[data-order-id]").text()).toBe(ORDER_ID);
    expect(section(wrapper, "transaction").get("[data-transaction-order-number]").text()).toBe(ORDER_NUMBER);
  });

  it("still shows the virtual account number the order keeps while the payment service is down", async () => {
    orderFields = v13Order();
    gateway.on("GET", `/api/v1/payments/${PAYMENT_ID}`, () => unavailable());
    const { wrapper } = await open();
    const payment = section(wrapper, "payment");
    expect(payment.get("[data-account-number]").text()).toBe("11808123456789012");
    expect(payment.get("[data-payment-total]").text()).toBe("Rp\u00a027.000");
    expect(payment.get("[data-payment-unreachable]").text()).toContain("status pembayaran mungkin terlambat diperbarui");
    expect(payment.get("[data-deadline]").text()).toBe("6 Jan 2099, 15.00 WIB");
    // Nothing to simulate without the payment service.
    expect(payment.find('[data-action="simulate"]').exists()).toBe(false);

    gateway.on("GET", `/api/v1/payments/${PAYMENT_ID}`, () => jsonResponse(paymentJson()));
    await payment.get("[data-payment-unreachable] button").trigger("click");
    await settle();
    expect(section(wrapper, "payment").find("[data-payment-unreachable]").exists()).toBe(false);
    expect(section(wrapper, "payment").find('[data-action="simulate"]').exists()).toBe(true);
  });

  it("folds the bank's steps for ATM, mobile and internet banking, with the number and total filled in", async () => {
    orderFields = v13Order();
    const { wrapper } = await open();
    const guides = section(wrapper, "payment").findAll("[data-guide]");
    expect(guides.map((guide) => guide.get("summary").text())).toEqual(["ATM BCA", "BCA mobile (m-BCA)", "KlikBCA"]);
    for (const guide of guides) {
      expect(guide.element.tagName).toBe("DETAILS");
      expect((guide.element as HTMLDetailsElement).open).toBe(false);
      expect(guide.text()).toContain("8808123456789012");
      expect(guide.text()).toContain("Rp\u00a027.000");
    }
  });

  it("tells what to say at the cashier of a retail outlet", async () => {
    const retail = { retailOutlet: { outletName: "Alfamart", paymentCode: "PASAR123456789" } };
    orderFields = v13Order({ paymentChannelCode: "alfamart", paymentInstructions: retail });
    gateway.on("GET", `/api/v1/payments/${PAYMENT_ID}`, () =>
      jsonResponse(paymentJson("PENDING", { channelCode: "alfamart", virtualAccount: undefined, ...retail })),
    );
    const { wrapper } = await open();
    const steps = section(wrapper, "payment").get("[data-cashier-steps]");
    expect(steps.get("h3").text()).toBe("Di kasir");
    expect(steps.text()).toContain("“Saya mau bayar tagihan Pasar, kode pembayarannya PASAR123456789.”");
    expect(steps.text()).toContain("Rp\u00a027.000");
  });

  it("offers to save a QRIS code as a PNG named by the order number", async () => {
    const qris = { qris: { qrString: "00020101021226610016ID.CO.PASAR.WWW0118936000000000000001" } };
    orderFields = v13Order({ paymentChannelCode: "qris", paymentInstructions: qris });
    gateway.on("GET", `/api/v1/payments/${PAYMENT_ID}`, () =>
      jsonResponse(paymentJson("PENDING", { channelCode: "qris", virtualAccount: undefined, ...qris })),
    );
    const { wrapper } = await open();
    await vi.waitFor(() => expect(wrapper.find('[data-action="save-qr"]').exists()).toBe(true), WAIT);
    const save = wrapper.get('[data-action="save-qr"]');
    expect(save.text()).toBe("Simpan QR");
    expect(save.attributes("download")).toBe(`QRIS-${ORDER_NUMBER}.png`);
    const href = save.attributes("href") ?? "";
    expect(href).toMatch(/^data:image\/png;base64,/);
    const bytes = Buffer.from(href.slice(href.indexOf(",") + 1), "base64");
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });

  it("tells where a push e-wallet's request went and until when, and never shows a placeholder link", async () => {
    const ovo = { ewallet: { walletName: "OVO", checkoutUrl: "", phoneNumber: "0812****7890" } };
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-12-05T03:00:00Z"));
    orderFields = v13Order({
      paymentChannelCode: "ovo",
      paymentInstructions: ovo,
      createTime: "2026-12-05T03:00:00Z",
      expireTime: "2026-12-05T03:30:00Z",
    });
    gateway.on("GET", `/api/v1/payments/${PAYMENT_ID}`, () =>
      jsonResponse(paymentJson("PENDING", { channelCode: "ovo", virtualAccount: undefined, ...ovo })),
    );
    const { wrapper } = await open();
    const payment = section(wrapper, "payment");
    expect(payment.get("[data-ewallet-push]").text()).toBe(
      "Kami mengirim permintaan pembayaran ke akun OVO 0812****7890: buka aplikasi OVO dan setujui sebelum 10.30 WIB.",
    );
    expect(payment.get("[data-payment-window]").text()).toBe("Bayar dalam 30 menit");
    expect(payment.find("[data-checkout-url]").exists()).toBe(false);
  });

  it("says the demo shop has no wallet app and points to the simulate button, even when given a placeholder link", async () => {
    const gopay = { ewallet: { walletName: "GoPay", checkoutUrl: "https://sandbox.pasar.test/checkout/gopay/SBX1" } };
    orderFields = v13Order({ paymentChannelCode: "gopay", paymentInstructions: gopay });
    gateway.on("GET", `/api/v1/payments/${PAYMENT_ID}`, () =>
      jsonResponse(paymentJson("PENDING", { channelCode: "gopay", virtualAccount: undefined, ...gopay })),
    );
    const { wrapper } = await open();
    const payment = section(wrapper, "payment");
    await vi.waitFor(() => expect(payment.find("[data-ewallet-sandbox]").exists()).toBe(true), WAIT);
    expect(payment.get("[data-ewallet-sandbox]").text()).toContain("“Simulasikan pembayaran”");
    expect(payment.find("[data-checkout-url]").exists()).toBe(false);
    expect(payment.html()).not.toContain("pasar.test");
    expect(payment.find('[data-action="simulate"]').exists()).toBe(true);
  });

  it("opens a real provider's app link", async () => {
    const gopay = { ewallet: { walletName: "GoPay", checkoutUrl: "gojek://gopay/pay?ref=ABC" } };
    gateway.on("GET", "/api/v1/payment-channels", () => jsonResponse(channelsJson({ sandbox: false })));
    orderFields = v13Order({ paymentChannelCode: "gopay", paymentInstructions: gopay });
    gateway.on("GET", `/api/v1/payments/${PAYMENT_ID}`, () =>
      jsonResponse(paymentJson("PENDING", { channelCode: "gopay", virtualAccount: undefined, provider: "xendit", ...gopay })),
    );
    const { wrapper } = await open();
    const link = section(wrapper, "payment").get("[data-checkout-url]");
    expect(link.text()).toBe("Buka aplikasi GoPay");
    expect(link.attributes("href")).toBe("gojek://gopay/pay?ref=ABC");
    expect(section(wrapper, "payment").find("[data-ewallet-sandbox]").exists()).toBe(false);
  });

  it("moves the focus to the payment's new status after Simulasikan pembayaran", async () => {
    gateway.on("POST", `/api/v1/payments/${PAYMENT_ID}:simulate`, () => {
      paymentState = "PAID";
      return jsonResponse(paymentJson("PAID", { paidTime: "2026-01-05T08:05:00Z" }));
    });
    orderFields = v13Order();
    const { wrapper } = await open();
    const button = wrapper.get('[data-action="simulate"]');
    (button.element as HTMLButtonElement).focus();
    await button.trigger("click");
    await settle();
    const status = wrapper.get("[data-payment-status]");
    expect(document.activeElement).toBe(status.element);
    expect(status.attributes("tabindex")).toBe("-1");
    expect(status.text()).toContain("Pembayaran diterima");
    expect(wrapper.get('[role="status"][aria-live="polite"]').text()).toMatch(/^Status pesanan: /);
  });

  it("names the products and packages in English in English mode", async () => {
    orderLine = { productDisplayNameEn: "Nusantara Credit", packageDisplayNameEn: "Credit 10,000" };
    orderFields = v13Order();
    const rendered = await renderRoute(PATH, { locale: "en" });
    mounted = rendered.wrapper;
    const transaction = section(rendered.wrapper, "transaction");
    expect(transaction.get("[data-line-product]").text()).toBe("Nusantara Credit");
    expect(transaction.get("[data-line-package]").text()).toBe("Credit 10,000");
    expect(section(rendered.wrapper, "delivery").get("h3").text()).toContain("Nusantara Credit");
    expect(section(rendered.wrapper, "payment").get("[data-payment-window]").text()).toBe("Pay within 24 hours");
    expect(section(rendered.wrapper, "payment").get("[data-deadline]").text()).toBe("6 Jan 2099, 15:00 WIB");
    expect(section(rendered.wrapper, "payment").findAll("[data-guide] summary")[0]?.text()).toBe("BCA ATM");
  });
});
