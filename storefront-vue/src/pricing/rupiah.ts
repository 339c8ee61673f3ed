/**
 * Rupiah as shoppers read it: "Rp 15.000" (dot for thousands, no decimals), whatever
 * the page's language. Amounts stay bigint (int64 in the contracts) from the API to the
 * screen, so no price ever passes through a float.
 */
import type { Money } from "@pasar/contracts/pasar/common/v1/money_pb";

const rupiah = new Intl.NumberFormat("id-ID", {
  style: "currency",
  currency: "IDR",
  minimumFractionDigits: 0,
  maximumFractionDigits: 0,
});

/** "Rp 15.000" for 15000n (with a no-break space, so the amount never wraps from "Rp"). */
export function formatRupiah(amount: bigint): string {
  return rupiah.format(amount);
}

/** A Money's amount as Rupiah; an unset amount reads as zero, as proto3 defines it. */
export function formatMoney(money: Money | undefined): string {
  return formatRupiah(money?.amount ?? 0n);
}

/** A price range, "Rp 5.000 – Rp 100.000", or one price when both ends are equal. */
export function formatPriceRange(min: Money | undefined, max: Money | undefined): string {
  const low = min?.amount ?? 0n;
  const high = max?.amount ?? low;
  return low === high ? formatRupiah(low) : `${formatRupiah(low)} – ${formatRupiah(high)}`;
}
