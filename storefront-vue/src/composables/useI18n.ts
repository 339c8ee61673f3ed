/** The components' access to the current language: messages, dates and percentages. */
import { computed, type ComputedRef, type Ref } from "vue";

import { currentLocale, intlLocale, setLocale, translate, type Locale, type MessageKey, type MessageParams } from "@/i18n";

/**
 * The shop's time zone. Shoppers read every time in Western Indonesian Time, labelled
 * "WIB" as the e-mails write it, whatever zone their device is set to: a deadline shown
 * in the device's zone would disagree with the e-mail and with what support says.
 */
export const SHOP_TIME_ZONE = "Asia/Jakarta";
export const SHOP_TIME_ZONE_LABEL = "WIB";

export interface I18n {
  locale: Ref<Locale>;
  setLocale: (locale: Locale) => void;
  t: (key: MessageKey, params?: MessageParams) => string;
  /** "5 Des 2026, 14.30 WIB" / "5 Dec 2026, 14:30 WIB". */
  formatDateTime: (date: Date) => string;
  /** "14.30 WIB" / "14:30 WIB": a time later today, such as an e-wallet's deadline. */
  formatTime: (date: Date) => string;
  /** The time alone when the date is today in Jakarta (now), else the date and the time. */
  formatSoon: (date: Date, now?: Date) => string;
  formatPercentBps: (basisPoints: number) => string;
  intl: ComputedRef<string>;
}

/** A date and time in the shop's zone, in a language's words, labelled WIB. */
export function formatShopDateTime(date: Date, intl: string): string {
  const text = new Intl.DateTimeFormat(intl, {
    dateStyle: "medium",
    timeStyle: "short",
    hourCycle: "h23",
    timeZone: SHOP_TIME_ZONE,
  }).format(date);
  return `${text} ${SHOP_TIME_ZONE_LABEL}`;
}

/** A time of day in the shop's zone, labelled WIB. */
export function formatShopTime(date: Date, intl: string): string {
  const text = new Intl.DateTimeFormat(intl, {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZone: SHOP_TIME_ZONE,
  }).format(date);
  return `${text} ${SHOP_TIME_ZONE_LABEL}`;
}

/** Whether two instants fall on the same day in the shop's zone. */
export function sameShopDay(first: Date, second: Date): boolean {
  const day = new Intl.DateTimeFormat("en-CA", { dateStyle: "short", timeZone: SHOP_TIME_ZONE });
  return day.format(first) === day.format(second);
}

/** The instant in the shop's zone as ISO 8601 with its offset, for a <time datetime>. */
export function shopIsoDateTime(date: Date): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
      timeZone: SHOP_TIME_ZONE,
    })
      .formatToParts(date)
      .map((part) => [part.type, part.value]),
  );
  // Asia/Jakarta has kept +07:00 since 1964, without daylight saving.
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}+07:00`;
}

export function useI18n(): I18n {
  const intl = computed(() => intlLocale(currentLocale.value));
  return {
    locale: currentLocale,
    setLocale,
    t: (key, params) => translate(currentLocale.value, key, params),
    formatDateTime: (date) => formatShopDateTime(date, intl.value),
    formatTime: (date) => formatShopTime(date, intl.value),
    formatSoon: (date, now = new Date()) =>
      sameShopDay(date, now) ? formatShopTime(date, intl.value) : formatShopDateTime(date, intl.value),
    // Basis points (hundredths of a percent) to "0,7%" or "0.7%"; display only, never money.
    formatPercentBps: (basisPoints) =>
      new Intl.NumberFormat(intl.value, { style: "percent", maximumFractionDigits: 2 }).format(basisPoints / 10_000),
    intl,
  };
}
