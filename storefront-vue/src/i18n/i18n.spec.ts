import { afterEach, describe, expect, it } from "vitest";

import { en } from "./en";
import { id } from "./id";
import { currentLocale, setLocale, translate } from "./index";

afterEach(() => setLocale("id"));

describe("the storefront's messages", () => {
  it("say the study's words in Indonesian", () => {
    expect(translate("id", "order.buy")).toBe("Beli");
    expect(translate("id", "order.choosePackage")).toBe("Pilih paket");
    expect(translate("id", "payment.details")).toBe("Detail Pembayaran");
    expect(translate("id", "payment.transaction")).toBe("Detail Transaksi");
    expect(translate("id", "order.unavailable")).toMatch(/^Pemesanan sedang tidak tersedia/);
    expect(translate("en", "order.unavailable")).toMatch(/^Ordering is unavailable right now/);
  });

  it("say the words local shops use, in both languages", () => {
    const words: [Parameters<typeof translate>[1], string, string][] = [
      ["order.chooseChannel", "Pilih metode pembayaran", "Choose a payment method"],
      ["payment.channel", "Metode pembayaran", "Payment method"],
      ["order.summaryFee", "Biaya admin", "Admin fee"],
      ["transaction.fee", "Biaya admin", "Admin fee"],
      ["order.total", "Total bayar", "Total"],
      ["payment.totalToPay", "Total bayar", "Total"],
      ["transaction.total", "Total bayar", "Total"],
      ["transaction.orderId", "Nomor pesanan", "Order number"],
      ["nav.lookup", "Cek pesanan", "Check order"],
      ["payment.payBefore", "Bayar sebelum", "Pay before"],
    ];
    for (const [key, indonesian, english] of words) {
      expect(translate("id", key), key).toBe(indonesian);
      expect(translate("en", key), key).toBe(english);
    }
    expect(translate("id", "order.fee", { amount: "Rp 4.000" })).toBe("Biaya admin Rp 4.000");
    for (const catalog of [id, en]) {
      for (const [key, text] of Object.entries(catalog)) expect(text, key).not.toMatch(/[Cc]hannel (pembayaran|fee)|payment channel/);
    }
  });

  it("have every message in both languages, none empty", () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(id).sort());
    for (const catalog of [id, en]) {
      for (const [key, text] of Object.entries(catalog)) expect(text.trim(), key).not.toBe("");
    }
  });

  it("are each said somewhere in the storefront", () => {
    // The sources that say messages: t("key"), or `order.${refusal}` (apiErrors), whose
    // keys the compiler holds to the catalog.
    const sources = import.meta.glob<string>(["/src/**/*.{ts,vue}", "!/src/**/*.spec.ts", "!/src/i18n/id.ts", "!/src/i18n/en.ts"], {
      query: "?raw",
      import: "default",
      eager: true,
    });
    expect(Object.keys(sources)).toContain("/src/views/HomeView.vue");
    const text = Object.values(sources).join("\n");
    const composed = ["order.packageGone", "order.destinationRefused"];
    const unused = Object.keys(id).filter(
      (key) => !composed.includes(key) && !text.includes(`"${key}"`) && !text.includes(`'${key}'`),
    );
    expect(unused).toEqual([]);
  });

  it("fill in placeholders, and leave unknown ones visible", () => {
    expect(translate("id", "order.stock", { count: 12 })).toBe("Stok 12");
    expect(translate("en", "common.copied", { what: "Payment code" })).toBe("Payment code copied");
    expect(translate("en", "order.title")).toBe("Buy {product}");
  });

  it("choose English plural forms by count", () => {
    expect(translate("en", "home.packageCount", { count: 1 })).toBe("1 package");
    expect(translate("en", "home.packageCount", { count: 5 })).toBe("5 packages");
    expect(translate("id", "home.packageCount", { count: 1 })).toBe("1 paket");
  });

  it("remember the chosen language and tell the document", () => {
    setLocale("en");
    expect(currentLocale.value).toBe("en");
    expect(localStorage.getItem("pasar.locale")).toBe("en");
    expect(document.documentElement.lang).toBe("en");
  });
});
