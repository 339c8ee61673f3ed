import { describe, expect, it } from "vitest";

import { en } from "./en";
import { id } from "./id";
import { lookupCatalogs, lookupText, waitDuration } from "./lookupMessages";

describe("the order lookup's messages", () => {
  it("have every message in both languages, none empty", () => {
    expect(Object.keys(lookupCatalogs.en).sort()).toEqual(Object.keys(lookupCatalogs.id).sort());
    for (const catalog of Object.values(lookupCatalogs)) {
      for (const [key, text] of Object.entries(catalog)) expect(text.trim(), key).not.toBe("");
    }
  });

  it("use the shop's words for the page and its link", () => {
    expect(lookupText("id", "lookup.title")).toBe(id["nav.lookup"]);
    expect(lookupText("en", "lookup.title")).toBe(en["nav.lookup"]);
    expect(lookupText("id", "lookup.orderNumber")).toBe("Nomor pesanan");
    expect(lookupText("en", "lookup.orderNumber")).toBe("Order number");
  });

  it("pick English plural forms by count", () => {
    expect(lookupText("en", "nav.recentCount", { count: 1 })).toBe("1 saved order");
    expect(lookupText("en", "nav.recentCount", { count: 3 })).toBe("3 saved orders");
    expect(lookupText("id", "nav.recentCount", { count: 1 })).toBe("1 pesanan tersimpan");
  });

  it("fill in placeholders", () => {
    expect(lookupText("id", "lookup.linkHint", { origin: "https://pasar.example" })).toBe(
      "Tempel tautan lengkapnya, misalnya https://pasar.example/orders/ord_…?token=…",
    );
  });

  it("say how long to wait in minutes, or seconds under a minute", () => {
    expect(waitDuration(900, "id")).toBe("15 menit");
    expect(waitDuration(61, "en")).toBe("2 minutes");
    expect(waitDuration(60, "en")).toBe("1 minute");
    expect(waitDuration(40, "id")).toBe("40 detik");
    expect(waitDuration(0.2, "en")).toBe("1 second");
  });
});
