/**
 * What "Cek pesanan" (the order lookup page) and the recent orders on this device say, in
 * both languages. Kept apart from id.ts/en.ts so that this page's words change without
 * touching the shop-wide catalogs; the words the shop shares ("Cek pesanan", "Nomor
 * pesanan") are the same here as there.
 */
import { currentLocale, fillMessage, intlLocale, type Locale, type MessageParams } from "./index";

const id = {
  "lookup.title": "Cek pesanan",
  "lookup.intro": "Masukkan nomor pesanan dan e-mail atau nomor HP yang Anda pakai saat memesan.",
  "lookup.byNumber": "Cari dengan nomor pesanan",
  "lookup.orderNumber": "Nomor pesanan",
  "lookup.orderNumberHint": "Tertulis di e-mail dan halaman pembayaran, misalnya PSR-7K3M9Q.",
  "lookup.contact": "E-mail atau nomor HP",
  "lookup.contactHint": "E-mail yang dipakai saat memesan, atau nomor HP/nomor tujuan pada pesanan.",
  "lookup.find": "Cari pesanan",
  "lookup.finding": "Mencari…",
  "lookup.orderNumberRequired": "Masukkan nomor pesanan.",
  "lookup.orderNumberInvalid":
    "Nomor pesanan berbentuk PSR- lalu 6 huruf atau angka, misalnya PSR-7K3M9Q (tanpa huruf O, I, L, U dan angka 0, 1).",
  "lookup.contactRequired": "Masukkan e-mail atau nomor HP yang dipakai saat memesan.",
  "lookup.contactTooLong": "E-mail atau nomor HP paling panjang {max} karakter.",
  "lookup.notFound":
    "Pesanan tidak ditemukan. Periksa nomor pesanan, dan pakai e-mail atau nomor HP yang sama seperti saat memesan.",
  "lookup.rateLimited": "Terlalu banyak percobaan. Coba lagi dalam {wait}.",
  "lookup.rateLimitedSoon": "Terlalu banyak percobaan. Tunggu sebentar, lalu coba lagi.",
  "lookup.unavailable": "Cek pesanan sedang tidak tersedia. Coba lagi sebentar lagi.",
  "lookup.failed": "Pesanan tidak dapat dicari sekarang. Coba lagi.",
  "lookup.byLink": "Dengan tautan dari e-mail",
  "lookup.link": "Tautan dari e-mail",
  "lookup.linkHint": "Tempel tautan lengkapnya, misalnya {origin}/orders/ord_…?token=…",
  "lookup.invalidLink": "Ini bukan tautan pesanan Pasar. Salin tautan lengkap dari e-mail.",
  "lookup.open": "Buka pesanan",
  "lookup.byId": "Dengan ID pesanan dan token",
  "lookup.orderId": "ID pesanan",
  "lookup.orderIdHint": "Diawali ord_, ada pada tautan di e-mail pesanan.",
  "lookup.token": "Token",
  "lookup.tokenHint": "Bagian setelah token= pada tautan di e-mail.",
  "lookup.invalidOrderId": "ID pesanan diawali ord_ lalu 32 huruf a–f atau angka.",
  "lookup.tokenRequired": "Masukkan token dari tautan di e-mail.",
  "recent.title": "Pesanan di perangkat ini",
  "recent.note": "Disimpan hanya di browser ini, tidak dikirim ke server. Hapus bila perangkat ini dipakai bersama.",
  "recent.empty": "Belum ada pesanan yang dibuat atau dicari di perangkat ini.",
  "recent.open": "Buka pesanan {number}",
  "recent.placed": "Dipesan {time}",
  "recent.forget": "Hapus",
  "recent.forgetOne": "Hapus {number} dari perangkat ini",
  "recent.forgetAll": "Hapus semua",
  "recent.forgotten": "{number} dihapus dari perangkat ini.",
  "recent.allForgotten": "Semua pesanan dihapus dari perangkat ini.",
  "recent.noNumber": "Pesanan {id}",
  "nav.recent": "Pesanan saya",
  "nav.recentCount": "{count} pesanan tersimpan",
} as const;

export type LookupMessageKey = keyof typeof id;

const en: Record<LookupMessageKey, string> = {
  "lookup.title": "Check order",
  "lookup.intro": "Enter the order number and the e-mail address or phone number you ordered with.",
  "lookup.byNumber": "Find by order number",
  "lookup.orderNumber": "Order number",
  "lookup.orderNumberHint": "Shown in the e-mails and on the payment page, such as PSR-7K3M9Q.",
  "lookup.contact": "E-mail or phone number",
  "lookup.contactHint": "The e-mail address you ordered with, or the phone or destination number of the order.",
  "lookup.find": "Find order",
  "lookup.finding": "Searching…",
  "lookup.orderNumberRequired": "Enter the order number.",
  "lookup.orderNumberInvalid":
    "An order number is PSR- and 6 letters or digits, such as PSR-7K3M9Q (no letters O, I, L, U and no digits 0, 1).",
  "lookup.contactRequired": "Enter the e-mail address or phone number you ordered with.",
  "lookup.contactTooLong": "The e-mail address or phone number can be at most {max} characters.",
  "lookup.notFound":
    "Order not found. Check the order number, and use the same e-mail address or phone number as when you ordered.",
  "lookup.rateLimited": "Too many attempts. Try again in {wait}.",
  "lookup.rateLimitedSoon": "Too many attempts. Wait a moment, then try again.",
  "lookup.unavailable": "Checking orders is unavailable right now. Try again in a moment.",
  "lookup.failed": "The order cannot be looked up right now. Try again.",
  "lookup.byLink": "With the link from the e-mail",
  "lookup.link": "Link from the e-mail",
  "lookup.linkHint": "Paste the whole link, such as {origin}/orders/ord_…?token=…",
  "lookup.invalidLink": "This is not a Pasar order link. Copy the whole link from the e-mail.",
  "lookup.open": "Open order",
  "lookup.byId": "With the order ID and token",
  "lookup.orderId": "Order ID",
  "lookup.orderIdHint": "Starts with ord_, in the link of the order's e-mails.",
  "lookup.token": "Token",
  "lookup.tokenHint": "The part after token= in the e-mail's link.",
  "lookup.invalidOrderId": "An order ID is ord_ and 32 letters a–f or digits.",
  "lookup.tokenRequired": "Enter the token from the e-mail's link.",
  "recent.title": "Orders on this device",
  "recent.note": "Kept in this browser only, never sent to a server. Remove them if others use this device.",
  "recent.empty": "No orders have been placed or found on this device yet.",
  "recent.open": "Open order {number}",
  "recent.placed": "Ordered {time}",
  "recent.forget": "Remove",
  "recent.forgetOne": "Remove {number} from this device",
  "recent.forgetAll": "Remove all",
  "recent.forgotten": "{number} was removed from this device.",
  "recent.allForgotten": "All orders were removed from this device.",
  "recent.noNumber": "Order {id}",
  "nav.recent": "My orders",
  "nav.recentCount": "{count} saved order|{count} saved orders",
};

export const lookupCatalogs: Record<Locale, Record<LookupMessageKey, string>> = { id, en };

/** A message of this module in a language, with its {placeholders} filled in. */
export function lookupText(locale: Locale, key: LookupMessageKey, params: MessageParams = {}): string {
  return fillMessage(locale, lookupCatalogs[locale][key], params);
}

/** "15 menit" / "15 minutes", "40 detik" / "40 seconds": how long to wait, rounded up. */
export function waitDuration(seconds: number, locale: Locale): string {
  const inMinutes = seconds >= 60;
  const value = inMinutes ? Math.ceil(seconds / 60) : Math.max(1, Math.ceil(seconds));
  return new Intl.NumberFormat(intlLocale(locale), {
    style: "unit",
    unit: inMinutes ? "minute" : "second",
    unitDisplay: "long",
  }).format(value);
}

/** The lookup page's messages in the current language. */
export function useLookupMessages(): {
  lt: (key: LookupMessageKey, params?: MessageParams) => string;
  wait: (seconds: number) => string;
} {
  return {
    lt: (key, params) => lookupText(currentLocale.value, key, params),
    wait: (seconds) => waitDuration(seconds, currentLocale.value),
  };
}
