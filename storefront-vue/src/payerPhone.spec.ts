import { describe, expect, it } from "vitest";

import { isPayerPhoneNumber, PAYER_PHONE_PATTERN, payerPhoneNumber } from "./payerPhone";

describe("the e-wallet's phone number", () => {
  it("is checked with the contract's pattern", () => {
    expect(PAYER_PHONE_PATTERN.source).toBe("^((\\+62|62|0)8[0-9]{7,12})?$");
  });

  it("takes the ways Indonesians write a mobile number", () => {
    for (const typed of ["081234567890", "+6281234567890", "6281234567890", "0812-3456-7890", " 0812 3456 7890 ", "081234567"]) {
      expect(isPayerPhoneNumber(typed), typed).toBe(true);
    }
    expect(payerPhoneNumber("0812-3456 7890")).toBe("081234567890");
  });

  it("refuses what is not one", () => {
    for (const typed of ["", "0812345", "021234567890", "81234567890", "0812345678901234", "0812abc67890", "+1 415 555 0100"]) {
      expect(isPayerPhoneNumber(typed), typed).toBe(false);
    }
  });
});
