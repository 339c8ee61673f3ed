import { ErrorReason as CommonReason } from "@pasar/contracts/pasar/common/v1/error_reason_pb";
import { ErrorReason as PaymentReason } from "@pasar/contracts/pasar/payment/v1/error_reason_pb";
import { ErrorReason as ProductReason } from "@pasar/contracts/pasar/product/v1/error_reason_pb";
import { describe, expect, it } from "vitest";

import { ApiError } from "@/api/http";

import { createOrderErrorMessage, type OrderContext } from "./apiErrors";
import { translate } from "./index";

const names: Record<string, string> = { bca_va: "BCA Virtual Account", ovo: "OVO" };
const context = (amount?: bigint): OrderContext => ({ amount, channelName: (code) => names[code] });

function say(error: ApiError, amount?: bigint, locale: "id" | "en" = "id"): string {
  const message = createOrderErrorMessage(error, context(amount));
  return translate(locale, message.key, message.params);
}

function outOfRange(): ApiError {
  return new ApiError(422, "FAILED_PRECONDITION", "out of range", {
    reason: PaymentReason[PaymentReason.AMOUNT_OUT_OF_RANGE],
    metadata: { channel_code: "bca_va", min_amount: "10000", max_amount: "50000000" },
  });
}

describe("what a refused Beli says", () => {
  it("names the channel's minimum for an amount below it, and its maximum above it", () => {
    expect(say(outOfRange(), 6500n)).toBe(
      "BCA Virtual Account hanya menerima pembayaran minimal Rp\u00a010.000. Tambah jumlah atau pilih metode pembayaran lain.",
    );
    expect(say(outOfRange(), 60_000_000n, "en")).toBe(
      "BCA Virtual Account only takes payments of at most Rp\u00a050.000.000. Buy less or choose another payment method.",
    );
  });

  it("asks for the e-wallet's phone number by the wallet's name", () => {
    const error = new ApiError(400, "INVALID_ARGUMENT", "phone required", {
      reason: PaymentReason[PaymentReason.PAYER_PHONE_NUMBER_REQUIRED],
      metadata: { channel_code: "ovo" },
    });
    expect(say(error)).toBe("Isi nomor HP akun OVO Anda untuk membayar dengan OVO.");
  });

  it("says how long to wait when rate limited", () => {
    const error = new ApiError(429, "RESOURCE_EXHAUSTED", "slow down", {
      reason: CommonReason[CommonReason.RATE_LIMITED],
      metadata: { retry_after_seconds: "30" },
    });
    expect(say(error)).toBe("Terlalu banyak pesanan dalam waktu singkat. Tunggu 30 detik, lalu coba lagi.");
    const oneSecond = new ApiError(429, "RESOURCE_EXHAUSTED", "slow down", {
      reason: CommonReason[CommonReason.RATE_LIMITED],
      metadata: { retry_after_seconds: "1" },
    });
    expect(say(oneSecond, undefined, "en")).toBe("Too many orders in a short time. Wait 1 second, then try again.");
    expect(say(error, undefined, "en")).toBe("Too many orders in a short time. Wait 30 seconds, then try again.");
    expect(say(new ApiError(429, "RESOURCE_EXHAUSTED", "slow down"), undefined, "en")).toBe(
      "Too many orders in a short time. Wait a moment, then try again.",
    );
  });

  it("keeps the stock and outage messages", () => {
    const stock = new ApiError(409, "FAILED_PRECONDITION", "out", {
      reason: ProductReason[ProductReason.OUT_OF_STOCK],
      metadata: { available: "2" },
    });
    expect(say(stock)).toContain("tersisa 2");
    expect(say(new ApiError(503, "UNAVAILABLE", "down"))).toMatch(/^Pemesanan sedang tidak tersedia/);
  });
});
