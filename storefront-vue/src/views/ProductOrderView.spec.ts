import { ErrorReason as CommonReason } from "@pasar/contracts/pasar/common/v1/error_reason_pb";
import { ErrorReason as FulfillmentReason } from "@pasar/contracts/pasar/fulfillment/v1/error_reason_pb";
import { ErrorReason as PaymentReason } from "@pasar/contracts/pasar/payment/v1/error_reason_pb";
import { ErrorReason as ProductReason } from "@pasar/contracts/pasar/product/v1/error_reason_pb";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { VueWrapper } from "@vue/test-utils";

import {
  ACCESS_TOKEN,
  channelsJson,
  createOrderResponseJson,
  demoChannelsJson,
  ORDER_ID,
  productJson,
  tokenProductJson,
} from "@/testing/catalog";
import {
  deferredResponse,
  errorResponse,
  installFakeGateway,
  jsonResponse,
  unavailable,
  type FakeGateway,
} from "@/testing/gateway";
import { renderRoute, settle } from "@/testing/render";
import { RECENT_ORDERS_STORAGE_KEY } from "@/composables/useRecentOrders";

/** Lazy pages load on first use, which can take a while on a busy machine. */
const WAIT = { timeout: 10_000 };

const PATH = "/products/pulsa-nusantara";
let gateway: FakeGateway;
let mounted: VueWrapper | undefined;

beforeEach(() => {
  gateway = installFakeGateway()
    .on("GET", "/api/v1/products/pulsa-nusantara", () => jsonResponse(productJson()))
    .on("GET", "/api/v1/payment-channels", () => jsonResponse(channelsJson()))
    .on("GET", "/api/v1/products/token-listrik", () => jsonResponse(tokenProductJson()))
    .on("POST", "/api/v1/destinations:lookup", () =>
      jsonResponse({ customerName: "", detail: "", operatorName: "Telkomsel", matchesProduct: true }),
    );
});
afterEach(() => {
  mounted?.unmount();
  mounted = undefined;
  localStorage.clear();
});

async function open(path = PATH) {
  const rendered = await renderRoute(path);
  mounted = rendered.wrapper;
  return rendered;
}

function section(wrapper: VueWrapper, name: string) {
  return wrapper.get(`[data-section="${name}"]`);
}

function offeredChannels(wrapper: VueWrapper): string[] {
  return wrapper.findAll("[data-channel-code]").map((option) => option.attributes("data-channel-code") ?? "");
}

/** The channels that take the order's amount (the others are shown disabled, with their limit). */
function acceptingChannels(wrapper: VueWrapper): string[] {
  return wrapper
    .findAll("[data-channel-code]")
    .filter((option) => option.find("input:not([disabled])").exists())
    .map((option) => option.attributes("data-channel-code") ?? "");
}

async function fillOrder(
  wrapper: VueWrapper,
  options: { packageId?: string; channel?: string; email?: string; phone?: string } = {},
) {
  await wrapper.get("#destination-phone_number").setValue(options.phone ?? "081234567890");
  await wrapper.get(`[data-package-id="${options.packageId ?? "pulsa-nusantara-10k"}"] input`).setValue(true);
  await wrapper.get(`[data-channel-code="${options.channel ?? "bca_va"}"] input`).setValue(true);
  await wrapper.get("#customer-email").setValue(options.email ?? "siti@example.co.id");
}

function buyButton(wrapper: VueWrapper) {
  return wrapper.get('[data-action="buy"]');
}

describe("the order page", () => {
  it("shows the packages with price and stock, and the channels with their fees", async () => {
    const { wrapper } = await open();
    expect(wrapper.get("h1").text()).toBe("Pulsa Nusantara");
    expect(wrapper.text()).toContain("Pilih paket");
    expect(wrapper.text()).toContain("Pilih metode pembayaran");
    const packages = wrapper.findAll("[data-package-id]");
    expect(packages.map((item) => item.findAll("span").map((part) => part.text()))).toEqual([
      ["Pulsa 10.000", "Rp\u00a011.500", "Stok 40"],
      ["Pulsa 50.000", "Rp\u00a050.500", "Stok 3"],
      ["Pulsa 100.000", "Rp\u00a099.000", "Habis"],
    ]);
    expect(wrapper.get('[data-package-id="pulsa-nusantara-100k"] input').attributes()).toHaveProperty("disabled");
    // Before a package is chosen every channel is offered, with its fee rule.
    expect(offeredChannels(wrapper)).toEqual(["bca_va", "qris", "ovo", "alfamart"]);
    expect(wrapper.get('[data-channel-code="bca_va"] [data-fee]').text()).toBe("Biaya admin Rp\u00a04.000");
    expect(wrapper.get('[data-channel-code="qris"] [data-fee]').text()).toBe("Biaya admin 0,7%");
  });

  it("offers the channels whose limits include the amount, and says the others' minimum or maximum", async () => {
    const { wrapper } = await open();
    await wrapper.get('[data-package-id="pulsa-nusantara-10k"] input').setValue(true);
    // 11.500: Alfamart starts at 40.000; OVO takes up to 20.000.
    expect(acceptingChannels(wrapper)).toEqual(["bca_va", "qris", "ovo"]);
    expect(wrapper.get('[data-channel-code="alfamart"] [data-limit]').text()).toBe("Minimal Rp\u00a040.000");
    expect(wrapper.get('[data-channel-code="qris"] [data-fee]').text()).toBe("Biaya admin Rp\u00a081");
    expect(wrapper.get('[data-channel-code="ovo"] [data-fee]').text()).toBe("Biaya admin Rp\u00a0173");
    await wrapper.get('[data-channel-code="ovo"] input').setValue(true);
    expect(wrapper.get('[data-summary="total"]').text()).toBe("Rp\u00a011.673");

    // 50.500 is over OVO's limit: it says its maximum and is no longer chosen.
    await wrapper.get('[data-package-id="pulsa-nusantara-50k"] input').setValue(true);
    expect(acceptingChannels(wrapper)).toEqual(["bca_va", "qris", "alfamart"]);
    expect(wrapper.get('[data-channel-code="ovo"] [data-limit]').text()).toBe("Maksimal Rp\u00a020.000");
    expect(wrapper.get('[data-summary="fee"]').text()).toBe("Rp\u00a00");
    await wrapper.get('[data-channel-code="bca_va"] input').setValue(true);
    await wrapper.get("#quantity").setValue("2");
    expect(wrapper.get('[data-summary="subtotal"]').text()).toBe("Rp\u00a0101.000");
    expect(wrapper.get('[data-summary="total"]').text()).toBe("Rp\u00a0105.000");
  });

  it("says what is missing instead of ordering an incomplete form", async () => {
    const { wrapper } = await open();
    await wrapper.get("#destination-phone_number").setValue("081234567890");
    await wrapper.get("#customer-email").setValue("not-an-email");
    await buyButton(wrapper).trigger("submit");
    await settle();
    expect(wrapper.text()).toContain("Pilih paket terlebih dahulu.");
    expect(wrapper.text()).toContain("Pilih metode pembayaran terlebih dahulu.");
    expect(wrapper.text()).toContain("Masukkan alamat e-mail yang valid");
    expect(wrapper.get("#customer-email").attributes("aria-invalid")).toBe("true");
    expect(gateway.requestsTo("POST", "/api/v1/orders")).toHaveLength(0);
  });

  it("keeps Beli disabled while the order is placed, then opens the payment page with the token", async () => {
    const order = deferredResponse();
    gateway.on("POST", "/api/v1/orders", order.handler);
    const { wrapper, router } = await open();
    await fillOrder(wrapper);
    await wrapper.get("form").trigger("submit");
    await settle();
    expect(buyButton(wrapper).attributes()).toHaveProperty("disabled");
    expect(buyButton(wrapper).attributes("aria-busy")).toBe("true");
    await wrapper.get("form").trigger("submit");
    await buyButton(wrapper).trigger("click");
    await settle();
    expect(gateway.requestsTo("POST", "/api/v1/orders")).toHaveLength(1);

    order.release(jsonResponse(createOrderResponseJson()));
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe(`/orders/${ORDER_ID}?token=${ACCESS_TOKEN}`), WAIT);
    const [sent] = gateway.requestsTo("POST", "/api/v1/orders");
    expect(sent?.body).toEqual({
      customerEmail: "siti@example.co.id",
      lines: [{ packageId: "pulsa-nusantara-10k", quantity: 1, destination: { phone_number: "081234567890" } }],
      paymentChannelCode: "bca_va",
      languageCode: "id",
    });
  });

  it("says ordering is unavailable when the order service is down, and Beli works again with the same key", async () => {
    gateway.on("POST", "/api/v1/orders", () => unavailable());
    const { wrapper, router } = await open();
    await fillOrder(wrapper);
    await wrapper.get("form").trigger("submit");
    await settle();
    const error = section(wrapper, "order-error");
    expect(error.attributes("role")).toBe("alert");
    expect(error.text()).toContain("Pemesanan sedang tidak tersedia");
    // The rest of the page still works.
    expect(wrapper.findAll("[data-package-id]")).toHaveLength(3);
    expect(offeredChannels(wrapper)).toContain("bca_va");
    expect(buyButton(wrapper).attributes()).not.toHaveProperty("disabled");

    gateway.on("POST", "/api/v1/orders", () => jsonResponse(createOrderResponseJson()));
    await wrapper.get("form").trigger("submit");
    await settle();
    const keys = gateway.requestsTo("POST", "/api/v1/orders").map((request) => request.headers.get("Idempotency-Key"));
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe("order"), WAIT);
  });

  it("uses the error's retry button for the same order, and a new key once the order changes", async () => {
    gateway.on("POST", "/api/v1/orders", () => errorResponse(504, "DEADLINE_EXCEEDED", "too slow"));
    const { wrapper } = await open();
    await fillOrder(wrapper);
    await wrapper.get("form").trigger("submit");
    await settle();
    await section(wrapper, "order-error").get("button").trigger("click");
    await settle();
    await wrapper.get("#quantity").setValue("2");
    await wrapper.get("form").trigger("submit");
    await settle();
    const keys = gateway.requestsTo("POST", "/api/v1/orders").map((request) => request.headers.get("Idempotency-Key"));
    expect(keys).toHaveLength(3);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
  });

  it("explains a refusal from the contract's reason, refreshes the stock, and starts a new intent", async () => {
    gateway.on("POST", "/api/v1/orders", () =>
      errorResponse(409, "FAILED_PRECONDITION", "out of stock", [
        {
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: ProductReason[ProductReason.OUT_OF_STOCK],
          domain: "pasar.shop",
          metadata: { package_id: "pulsa-nusantara-10k", requested: "1", available: "0" },
        },
      ]),
    );
    const { wrapper } = await open();
    await fillOrder(wrapper);
    const productLoads = gateway.requestsTo("GET", "/api/v1/products/pulsa-nusantara").length;
    await wrapper.get("form").trigger("submit");
    await settle();
    expect(section(wrapper, "order-error").text()).toContain("Stok paket ini tidak cukup (tersisa 0)");
    expect(section(wrapper, "order-error").find("button").exists()).toBe(false);
    expect(gateway.requestsTo("GET", "/api/v1/products/pulsa-nusantara").length).toBe(productLoads + 1);
    await wrapper.get("form").trigger("submit");
    await settle();
    const keys = gateway.requestsTo("POST", "/api/v1/orders").map((request) => request.headers.get("Idempotency-Key"));
    expect(keys[1]).not.toBe(keys[0]);
  });

  it("shows the channels' own error when the payment service is down, with the product still shown", async () => {
    gateway.on("GET", "/api/v1/payment-channels", () => unavailable());
    const { wrapper } = await open();
    const channels = section(wrapper, "channels");
    expect(channels.get('[role="alert"]').text()).toContain("Metode pembayaran sedang tidak dapat dimuat");
    expect(wrapper.findAll("[data-package-id]")).toHaveLength(3);

    gateway.on("GET", "/api/v1/payment-channels", () => jsonResponse(channelsJson()));
    await channels.get("button").trigger("click");
    await settle();
    expect(section(wrapper, "channels").find('[role="alert"]').exists()).toBe(false);
    expect(offeredChannels(wrapper)).toEqual(["bca_va", "qris", "ovo", "alfamart"]);
  });

  it("shows the product's own error when the product service is down, with the channels still shown", async () => {
    gateway.on("GET", "/api/v1/products/pulsa-nusantara", () => unavailable());
    const { wrapper } = await open();
    expect(section(wrapper, "product").text()).toContain("Produk sedang tidak dapat dimuat");
    expect(offeredChannels(wrapper)).toHaveLength(4);

    gateway.on("GET", "/api/v1/products/pulsa-nusantara", () => jsonResponse(productJson()));
    await section(wrapper, "product").get("button").trigger("click");
    await settle();
    expect(wrapper.findAll("[data-package-id]")).toHaveLength(3);
  });

  it("says so when the product does not exist", async () => {
    gateway.on("GET", "/api/v1/products/gone", () => errorResponse(404, "NOT_FOUND", "no such product"));
    const { wrapper } = await open("/products/gone");
    expect(wrapper.get("h1").text()).toBe("Produk ini tidak ditemukan atau sudah tidak dijual.");
  });
});

function destinationError(wrapper: VueWrapper, name: string) {
  return wrapper.find(`[data-destination-field="${name}"] [data-destination-error]`);
}

function lookupNote(wrapper: VueWrapper, name: string) {
  return wrapper.get(`[data-destination-field="${name}"] [role="status"]`);
}

function notFoundAnswer(): Response {
  return errorResponse(404, "NOT_FOUND", "no such meter", [
    {
      "@type": "type.googleapis.com/google.rpc.ErrorInfo",
      reason: FulfillmentReason[FulfillmentReason.DESTINATION_NOT_FOUND],
      domain: "pasar.shop",
      metadata: { product_id: "token-listrik", field: "meter_number" },
    },
  ]);
}

describe("the destination form", () => {
  it("asks for what the product declares, with its label, hint, example and the number pad", async () => {
    const { wrapper } = await open();
    const destination = section(wrapper, "destination");
    expect(destination.get("legend").text()).toBe("Tujuan pengiriman");
    const input = wrapper.get("#destination-phone_number");
    expect(destination.get('label[for="destination-phone_number"]').text()).toBe("Nomor HP");
    expect(input.attributes("inputmode")).toBe("numeric");
    expect(input.attributes("placeholder")).toBe("081234567890");
    expect(input.attributes("aria-describedby")).toContain("destination-phone_number-hint");
    expect(wrapper.get("#destination-phone_number-hint").text()).toBe("Nomor yang menerima pulsa.");
  });

  it("checks the number as the shopper types, and keeps Beli disabled until it is valid", async () => {
    const { wrapper } = await open();
    expect(buyButton(wrapper).attributes()).toHaveProperty("disabled");
    expect(buyButton(wrapper).attributes("aria-describedby")).toBe("buy-blocked");
    const input = wrapper.get("#destination-phone_number");
    await input.setValue("0812");
    expect(destinationError(wrapper, "phone_number").exists()).toBe(false);
    await input.setValue("0857");
    expect(destinationError(wrapper, "phone_number").text()).toBe("Nomor ini bukan nomor Telkomsel (0811, 0812, …).");
    expect(input.attributes("aria-invalid")).toBe("true");
    await input.setValue("0812345");
    await input.trigger("blur");
    expect(destinationError(wrapper, "phone_number").text()).toBe("Nomor HP minimal 10 digit.");
    expect(buyButton(wrapper).attributes()).toHaveProperty("disabled");
    await input.setValue("081234567890");
    expect(destinationError(wrapper, "phone_number").exists()).toBe(false);
    expect(buyButton(wrapper).attributes()).not.toHaveProperty("disabled");
  });

  it("names the phone's operator once the number is valid, and warns when it is another operator's", async () => {
    const { wrapper } = await open();
    await wrapper.get("#destination-phone_number").setValue("081234567890");
    await vi.waitFor(() => expect(lookupNote(wrapper, "phone_number").text()).toBe("Operator: Telkomsel"), WAIT);
    gateway.on("POST", "/api/v1/destinations:lookup", () =>
      jsonResponse({ customerName: "", detail: "", operatorName: "Indosat", matchesProduct: false }),
    );
    await wrapper.get("#destination-phone_number").setValue("081299999999");
    await vi.waitFor(() => expect(lookupNote(wrapper, "phone_number").attributes("data-lookup")).toBe("other-operator"), WAIT);
    expect(lookupNote(wrapper, "phone_number").text()).toContain("Nomor ini terdaftar di Indosat");
    // A warning, not a refusal: Beli stays available.
    expect(buyButton(wrapper).attributes()).not.toHaveProperty("disabled");
  });

  it("shows the PLN customer's name before Beli, in the lookup's live region", async () => {
    gateway.on("POST", "/api/v1/destinations:lookup", () =>
      jsonResponse({ customerName: "Siti Rahayu", detail: "R1/1300 VA", operatorName: "", matchesProduct: true }),
    );
    const { wrapper } = await open("/products/token-listrik");
    const input = wrapper.get("#destination-meter_number");
    expect(input.attributes("inputmode")).toBe("numeric");
    await input.setValue("12345678901");
    const note = lookupNote(wrapper, "meter_number");
    expect(note.attributes("aria-live")).toBe("polite");
    await vi.waitFor(() => expect(note.text()).toBe("Nama pelanggan: Siti Rahayu — R1/1300 VA"), WAIT);
    expect(input.attributes("aria-describedby")).toContain("destination-meter_number-lookup");
    const [sent] = gateway.requestsTo("POST", "/api/v1/destinations:lookup");
    expect(sent?.body).toEqual({ productId: "token-listrik", destination: { meter_number: "12345678901" } });
  });

  it("shows an unknown meter as the field's error and keeps Beli disabled", async () => {
    gateway.on("POST", "/api/v1/destinations:lookup", notFoundAnswer);
    const { wrapper } = await open("/products/token-listrik");
    await wrapper.get("#destination-meter_number").setValue("12345670000");
    await vi.waitFor(
      () => expect(destinationError(wrapper, "meter_number").text()).toBe("Nomor meter / ID pelanggan tidak terdaftar. Periksa kembali."),
      WAIT,
    );
    expect(buyButton(wrapper).attributes()).toHaveProperty("disabled");
    expect(wrapper.get("[data-buy-blocked]").text()).toBe("Isi data tujuan dengan benar untuk membeli.");
  });

  it("says quietly that the name cannot be checked when the fulfillment service is down, and still orders", async () => {
    gateway.on("POST", "/api/v1/destinations:lookup", () => unavailable());
    gateway.on("POST", "/api/v1/orders", () => jsonResponse(createOrderResponseJson()));
    const { wrapper, router } = await open("/products/token-listrik");
    await wrapper.get("#destination-meter_number").setValue("12345678901");
    await vi.waitFor(
      () => expect(lookupNote(wrapper, "meter_number").attributes("data-lookup")).toBe("unavailable"),
      WAIT,
    );
    expect(lookupNote(wrapper, "meter_number").text()).toBe(
      "Nama pelanggan belum dapat diperiksa saat ini. Anda tetap dapat membeli.",
    );
    expect(buyButton(wrapper).attributes()).not.toHaveProperty("disabled");
    await wrapper.get('[data-package-id="token-listrik-20k"] input').setValue(true);
    await wrapper.get('[data-channel-code="bca_va"] input').setValue(true);
    await wrapper.get("#customer-email").setValue("siti@example.co.id");
    await wrapper.get("form").trigger("submit");
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe("order"), WAIT);
    const [sent] = gateway.requestsTo("POST", "/api/v1/orders");
    expect(sent?.body).toMatchObject({ lines: [{ packageId: "token-listrik-20k", destination: { meter_number: "12345678901" } }] });
  });

  it("shows the order service's refusal on the field it names, and lets the shopper fix it", async () => {
    gateway.on("POST", "/api/v1/orders", () =>
      errorResponse(400, "INVALID_ARGUMENT", "bad destination", [
        {
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: CommonReason[CommonReason.INVALID_DESTINATION],
          domain: "pasar.shop",
          metadata: { product_id: "pulsa-nusantara", field: "phone_number" },
        },
        {
          "@type": "type.googleapis.com/google.rpc.BadRequest",
          fieldViolations: [{ field: 'lines[0].destination["phone_number"]', description: "not a number of this operator" }],
        },
      ]),
    );
    const { wrapper } = await open();
    await fillOrder(wrapper);
    await wrapper.get("form").trigger("submit");
    await settle();
    expect(destinationError(wrapper, "phone_number").text()).toBe("Nomor HP ditolak. Periksa kembali.");
    expect(section(wrapper, "order-error").text()).toContain("Periksa kembali data tujuan");
    expect(document.activeElement?.id).toBe("destination-phone_number");
    expect(buyButton(wrapper).attributes()).toHaveProperty("disabled");
    await wrapper.get("#destination-phone_number").setValue("081311112222");
    expect(destinationError(wrapper, "phone_number").exists()).toBe(false);
    expect(buyButton(wrapper).attributes()).not.toHaveProperty("disabled");
  });

  it("keeps the idempotency key for the same destination, and takes a new one for another", async () => {
    gateway.on("POST", "/api/v1/orders", () => unavailable());
    const { wrapper } = await open();
    await fillOrder(wrapper);
    await wrapper.get("form").trigger("submit");
    await settle();
    await wrapper.get("form").trigger("submit");
    await settle();
    await wrapper.get("#destination-phone_number").setValue("081311112222");
    await wrapper.get("form").trigger("submit");
    await settle();
    const sent = gateway.requestsTo("POST", "/api/v1/orders");
    const keys = sent.map((request) => request.headers.get("Idempotency-Key"));
    expect(keys).toHaveLength(3);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
    expect(sent[2]?.body).toMatchObject({ lines: [{ destination: { phone_number: "081311112222" } }] });
  });

  it("speaks English with the product's English labels", async () => {
    const rendered = await renderRoute(PATH, { locale: "en" });
    mounted = rendered.wrapper;
    expect(rendered.wrapper.get('label[for="destination-phone_number"]').text()).toBe("Phone number");
    await rendered.wrapper.get("#destination-phone_number").setValue("0857");
    expect(destinationError(rendered.wrapper, "phone_number").text()).toBe("This is not a Telkomsel number (0811, 0812, …).");
  });
});

function reasonDetail(reason: string, metadata: Record<string, string>) {
  return { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason, domain: "pasar.shop", metadata };
}

describe("the order page in the shopper's language", () => {
  it("names the product, its description and its packages in English, the Indonesian where there is none", async () => {
    const rendered = await renderRoute(PATH, { locale: "en" });
    mounted = rendered.wrapper;
    const { wrapper } = rendered;
    expect(wrapper.get("h1").text()).toBe("Nusantara Phone Credit");
    expect(section(wrapper, "product").text()).toContain("Top up any Nusantara number.");
    expect(document.title).toContain("Nusantara Phone Credit");
    expect(wrapper.get('[data-package-id="pulsa-nusantara-10k"]').text()).toContain("Credit 10,000");
    expect(wrapper.get('[data-package-id="pulsa-nusantara-50k"]').text()).toContain("Pulsa 50.000");
    await wrapper.get('[data-package-id="pulsa-nusantara-10k"] input').setValue(true);
    expect(section(wrapper, "checkout").text()).toContain("Credit 10,000 × 1");
  });
});

describe("the checkout bar", () => {
  it("holds the total, the chosen method and Beli, in the form's order after the e-mail", async () => {
    const { wrapper } = await open();
    const bar = wrapper.get("[data-checkout-bar]");
    expect(bar.get("[data-checkout-total]").text()).toBe("Rp\u00a00");
    expect(bar.get("[data-checkout-channel]").text()).toBe("Belum memilih metode pembayaran");
    await fillOrder(wrapper, { channel: "qris" });
    expect(bar.get("[data-checkout-total]").text()).toBe("Rp\u00a011.581");
    expect(bar.get("[data-checkout-channel]").text()).toBe("Metode: QRIS");
    expect(bar.find('[data-action="buy"]').exists()).toBe(true);
    // One Beli on the page, after the e-mail in the document (and so in the keyboard's) order.
    expect(wrapper.findAll('[data-action="buy"]')).toHaveLength(1);
    const email = wrapper.get("#customer-email").element;
    expect(email.compareDocumentPosition(buyButton(wrapper).element) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  });

  it("takes the shopper to the payment methods from its change button", async () => {
    const { wrapper } = await open();
    await wrapper.get('[data-channel-code="ovo"] input').setValue(true);
    await wrapper.get("[data-checkout-bar] button:not([data-action])").trigger("click");
    expect(document.activeElement).toBe(wrapper.get('[data-channel-code="ovo"] input').element);
  });

  it("says why Beli waits when the destination is not complete", async () => {
    const { wrapper } = await open();
    const note = wrapper.get("[data-checkout-bar] [data-buy-blocked]");
    expect(note.text()).toBe("Isi data tujuan dengan benar untuk membeli.");
    expect(buyButton(wrapper).attributes("aria-describedby")).toBe(note.attributes("id"));
  });
});

describe("the payment methods of the demo shop", () => {
  beforeEach(() => {
    gateway.on("GET", "/api/v1/payment-channels", () => jsonResponse(demoChannelsJson()));
  });

  it("come grouped, the common ones first, the less common folded", async () => {
    const { wrapper } = await open();
    const groups = wrapper.findAll("[data-channel-group]");
    expect(groups.map((group) => group.attributes("data-channel-group"))).toEqual([
      "QRIS",
      "EWALLET",
      "VIRTUAL_ACCOUNT",
      "RETAIL_OUTLET",
    ]);
    expect(groups.map((group) => group.get("button").attributes("aria-expanded"))).toEqual(["true", "true", "false", "false"]);
  });

  it("ask for the e-wallet's phone number for a wallet that pushes the request, check it, and send it", async () => {
    gateway.on("POST", "/api/v1/orders", () => jsonResponse(createOrderResponseJson()));
    const { wrapper, router } = await open();
    await fillOrder(wrapper, { channel: "gopay" });
    expect(wrapper.find("#payer-phone").exists()).toBe(false);
    await wrapper.get('[data-channel-code="ovo"] input').setValue(true);
    const phone = wrapper.get("#payer-phone");
    expect(wrapper.get('label[for="payer-phone"]').text()).toBe("Nomor HP akun OVO");
    expect(wrapper.get("#payer-phone-hint").text()).toContain("aplikasi OVO");
    expect(phone.attributes("type")).toBe("tel");

    await phone.setValue("0812");
    await wrapper.get("form").trigger("submit");
    await settle();
    expect(gateway.requestsTo("POST", "/api/v1/orders")).toHaveLength(0);
    expect(wrapper.get("[data-payer-phone-error]").text()).toBe(
      "Masukkan nomor HP yang terdaftar di OVO, misalnya 081234567890.",
    );
    expect(document.activeElement?.id).toBe("payer-phone");

    await phone.setValue("0812-9876 5432");
    expect(wrapper.find("[data-payer-phone-error]").exists()).toBe(false);
    await wrapper.get("form").trigger("submit");
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe("order"), WAIT);
    const [sent] = gateway.requestsTo("POST", "/api/v1/orders");
    expect(sent?.body).toMatchObject({ paymentChannelCode: "ovo", payerPhoneNumber: "081298765432" });
  });

  it("send no phone number for a channel that does not ask for one", async () => {
    gateway.on("POST", "/api/v1/orders", () => jsonResponse(createOrderResponseJson()));
    const { wrapper, router } = await open();
    await fillOrder(wrapper, { channel: "ovo" });
    await wrapper.get("#payer-phone").setValue("081298765432");
    await wrapper.get('[data-channel-code="qris"] input').setValue(true);
    await wrapper.get("form").trigger("submit");
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe("order"), WAIT);
    expect(gateway.requestsTo("POST", "/api/v1/orders")[0]?.body).not.toHaveProperty("payerPhoneNumber");
  });

  it("ask for the number when the order service says the wallet needs one, with the field focused", async () => {
    // The channel list is older than the server's: it does not yet say DANA needs a number.
    const stale = demoChannelsJson();
    const channels = (stale.paymentChannels as Record<string, unknown>[]).map((channel) => ({ ...channel, requiresPhoneNumber: false }));
    gateway.on("GET", "/api/v1/payment-channels", () => jsonResponse({ ...stale, paymentChannels: channels }));
    gateway.on("POST", "/api/v1/orders", () =>
      errorResponse(400, "INVALID_ARGUMENT", "phone number required", [
        reasonDetail(PaymentReason[PaymentReason.PAYER_PHONE_NUMBER_REQUIRED], { channel_code: "dana" }),
      ]),
    );
    const { wrapper } = await open();
    await fillOrder(wrapper, { channel: "dana" });
    await wrapper.get("form").trigger("submit");
    await settle();
    expect(section(wrapper, "order-error").text()).toContain("Isi nomor HP akun DANA Anda untuk membayar dengan DANA.");
    expect(document.activeElement?.id).toBe("payer-phone");
    expect(wrapper.get('label[for="payer-phone"]').text()).toBe("Nomor HP akun DANA");
  });
});

describe("a refused Beli", () => {
  it("says the channel's minimum from AMOUNT_OUT_OF_RANGE, and reloads the channels", async () => {
    gateway.on("POST", "/api/v1/orders", () =>
      errorResponse(422, "FAILED_PRECONDITION", "amount out of range", [
        reasonDetail(PaymentReason[PaymentReason.AMOUNT_OUT_OF_RANGE], {
          channel_code: "bca_va",
          min_amount: "15000",
          max_amount: "50000000",
        }),
      ]),
    );
    const { wrapper } = await open();
    await fillOrder(wrapper);
    const loads = gateway.requestsTo("GET", "/api/v1/payment-channels").length;
    await wrapper.get("form").trigger("submit");
    await settle();
    expect(section(wrapper, "order-error").text()).toContain(
      "BCA Virtual Account hanya menerima pembayaran minimal Rp\u00a015.000.",
    );
    expect(gateway.requestsTo("GET", "/api/v1/payment-channels").length).toBe(loads + 1);
  });

  it("says how long to wait when too many orders came from here, and retries with the same key", async () => {
    gateway.on("POST", "/api/v1/orders", () =>
      errorResponse(429, "RESOURCE_EXHAUSTED", "rate limited", [
        reasonDetail(CommonReason[CommonReason.RATE_LIMITED], { retry_after_seconds: "20" }),
      ]),
    );
    const { wrapper } = await open();
    await fillOrder(wrapper);
    await wrapper.get("form").trigger("submit");
    await settle();
    const error = section(wrapper, "order-error");
    expect(error.text()).toContain("Terlalu banyak pesanan dalam waktu singkat. Tunggu 20 detik, lalu coba lagi.");
    await error.get("button").trigger("click");
    await settle();
    const keys = gateway.requestsTo("POST", "/api/v1/orders").map((request) => request.headers.get("Idempotency-Key"));
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
  });
});

describe("a placed order", () => {
  it("is remembered on this device for \u201cCek pesanan\u201d", async () => {
    gateway.on("POST", "/api/v1/orders", () => jsonResponse(createOrderResponseJson()));
    const { wrapper, router } = await open();
    await fillOrder(wrapper);
    await wrapper.get("form").trigger("submit");
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe("order"), WAIT);
    const stored = JSON.parse(localStorage.getItem(RECENT_ORDERS_STORAGE_KEY) ?? "[]") as { id: string; accessToken: string }[];
    expect(stored.map((entry) => [entry.id, entry.accessToken])).toEqual([[ORDER_ID, ACCESS_TOKEN]]);
  });
});
