/**
 * The storefront's two languages, Indonesian (the default) and English, and the
 * shopper's choice of one, remembered in localStorage across visits.
 */
import { ref, type Ref } from "vue";

import { en } from "./en";
import { id, type MessageKey } from "./id";

export type { MessageKey } from "./id";

/** A language the storefront speaks; also the order's language_code for its e-mails. */
export type Locale = "id" | "en";

export const LOCALES: readonly Locale[] = ["id", "en"];
export const DEFAULT_LOCALE: Locale = "id";
const STORAGE_KEY = "pasar.locale";

const catalogs: Record<Locale, Record<MessageKey, string>> = { id, en };

/** Values put into a message's {placeholders}. */
export type MessageParams = Record<string, string | number | bigint>;

function isLocale(value: unknown): value is Locale {
  return value === "id" || value === "en";
}

function storedLocale(): Locale {
  try {
    const stored = globalThis.localStorage?.getItem(STORAGE_KEY);
    return isLocale(stored) ? stored : DEFAULT_LOCALE;
  } catch {
    return DEFAULT_LOCALE; // storage can be disabled; the default language still works
  }
}

/** The current language, shared by the whole app. */
export const currentLocale: Ref<Locale> = ref(storedLocale());

/** Switches the language, remembers it, and tells the document (for screen readers). */
export function setLocale(locale: Locale): void {
  currentLocale.value = locale;
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, locale);
  } catch {
    // storage can be disabled: the choice then lasts for this visit only
  }
  if (typeof document !== "undefined") document.documentElement.lang = locale;
}

/**
 * A message's form for a count: "one|other" messages (English "1 package|2 packages")
 * pick by the language's plural rules; messages without "|" have one form.
 */
function pluralForm(locale: Locale, template: string, count: MessageParams[string] | undefined): string {
  const [one, other] = template.split("|");
  if (other === undefined || one === undefined || count === undefined) return template;
  return new Intl.PluralRules(intlLocale(locale)).select(Number(count)) === "one" ? one : other;
}

/**
 * A message's text in a language, its form picked by {count} and its {placeholders}
 * filled in (an unknown one stays visible). The one way every message module (this
 * catalog, the payment page's, home's) turns a template into words.
 */
export function fillMessage(locale: Locale, template: string, params: MessageParams = {}): string {
  return pluralForm(locale, template, params.count).replace(/\{(\w+)\}/g, (placeholder, name: string) => {
    const value = params[name];
    return value === undefined ? placeholder : String(value);
  });
}

/** A message in a language, with its {placeholders} filled in. */
export function translate(locale: Locale, key: MessageKey, params: MessageParams = {}): string {
  return fillMessage(locale, catalogs[locale][key], params);
}

/** The BCP 47 tag for dates and numbers in a language. */
export function intlLocale(locale: Locale): string {
  return locale === "id" ? "id-ID" : "en-GB";
}
