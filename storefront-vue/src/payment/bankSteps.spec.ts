import { describe, expect, it } from "vitest";

import { LOCALES } from "@/i18n";

import { hasBankSteps, retailOutletSteps, virtualAccountGuides } from "./bankSteps";

// The demo channels' banks and stores (svc-payment's seed, migrations/002_payment_channels.py).
const DEMO_BANKS = ["BCA", "BNI", "BRI", "Mandiri", "Permata"];
const DEMO_STORES = ["Alfamart", "Indomaret"];
const facts = (bankName: string) => ({
  bankName,
  accountNumber: "8808123456789012",
  accountName: "PASAR SANDBOX",
  total: "Rp\u00a027.000",
});

describe("a virtual account's steps", () => {
  it("cover ATM, mobile and internet banking at each demo bank, in both languages, with the facts filled in", () => {
    for (const bank of DEMO_BANKS) {
      expect(hasBankSteps(bank), bank).toBe(true);
      for (const locale of LOCALES) {
        const guides = virtualAccountGuides(facts(bank), locale);
        expect(guides.map((guide) => guide.method)).toEqual(["atm", "mobile", "internet"]);
        for (const guide of guides) {
          const text = guide.steps.join(" ");
          expect(text, `${bank} ${guide.method} ${locale}`).toContain("8808123456789012");
          expect(text, `${bank} ${guide.method} ${locale}`).toContain("Rp\u00a027.000");
          expect(`${guide.title} ${text}`, `${bank} ${guide.method} ${locale}`).not.toMatch(/\{\w+\}/);
        }
      }
    }
  });

  it("name the bank's own menus and apps", () => {
    const [atm, mobile, internet] = virtualAccountGuides(facts("BCA"), "id");
    expect(atm?.title).toBe("ATM BCA");
    expect(atm?.steps[1]).toBe("Pilih Transaksi Lainnya > Transfer > ke Rek BCA Virtual Account.");
    expect(mobile?.title).toBe("BCA mobile (m-BCA)");
    expect(internet?.title).toBe("KlikBCA");
    expect(virtualAccountGuides(facts("BRI"), "en")[1]?.title).toBe("BRImo");
    // Mandiri asks for the company code: the number's first five digits.
    expect(virtualAccountGuides(facts("Mandiri"), "id")[0]?.steps.join(" ")).toContain("kode perusahaan 88081");
  });

  it("hold at any other bank", () => {
    expect(hasBankSteps("CIMB Niaga")).toBe(false);
    const [atm] = virtualAccountGuides(facts("CIMB Niaga"), "en");
    expect(atm?.title).toBe("CIMB Niaga ATM");
    expect(atm?.steps.join(" ")).toContain("8808123456789012");
  });
});

describe("a retail outlet's steps", () => {
  it("say what to tell the cashier, with the code and the total, at each demo store and any other", () => {
    for (const outletName of [...DEMO_STORES, "Lawson"]) {
      for (const locale of LOCALES) {
        const steps = retailOutletSteps({ outletName, paymentCode: "PASAR123456789", total: "Rp\u00a027.000" }, locale);
        const text = steps.join(" ");
        expect(text).toContain("PASAR123456789");
        expect(text).toContain("Rp\u00a027.000");
        expect(text).not.toMatch(/\{\w+\}/);
      }
    }
    expect(retailOutletSteps({ outletName: "Indomaret", paymentCode: "PASAR1", total: "Rp\u00a01" }, "id")[1]).toBe(
      "Katakan kepada kasir: “Saya mau bayar tagihan Pasar, kode pembayarannya PASAR1.”",
    );
  });
});
