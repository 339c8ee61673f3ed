/** The components' access to the current language: messages, dates and percentages. */
import { computed, type ComputedRef, type Ref } from "vue";

import { currentLocale, intlLocale, setLocale, translate, type Locale, type MessageKey, type MessageParams } from "@/i18n";

export interface I18n {
  locale: Ref<Locale>;
  setLocale: (locale: Locale) => void;
  t: (key: MessageKey, params?: MessageParams) => string;
  formatDateTime: (date: Date) => string;
  formatPercentBps: (basisPoints: number) => string;
  intl: ComputedRef<string>;
}

export function useI18n(): I18n {
  const intl = computed(() => intlLocale(currentLocale.value));
  return {
    locale: currentLocale,
    setLocale,
    t: (key, params) => translate(currentLocale.value, key, params),
    formatDateTime: (date) =>
      new Intl.DateTimeFormat(intl.value, { dateStyle: "medium", timeStyle: "short" }).format(date),
    // Basis points (hundredths of a percent) to "0,7%" or "0.7%"; display only, never money.
    formatPercentBps: (basisPoints) =>
      new Intl.NumberFormat(intl.value, { style: "percent", maximumFractionDigits: 2 }).format(basisPoints / 10_000),
    intl,
  };
}
