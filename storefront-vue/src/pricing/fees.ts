/**
 * What a payment channel costs and accepts, computed in the storefront exactly as the
 * payment service computes it (flat fee plus a percentage rounded up), so the summary
 * shows the total the shopper will be asked to pay before the order is placed.
 */
import type { PaymentChannel } from "@pasar/contracts/pasar/payment/v1/payment_pb";

/** Basis points in a whole: percent_fee_bps is in hundredths of a percent. */
const BPS_PER_WHOLE = 10_000n;

/** ceil(numerator / denominator) for non-negative bigints. */
function divideRoundingUp(numerator: bigint, denominator: bigint): bigint {
  return (numerator + denominator - 1n) / denominator;
}

/** The channel's fee for an order amount: flat_fee + ceil(amount × percent_fee_bps / 10000). */
export function channelFee(channel: PaymentChannel, amount: bigint): bigint {
  const flat = channel.flatFee?.amount ?? 0n;
  const percent = divideRoundingUp(amount * BigInt(channel.percentFeeBps), BPS_PER_WHOLE);
  return flat + percent;
}

/** True when the channel is enabled and its limits (before fees) include the amount. */
export function channelAcceptsAmount(channel: PaymentChannel, amount: bigint): boolean {
  return channel.enabled && brokenAmountLimit(channel, amount) === undefined;
}

/** Why a channel does not take an amount: it is below the channel's minimum or above its maximum. */
export interface AmountLimit {
  kind: "minimum" | "maximum";
  /** The channel's minimum or maximum, before fees. */
  amount: bigint;
}

/** The limit an amount breaks at a channel, if any ("Minimal Rp 10.000"). */
export function brokenAmountLimit(channel: PaymentChannel, amount: bigint): AmountLimit | undefined {
  if (channel.minAmount !== undefined && amount < channel.minAmount.amount) {
    return { kind: "minimum", amount: channel.minAmount.amount };
  }
  if (channel.maxAmount !== undefined && amount > channel.maxAmount.amount) {
    return { kind: "maximum", amount: channel.maxAmount.amount };
  }
  return undefined;
}

/** What an order costs: the packages, the channel's fee, and what the shopper pays. */
export interface OrderTotals {
  subtotal: bigint;
  fee: bigint;
  total: bigint;
}

/** The totals for quantity units at unitPrice, paid through channel (no fee without one). */
export function orderTotals(unitPrice: bigint, quantity: number, channel: PaymentChannel | undefined): OrderTotals {
  const subtotal = unitPrice * BigInt(quantity);
  const fee = channel === undefined ? 0n : channelFee(channel, subtotal);
  return { subtotal, fee, total: subtotal + fee };
}
