/**
 * The catalog's words in the shopper's language. The contracts carry each name and
 * description in Indonesian (the shop's language) and, beside it, in English; an empty
 * English text means the Indonesian one serves in English too, so nothing shows blank.
 */
import type { Category, Package, Product } from "@pasar/contracts/pasar/product/v1/product_pb";

import type { Locale } from "./index";

/** The text for a language: the English one in English when there is one, else the Indonesian. */
export function inLanguage(indonesian: string, english: string, locale: Locale): string {
  return locale === "en" && english.trim() !== "" ? english : indonesian;
}

export function categoryName(category: Pick<Category, "displayName" | "displayNameEn">, locale: Locale): string {
  return inLanguage(category.displayName, category.displayNameEn, locale);
}

export function productName(product: Pick<Product, "displayName" | "displayNameEn">, locale: Locale): string {
  return inLanguage(product.displayName, product.displayNameEn, locale);
}

export function productDescription(product: Pick<Product, "description" | "descriptionEn">, locale: Locale): string {
  return inLanguage(product.description, product.descriptionEn, locale);
}

export function packageName(item: Pick<Package, "displayName" | "displayNameEn">, locale: Locale): string {
  return inLanguage(item.displayName, item.displayNameEn, locale);
}

export function packageDescription(item: Pick<Package, "description" | "descriptionEn">, locale: Locale): string {
  return inLanguage(item.description, item.descriptionEn, locale);
}
