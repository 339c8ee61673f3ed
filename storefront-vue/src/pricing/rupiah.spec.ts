import { create } from "@bufbuild/protobuf";
import { MoneySchema } from "@pasar/contracts/pasar/common/v1/money_pb";
import { describe, expect, it } from "vitest";

import { formatMoney, formatPriceRange, formatRupiah } from "./rupiah";

/** Intl separates "Rp" from the amount with a no-break space. */
const rp = (digits: string): string => `Rp\u00a0${digits}`;
const idr = (amount: bigint) => create(MoneySchema, { currencyCode: "IDR", amount });

describe("Rupiah formatting", () => {
  it("writes Rp with dots for thousands and no decimals", () => {
    expect(formatRupiah(15000n)).toBe(rp("15.000"));
    expect(formatRupiah(0n)).toBe(rp("0"));
    expect(formatRupiah(999n)).toBe(rp("999"));
    expect(formatRupiah(1250000n)).toBe(rp("1.250.000"));
  });

  it("keeps every digit of amounts beyond a float's precision", () => {
    expect(formatRupiah(9007199254740993n)).toBe(rp("9.007.199.254.740.993"));
  });

  it("formats Money, an unset Money reading as zero", () => {
    expect(formatMoney(idr(27000n))).toBe(rp("27.000"));
    expect(formatMoney(undefined)).toBe(rp("0"));
  });

  it("writes a price range, or one price when both ends are equal", () => {
    expect(formatPriceRange(idr(5000n), idr(100000n))).toBe(`${rp("5.000")} – ${rp("100.000")}`);
    expect(formatPriceRange(idr(5000n), idr(5000n))).toBe(rp("5.000"));
    expect(formatPriceRange(idr(5000n), undefined)).toBe(rp("5.000"));
  });
});
