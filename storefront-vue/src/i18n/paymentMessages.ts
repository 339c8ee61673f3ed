/**
 * What the payment page says about the order's number, its one deadline and how to pay,
 * in both languages. Kept beside the shop-wide catalogs (id.ts, en.ts) so that the page's
 * words change with the page; the same rules hold: Indonesian first, English for every
 * key, {placeholders}, and "one|other" forms picked by {count}.
 */
import { currentLocale, fillMessage, type Locale, type MessageParams } from "./index";

const id = {
  "order.numberHint": "Sebutkan nomor ini bila menghubungi kami.",
  "order.id": "ID pesanan",
  "order.title": "Pembayaran {order}",
  "deadline.window": "Bayar dalam {window}",
  "deadline.timeLeft": "Sisa waktu",
  "deadline.hours": "{count} jam",
  "deadline.minutes": "{count} menit",
  "deadline.seconds": "{count} detik",
  "status.paymentUnreachable":
    "Layanan pembayaran sedang tidak dapat dihubungi: status pembayaran mungkin terlambat diperbarui. Petunjuk di bawah tetap berlaku.",
  "va.guides": "Cara membayar",
  "va.guidesIntro": "Pilih cara Anda membayar untuk melihat langkahnya.",
  "qris.save": "Simpan QR",
  "qris.saveHint":
    "Membayar dari ponsel ini? Simpan gambar QR, lalu pilih gambar itu dari galeri di aplikasi bank atau e-wallet Anda.",
  "qris.fileName": "QRIS-{order}.png",
  "ewallet.openApp": "Buka aplikasi {wallet}",
  "ewallet.linkHint": "Setujui pembayaran di aplikasi {wallet} sebelum {time}.",
  "ewallet.pushSent":
    "Kami mengirim permintaan pembayaran ke akun {wallet} {phone}: buka aplikasi {wallet} dan setujui sebelum {time}.",
  "ewallet.pushMissing": "Tidak ada notifikasi? Buka aplikasi {wallet} dan periksa menu notifikasi atau transaksi tertunda.",
  "ewallet.noApp": "Buka aplikasi {wallet} di ponsel Anda dan selesaikan pembayaran sebelum {time}.",
  "ewallet.sandbox":
    "Toko demo ini tidak terhubung ke aplikasi {wallet}, jadi tidak ada yang perlu dibuka. Tekan “Simulasikan pembayaran” di bawah untuk mencoba membayar.",
  "ewallet.sandboxPush":
    "Di toko demo ini tidak ada permintaan yang benar-benar dikirim ke {wallet}. Tekan “Simulasikan pembayaran” di bawah untuk mencoba membayar.",
  "retail.steps": "Di kasir",
} as const;

export type PaymentMessageKey = keyof typeof id;

const en: Record<PaymentMessageKey, string> = {
  "order.numberHint": "Quote this number when you contact us.",
  "order.id": "Order ID",
  "order.title": "Payment {order}",
  "deadline.window": "Pay within {window}",
  "deadline.timeLeft": "Time left",
  "deadline.hours": "1 hour|{count} hours",
  "deadline.minutes": "1 minute|{count} minutes",
  "deadline.seconds": "1 second|{count} seconds",
  "status.paymentUnreachable":
    "The payment service cannot be reached right now: the payment's status may be late. The instructions below still hold.",
  "va.guides": "How to pay",
  "va.guidesIntro": "Choose how you pay to see its steps.",
  "qris.save": "Save QR",
  "qris.saveHint":
    "Paying from this phone? Save the QR image, then pick it from the gallery in your bank or e-wallet app.",
  "qris.fileName": "QRIS-{order}.png",
  "ewallet.openApp": "Open the {wallet} app",
  "ewallet.linkHint": "Approve the payment in the {wallet} app before {time}.",
  "ewallet.pushSent":
    "We sent a payment request to your {wallet} account {phone}: open the {wallet} app and approve it before {time}.",
  "ewallet.pushMissing": "No notification? Open the {wallet} app and look under notifications or pending transactions.",
  "ewallet.noApp": "Open the {wallet} app on your phone and complete the payment before {time}.",
  "ewallet.sandbox":
    "This demo shop is not connected to a {wallet} app, so there is nothing to open. Press “Simulate payment” below to try paying.",
  "ewallet.sandboxPush":
    "In this demo shop no request actually reaches {wallet}. Press “Simulate payment” below to try paying.",
  "retail.steps": "At the cashier",
};

export const paymentCatalogs: Readonly<Record<Locale, Readonly<Record<PaymentMessageKey, string>>>> = { id, en };

/** A payment-page message in a language, with its {placeholders} filled in. */
export function paymentText(locale: Locale, key: PaymentMessageKey, params: MessageParams = {}): string {
  return fillMessage(locale, paymentCatalogs[locale][key], params);
}

/**
 * A payment window in words: "24 jam", "15 menit", "1 jam 30 menit" / "24 hours". Whole
 * minutes: the order's window starts a moment before its payment's.
 */
export function paymentWindow(locale: Locale, milliseconds: number): string {
  const minutes = Math.max(0, Math.round(milliseconds / 60_000));
  if (minutes === 0) return paymentText(locale, "deadline.seconds", { count: Math.max(0, Math.round(milliseconds / 1000)) });
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  const parts: string[] = [];
  if (hours > 0) parts.push(paymentText(locale, "deadline.hours", { count: hours }));
  if (rest > 0) parts.push(paymentText(locale, "deadline.minutes", { count: rest }));
  return parts.join(" ");
}

/** paymentText in the shopper's current language, for components. */
export function usePaymentText(): (key: PaymentMessageKey, params?: MessageParams) => string {
  return (key, params) => paymentText(currentLocale.value, key, params);
}
