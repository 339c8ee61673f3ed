import { describe, expect, it } from "vitest";

import { usableWalletLink } from "./walletLink";

describe("an e-wallet's checkout link", () => {
  it("is shown when it opens an app or a real page", () => {
    expect(usableWalletLink("gojek://gopay/pay?ref=ABC")).toBe("gojek://gopay/pay?ref=ABC");
    expect(usableWalletLink("https://app.midtrans.com/snap/v3/redirection/abc")).toBe(
      "https://app.midtrans.com/snap/v3/redirection/abc",
    );
  });

  it("opens an app whatever word its scheme uses for a host", () => {
    // A custom scheme's host is the app's own word, not a DNS name: never judged as one.
    for (const link of ["ovo://test/payment?id=1", "dana://local/pay", "shopeeid://localhost/pay", "myapp://example.com/x"]) {
      expect(usableWalletLink(link), link).toBe(link);
    }
  });

  it("is never a placeholder, a script or nothing", () => {
    for (const link of [
      "",
      "  ",
      "https://sandbox.pasar.test/checkout/gopay/SBX1",
      "https://example.com/pay",
      "https://pay.example.org/x",
      "http://localhost:8080/pay",
      "http://127.0.0.1:8080/checkout/ovo",
      "http://[::1]/pay",
      "https://pay.example.com./x",
      "https://wallet.invalid/",
      "javascript:alert(1)",
      "data:text/html,hi",
      "/relative/path",
    ]) {
      expect(usableWalletLink(link), link).toBeUndefined();
    }
  });
});
