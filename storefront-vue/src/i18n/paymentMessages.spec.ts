import { describe, expect, it } from "vitest";

import { paymentCatalogs, paymentText, paymentWindow } from "./paymentMessages";

describe("the payment page's messages", () => {
  it("have every message in both languages, none empty", () => {
    expect(Object.keys(paymentCatalogs.en).sort()).toEqual(Object.keys(paymentCatalogs.id).sort());
    for (const catalog of Object.values(paymentCatalogs)) {
      for (const [key, text] of Object.entries(catalog)) expect(text.trim(), key).not.toBe("");
    }
  });

  it("use the shop's words", () => {
    expect(paymentText("id", "deadline.window", { window: "24 jam" })).toBe("Bayar dalam 24 jam");
    expect(paymentText("en", "deadline.window", { window: "24 hours" })).toBe("Pay within 24 hours");
  });

  it("write a payment window in hours and minutes", () => {
    expect(paymentWindow("id", 24 * 3_600_000)).toBe("24 jam");
    expect(paymentWindow("id", 48 * 3_600_000 - 150)).toBe("48 jam"); // the order began a moment earlier
    expect(paymentWindow("id", 15 * 60_000)).toBe("15 menit");
    expect(paymentWindow("id", 90 * 60_000)).toBe("1 jam 30 menit");
    expect(paymentWindow("en", 3_600_000)).toBe("1 hour");
    expect(paymentWindow("en", 30 * 60_000)).toBe("30 minutes");
    expect(paymentWindow("en", 20_000)).toBe("20 seconds");
  });
});
