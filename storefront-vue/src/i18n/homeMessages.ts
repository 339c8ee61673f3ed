/**
 * What home's shelves and lists say beyond the shop-wide catalogs (id.ts/en.ts), in both
 * languages: a shelf's "Lihat semua" link, and a list's count while more pages remain.
 */
import { currentLocale, fillMessage, type Locale, type MessageParams } from "./index";

const id = {
  "home.seeAll": "Lihat semua",
  /** Read after "Lihat semua" by screen readers only, so each shelf's link names its category. */
  "home.seeAllCategory": "produk {category}",
  "home.firstResults": "{count} produk pertama ditampilkan",
} as const;

export type HomeMessageKey = keyof typeof id;

const en: Record<HomeMessageKey, string> = {
  "home.seeAll": "See all",
  "home.seeAllCategory": "{category} products",
  "home.firstResults": "Showing the first {count} products",
};

export const homeCatalogs: Record<Locale, Record<HomeMessageKey, string>> = { id, en };

/** A message of this module in a language, with its {placeholders} filled in. */
export function homeText(locale: Locale, key: HomeMessageKey, params: MessageParams = {}): string {
  return fillMessage(locale, homeCatalogs[locale][key], params);
}

/** Home's own messages in the current language. */
export function useHomeMessages(): { ht: (key: HomeMessageKey, params?: MessageParams) => string } {
  return { ht: (key, params) => homeText(currentLocale.value, key, params) };
}
