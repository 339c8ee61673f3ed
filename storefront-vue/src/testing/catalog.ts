/** Proto3 JSON of a small catalog, payment channels, an order and its payment, as the gateway sends them. */
import { create, toJson, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { FailureReason, FailureSchema } from "@pasar/contracts/pasar/fulfillment/v1/fulfillment_pb";

export const ORDER_ID = "ord_0123456789abcdef0123456789abcdef";
export const PAYMENT_ID = "pay_fedcba9876543210fedcba9876543210";
export const ACCESS_TOKEN = "tok-secret-123";

export function money(amount: number): JsonObject {
  return { currencyCode: "IDR", amount: String(amount) };
}

export function packageJson(
  id: string,
  name: string,
  price: number,
  stock: number,
  sortOrder = 1,
  english: { name?: string; description?: string } = {},
): JsonObject {
  return {
    id,
    productId: "pulsa-nusantara",
    displayName: name,
    displayNameEn: english.name ?? "",
    description: "",
    descriptionEn: english.description ?? "",
    price: money(price),
    stockAvailable: stock,
    sortOrder,
    productDisplayName: "Pulsa Nusantara",
    productDisplayNameEn: "Nusantara Phone Credit",
  };
}

/** A phone number of the Telkomsel prefixes, as a phone-credit product asks for it. */
export function phoneFieldJson(): JsonObject {
  return {
    name: "phone_number",
    label: "Nomor HP",
    labelEn: "Phone number",
    hint: "Nomor yang menerima pulsa.",
    hintEn: "The number that receives the credit.",
    pattern: "[0-9]{10,13}",
    minLength: 10,
    maxLength: 13,
    prefixes: ["0811", "0812", "0813", "0821", "0822", "0823", "0851", "0852", "0853"],
    example: "081234567890",
    lookupSupported: true,
  };
}

/** A PLN meter number, which the look-up names the customer of. */
export function meterFieldJson(): JsonObject {
  return {
    name: "meter_number",
    label: "Nomor meter / ID pelanggan",
    labelEn: "Meter number / customer ID",
    hint: "Tertera di meter listrik prabayar Anda.",
    hintEn: "Printed on your prepaid electricity meter.",
    pattern: "[0-9]{11,12}",
    minLength: 11,
    maxLength: 12,
    prefixes: [],
    example: "12345678901",
    lookupSupported: true,
  };
}

/** An electricity-token product with one package. */
export function tokenProductJson(): JsonObject {
  return {
    id: "token-listrik",
    displayName: "Token Listrik Prabayar",
    displayNameEn: "Prepaid Electricity Token",
    description: "Token PLN prabayar.",
    descriptionEn: "",
    searchKeywords: ["pln", "listrik", "token"],
    categoryId: "token-listrik",
    imageUrl: "/images/products/token-listrik.svg",
    state: "PRODUCT_STATE_ACTIVE",
    packages: [{ ...packageJson("token-listrik-20k", "Token Listrik 20.000", 21000, 50, 1), productId: "token-listrik" }],
    minPrice: money(21000),
    maxPrice: money(21000),
    destinationFields: [meterFieldJson()],
    deliveryKind: "DELIVERY_KIND_ELECTRICITY_TOKEN",
  };
}

export function productJson(): JsonObject {
  return {
    id: "pulsa-nusantara",
    displayName: "Pulsa Nusantara",
    displayNameEn: "Nusantara Phone Credit",
    description: "Isi ulang pulsa semua nomor Nusantara.",
    descriptionEn: "Top up any Nusantara number.",
    searchKeywords: ["telkomsel", "credit"],
    categoryId: "pulsa",
    imageUrl: "/images/products/pulsa-nusantara.svg",
    state: "PRODUCT_STATE_ACTIVE",
    packages: [
      packageJson("pulsa-nusantara-10k", "Pulsa 10.000", 11500, 40, 1, { name: "Credit 10,000" }),
      packageJson("pulsa-nusantara-50k", "Pulsa 50.000", 50500, 3, 2),
      packageJson("pulsa-nusantara-100k", "Pulsa 100.000", 99000, 0, 3),
    ],
    minPrice: money(11500),
    maxPrice: money(99000),
    createTime: "2026-01-05T08:00:00Z",
    updateTime: "2026-01-05T08:00:00Z",
    destinationFields: [phoneFieldJson()],
    deliveryKind: "DELIVERY_KIND_PHONE_CREDIT",
  };
}

export function categoriesJson(): JsonObject {
  return {
    categories: [
      { id: "pulsa", displayName: "Pulsa", displayNameEn: "Phone Credit", sortOrder: 1 },
      { id: "paket-data", displayName: "Paket Data", displayNameEn: "Data Plans", sortOrder: 2 },
    ],
    nextPageToken: "",
  };
}

export function productsJson(nextPageToken = ""): JsonObject {
  return { products: [productJson()], nextPageToken };
}

export function channelJson(
  code: string,
  name: string,
  kind: string,
  fees: { flat?: number; bps?: number },
  limits: { min: number; max: number },
  sortOrder: number,
  extra: JsonObject = {},
): JsonObject {
  return {
    code,
    displayName: name,
    kind: `PAYMENT_CHANNEL_KIND_${kind}`,
    flatFee: money(fees.flat ?? 0),
    percentFeeBps: fees.bps ?? 0,
    minAmount: money(limits.min),
    maxAmount: money(limits.max),
    paymentTtl: "86400s",
    enabled: true,
    sortOrder,
    logoUrl: `/images/channels/${code}.svg`,
    requiresPhoneNumber: false,
    ...extra,
  };
}

/** The channels' first page; sandbox: whether the sandbox settles payments (as in development). */
export function channelsJson(options: { sandbox?: boolean } = {}): JsonObject {
  return {
    sandbox: options.sandbox ?? true,
    paymentChannels: [
      channelJson("bca_va", "BCA Virtual Account", "VIRTUAL_ACCOUNT", { flat: 4000 }, { min: 10000, max: 50000000 }, 10),
      channelJson("qris", "QRIS", "QRIS", { bps: 70 }, { min: 1000, max: 10000000 }, 20),
      channelJson("ovo", "OVO", "EWALLET", { bps: 150 }, { min: 1000, max: 20000 }, 30),
      channelJson("alfamart", "Alfamart", "RETAIL_OUTLET", { flat: 5000 }, { min: 40000, max: 5000000 }, 40),
    ],
    nextPageToken: "",
  };
}

/**
 * The demo shop's channels (svc-payment's seed): the common ones first (QRIS, e-wallets,
 * virtual accounts, retail outlets), OVO and DANA paid by a push to the payer's phone.
 */
export function demoChannelsJson(options: { sandbox?: boolean } = {}): JsonObject {
  const limits = { min: 1000, max: 10_000_000 };
  const bank = { min: 10_000, max: 50_000_000 };
  const outlet = { min: 10_000, max: 5_000_000 };
  const push = { requiresPhoneNumber: true };
  return {
    sandbox: options.sandbox ?? true,
    paymentChannels: [
      channelJson("qris", "QRIS", "QRIS", { bps: 70 }, limits, 10, { paymentTtl: "900s" }),
      channelJson("gopay", "GoPay", "EWALLET", { bps: 200 }, limits, 20, { paymentTtl: "1800s" }),
      channelJson("ovo", "OVO", "EWALLET", { bps: 150 }, limits, 30, { paymentTtl: "1800s", ...push }),
      channelJson("dana", "DANA", "EWALLET", { bps: 150 }, limits, 40, { paymentTtl: "1800s", ...push }),
      channelJson("shopeepay", "ShopeePay", "EWALLET", { bps: 200 }, limits, 50, { paymentTtl: "1800s" }),
      channelJson("bca_va", "BCA Virtual Account", "VIRTUAL_ACCOUNT", { flat: 4000 }, bank, 60),
      channelJson("bni_va", "BNI Virtual Account", "VIRTUAL_ACCOUNT", { flat: 4000 }, bank, 70),
      channelJson("bri_va", "BRI Virtual Account", "VIRTUAL_ACCOUNT", { flat: 4000 }, bank, 80),
      channelJson("mandiri_va", "Mandiri Virtual Account", "VIRTUAL_ACCOUNT", { flat: 4000 }, bank, 90),
      channelJson("permata_va", "Permata Virtual Account", "VIRTUAL_ACCOUNT", { flat: 4000 }, bank, 100),
      channelJson("alfamart", "Alfamart", "RETAIL_OUTLET", { flat: 5000 }, outlet, 110),
      channelJson("indomaret", "Indomaret", "RETAIL_OUTLET", { flat: 5000 }, outlet, 120),
    ],
    nextPageToken: "",
  };
}

export function paymentJson(state = "PENDING", overrides: Record<string, JsonValue | undefined> = {}): JsonObject {
  return {
    id: PAYMENT_ID,
    orderId: ORDER_ID,
    channelCode: "bca_va",
    channelKind: "PAYMENT_CHANNEL_KIND_VIRTUAL_ACCOUNT",
    state: `PAYMENT_STATE_${state}`,
    amount: money(23000),
    fee: money(4000),
    total: money(27000),
    virtualAccount: { bankName: "BCA", accountNumber: "8808123456789012", accountName: "PASAR SHOP" },
    provider: "sandbox",
    providerReference: "sbx_1",
    createTime: "2026-01-05T08:00:00Z",
    expireTime: "2099-01-06T08:00:00Z",
    updateTime: "2026-01-05T08:00:00Z",
    ...overrides,
  };
}

export function orderJson(state = "PENDING_PAYMENT", overrides: Record<string, JsonValue | undefined> = {}): JsonObject {
  return {
    id: ORDER_ID,
    state: `ORDER_STATE_${state}`,
    customerEmail: "siti@example.co.id",
    lines: [
      {
        packageId: "pulsa-nusantara-10k",
        packageDisplayName: "Pulsa 10.000",
        productId: "pulsa-nusantara",
        productDisplayName: "Pulsa Nusantara",
        unitPrice: money(11500),
        quantity: 2,
        lineTotal: money(23000),
        destination: { phone_number: "081234567890" },
      },
    ],
    subtotal: money(23000),
    fee: money(4000),
    total: money(27000),
    paymentChannelCode: "bca_va",
    paymentId: PAYMENT_ID,
    languageCode: "id",
    createTime: "2026-01-05T08:00:00Z",
    updateTime: "2026-01-05T08:00:00Z",
    expireTime: "2099-01-06T08:00:00Z",
    ...overrides,
  };
}

/** A line's fulfillment, as the order shows it; deliveries and failure as given. */
/** A fulfillment's failure as the API writes it (the reason's JSON name from the generated enum). */
export function failureJson(reason: FailureReason, message = ""): JsonObject {
  return toJson(FailureSchema, create(FailureSchema, { reason, message })) as JsonObject;
}

export function fulfillmentJson(state: "PENDING" | "SUCCEEDED" | "FAILED", overrides: JsonObject = {}): JsonObject {
  return {
    id: "ful_0123456789abcdef0123456789abcdef",
    orderId: ORDER_ID,
    packageId: "pulsa-nusantara-10k",
    productId: "pulsa-nusantara",
    deliveryKind: "DELIVERY_KIND_PHONE_CREDIT",
    quantity: 2,
    amount: money(23000),
    destination: { phone_number: "081234567890" },
    state: `FULFILLMENT_STATE_${state}`,
    biller: "sandbox",
    billerReference: "sbx-ful-1",
    createTime: "2026-01-05T08:05:01Z",
    updateTime: "2026-01-05T08:05:02Z",
    ...(state === "PENDING" ? {} : { completeTime: "2026-01-05T08:05:02Z" }),
    ...overrides,
  };
}

/** The refund of a line whose delivery failed. */
export function refundJson(state: "PENDING" | "SUCCEEDED" = "SUCCEEDED"): JsonObject {
  return {
    id: "rfd_0123456789abcdef0123456789abcdef",
    paymentId: PAYMENT_ID,
    requestId: "ful_0123456789abcdef0123456789abcdef",
    amount: money(23000),
    reason: "delivery failed",
    state: `REFUND_STATE_${state}`,
    providerReference: "sbx-rfd-1",
    createTime: "2026-01-05T08:05:03Z",
    ...(state === "SUCCEEDED" ? { completeTime: "2026-01-05T08:05:03Z" } : {}),
  };
}

/** An order's one line with more fields (its fulfillment, its refund). */
export function orderWithLineJson(state: string, line: JsonObject, overrides: Record<string, JsonValue | undefined> = {}): JsonObject {
  const order = orderJson(state, overrides);
  const [first] = order.lines as JsonObject[];
  return { ...order, lines: [{ ...first, ...line }] };
}

export function createOrderResponseJson(): JsonObject {
  return { order: orderJson(), accessToken: ACCESS_TOKEN, payment: paymentJson() };
}
