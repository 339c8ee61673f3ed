/**
 * The shopper's recent orders on this device: what "Cek pesanan" lists so that an order
 * placed here opens again without its e-mail. Kept in this browser's localStorage only,
 * never sent to a server (the shop keeps no list of a shopper's orders without consent);
 * at most ten, newest first, each forgettable ("Hapus").
 *
 * The product page calls rememberOrder(order, accessToken) after CreateOrder, and "Cek
 * pesanan" after a look-up finds one; the payment page may call it again to bring an order
 * to the top or refresh its facts.
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Order } from "@pasar/contracts/pasar/order/v1/order_pb";
import { computed, ref, type ComputedRef } from "vue";

import { inLanguage } from "@/i18n/catalogText";

/** One remembered order: enough to list it and to open its page. */
export interface RecentOrder {
  /** The order's id (the key). */
  id: string;
  /** The order's access token, as its page's address carries it. */
  accessToken: string;
  /** "PSR-7K3M9Q"; empty for an order placed before order numbers. */
  orderNumber: string;
  /** What the shopper pays, in the currency's smallest unit, as decimal digits. */
  totalAmount: string;
  /** The total's ISO 4217 code ("IDR"). */
  currencyCode: string;
  /** When it was placed, as ISO 8601 (UTC); empty when unknown. */
  createTime: string;
  /** The products bought, in the order's lines' order, in Indonesian (the snapshot's name). */
  productNames: string[];
  /** The products' English names where the catalog had one, else the Indonesian, same order. */
  productNamesEn: string[];
}

/** How many orders the device remembers; the oldest is dropped beyond it. */
export const RECENT_ORDERS_LIMIT = 10;
export const RECENT_ORDERS_STORAGE_KEY = "pasar.recentOrders";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

/** One stored entry, or undefined when it is not one (an older or damaged entry is dropped). */
function parseEntry(value: unknown): RecentOrder | undefined {
  if (!isRecord(value) || typeof value.id !== "string" || typeof value.accessToken !== "string") return undefined;
  if (value.id === "" || value.accessToken === "") return undefined;
  const text = (name: string): string => (typeof value[name] === "string" ? value[name] : "");
  const productNames = stringList(value.productNames);
  const productNamesEn = stringList(value.productNamesEn);
  return {
    id: value.id,
    accessToken: value.accessToken,
    orderNumber: text("orderNumber"),
    totalAmount: /^\d+$/.test(text("totalAmount")) ? text("totalAmount") : "0",
    currencyCode: text("currencyCode") || "IDR",
    createTime: text("createTime"),
    productNames,
    productNamesEn: productNamesEn.length === productNames.length ? productNamesEn : productNames,
  };
}

function readStored(): RecentOrder[] {
  try {
    const raw = globalThis.localStorage?.getItem(RECENT_ORDERS_STORAGE_KEY);
    if (raw === null || raw === undefined) return [];
    const parsed: unknown = JSON.parse(raw);
    if (!Array.isArray(parsed)) return [];
    return parsed.map(parseEntry).filter((entry): entry is RecentOrder => entry !== undefined).slice(0, RECENT_ORDERS_LIMIT);
  } catch {
    return []; // storage disabled or damaged: nothing remembered
  }
}

function store(orders: RecentOrder[]): void {
  try {
    if (orders.length === 0) globalThis.localStorage?.removeItem(RECENT_ORDERS_STORAGE_KEY);
    else globalThis.localStorage?.setItem(RECENT_ORDERS_STORAGE_KEY, JSON.stringify(orders));
  } catch {
    // storage can be disabled or full: the list then lasts for this visit only
  }
}

const recent = ref<RecentOrder[]>(readStored());

// Another tab of the shop placed or forgot an order: follow it.
if (typeof window !== "undefined") {
  window.addEventListener("storage", (event) => {
    if (event.key === null || event.key === RECENT_ORDERS_STORAGE_KEY) recent.value = readStored();
  });
}

/** The entry an order and its token make. */
export function recentOrderOf(order: Order, accessToken: string): RecentOrder {
  const unique = <T>(items: T[]): T[] => [...new Set(items)];
  const lines = order.lines;
  return {
    id: order.id,
    accessToken,
    orderNumber: order.orderNumber,
    totalAmount: (order.total?.amount ?? 0n).toString(),
    currencyCode: order.total?.currencyCode || "IDR",
    createTime: order.createTime === undefined ? "" : timestampDate(order.createTime).toISOString(),
    productNames: unique(lines.map((line) => line.productDisplayName)),
    productNamesEn: unique(lines.map((line) => inLanguage(line.productDisplayName, line.productDisplayNameEn, "en"))),
  };
}

/**
 * Remembers an order on this device, newest first (an order already listed moves to the
 * top with the facts given now). Never throws: a browser that keeps nothing still buys.
 */
export function rememberOrder(order: Order, accessToken: string): void {
  if (order.id === "" || accessToken === "") return;
  const entry = recentOrderOf(order, accessToken);
  recent.value = [entry, ...recent.value.filter((known) => known.id !== entry.id)].slice(0, RECENT_ORDERS_LIMIT);
  store(recent.value);
}

/** Forgets one order on this device. */
export function forgetOrder(id: string): void {
  recent.value = recent.value.filter((known) => known.id !== id);
  store(recent.value);
}

/** Forgets every order on this device. */
export function forgetAllOrders(): void {
  recent.value = [];
  store(recent.value);
}

/** Reads the stored list again (tests, and a page that was opened before another tab wrote). */
export function reloadRecentOrders(): void {
  recent.value = readStored();
}

export interface RecentOrders {
  /** Newest first, at most RECENT_ORDERS_LIMIT. */
  orders: ComputedRef<readonly RecentOrder[]>;
  remember: typeof rememberOrder;
  forget: typeof forgetOrder;
  forgetAll: typeof forgetAllOrders;
}

export function useRecentOrders(): RecentOrders {
  return {
    orders: computed(() => recent.value),
    remember: rememberOrder,
    forget: forgetOrder,
    forgetAll: forgetAllOrders,
  };
}
