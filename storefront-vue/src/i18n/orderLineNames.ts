/**
 * An order line's product and package names in the shopper's language: the English
 * snapshots the order kept (contracts v1.3) in English mode, the Indonesian otherwise and
 * whenever the English one is empty (orders from before v1.3, products without one): the
 * catalog's rule (catalogText's inLanguage), applied to the order's snapshots.
 */
import type { OrderLine } from "@pasar/contracts/pasar/order/v1/order_pb";

import { inLanguage } from "./catalogText";
import type { Locale } from "./index";

type Names = Pick<OrderLine, "productDisplayName" | "productDisplayNameEn" | "packageDisplayName" | "packageDisplayNameEn">;

export function lineProductName(line: Names, locale: Locale): string {
  return inLanguage(line.productDisplayName, line.productDisplayNameEn, locale);
}

export function linePackageName(line: Names, locale: Locale): string {
  return inLanguage(line.packageDisplayName, line.packageDisplayNameEn, locale);
}
