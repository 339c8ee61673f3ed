import { create } from "@bufbuild/protobuf";
import { PaymentChannelSchema, type PaymentChannel } from "@pasar/contracts/pasar/payment/v1/payment_pb";
import { describe, expect, it } from "vitest";

import { brokenAmountLimit, channelAcceptsAmount, channelFee, orderTotals } from "./fees";

function channel(fields: { flat?: bigint; bps?: number; min?: bigint; max?: bigint; enabled?: boolean }): PaymentChannel {
  return create(PaymentChannelSchema, {
    code: "test",
    flatFee: fields.flat === undefined ? undefined : { currencyCode: "IDR", amount: fields.flat },
    percentFeeBps: fields.bps ?? 0,
    minAmount: fields.min === undefined ? undefined : { currencyCode: "IDR", amount: fields.min },
    maxAmount: fields.max === undefined ? undefined : { currencyCode: "IDR", amount: fields.max },
    enabled: fields.enabled ?? true,
  });
}

describe("channel fees", () => {
  it("adds a flat fee", () => {
    expect(channelFee(channel({ flat: 4000n }), 23000n)).toBe(4000n);
  });

  it("rounds a percentage fee up to the next rupiah", () => {
    // 0.7 % of 10.000 is exactly 70; of 10.001 it is 70.007, which rounds up to 71.
    expect(channelFee(channel({ bps: 70 }), 10000n)).toBe(70n);
    expect(channelFee(channel({ bps: 70 }), 10001n)).toBe(71n);
    expect(channelFee(channel({ bps: 150 }), 11500n)).toBe(173n); // 172.5 -> 173
  });

  it("adds the flat and percentage parts", () => {
    expect(channelFee(channel({ flat: 1000n, bps: 200 }), 50000n)).toBe(2000n);
  });

  it("charges nothing for a free channel or a zero amount", () => {
    expect(channelFee(channel({}), 50000n)).toBe(0n);
    expect(channelFee(channel({ bps: 70 }), 0n)).toBe(0n);
  });

  it("stays exact for large amounts", () => {
    expect(channelFee(channel({ bps: 1 }), 10n ** 18n + 1n)).toBe(10n ** 14n + 1n);
  });
});

describe("channel limits", () => {
  const limited = channel({ min: 10000n, max: 50000n });

  it("accepts amounts within min and max, both included", () => {
    expect(channelAcceptsAmount(limited, 10000n)).toBe(true);
    expect(channelAcceptsAmount(limited, 50000n)).toBe(true);
    expect(channelAcceptsAmount(limited, 9999n)).toBe(false);
    expect(channelAcceptsAmount(limited, 50001n)).toBe(false);
  });

  it("has no limit where the channel sets none", () => {
    expect(channelAcceptsAmount(channel({}), 10n ** 12n)).toBe(true);
  });

  it("never accepts through a disabled channel", () => {
    expect(channelAcceptsAmount(channel({ enabled: false }), 20000n)).toBe(false);
  });
});

describe("order totals", () => {
  it("multiplies the unit price and adds the channel's fee on the subtotal", () => {
    expect(orderTotals(11500n, 2, channel({ bps: 70 }))).toEqual({ subtotal: 23000n, fee: 161n, total: 23161n });
  });

  it("has no fee before a channel is chosen", () => {
    expect(orderTotals(11500n, 3, undefined)).toEqual({ subtotal: 34500n, fee: 0n, total: 34500n });
  });
});

describe("the limit an amount breaks", () => {
  const limited = channel({ min: 10000n, max: 20000n });

  it("names the minimum below it and the maximum above it, its ends included", () => {
    expect(brokenAmountLimit(limited, 9999n)).toEqual({ kind: "minimum", amount: 10000n });
    expect(brokenAmountLimit(limited, 20001n)).toEqual({ kind: "maximum", amount: 20000n });
    expect(brokenAmountLimit(limited, 10000n)).toBeUndefined();
    expect(brokenAmountLimit(limited, 20000n)).toBeUndefined();
  });

  it("has none for a channel without limits", () => {
    expect(brokenAmountLimit(channel({}), 10n ** 12n)).toBeUndefined();
  });
});
