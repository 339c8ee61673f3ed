/**
 * The order page's address, /orders/<id>?token=<token>: what Beli opens and what the
 * order's e-mails link to. The token stays in the URL so that reloading or bookmarking
 * the page keeps working.
 */
import type { RouteLocationRaw } from "vue-router";

/** The form of an order id: "ord_" and 32 lower-case hexadecimal digits. */
export const ORDER_ID_PATTERN = /^ord_[0-9a-f]{32}$/;

/** The order page for an order and its access token. */
export function orderLocation(orderId: string, token: string): RouteLocationRaw {
  return { name: "order", params: { orderId }, query: { token } };
}

/** The order id and token in a pasted e-mail link, or undefined when it is not one. */
export function parseOrderLink(text: string): { orderId: string; token: string } | undefined {
  let url: URL;
  try {
    url = new URL(text.trim(), "http://pasar.invalid");
  } catch {
    return undefined;
  }
  const match = /\/orders\/([^/]+)\/?$/.exec(url.pathname);
  const orderId = match?.[1] === undefined ? "" : decodeURIComponent(match[1]);
  const token = url.searchParams.get("token") ?? "";
  if (!ORDER_ID_PATTERN.test(orderId) || token === "") return undefined;
  return { orderId, token };
}
