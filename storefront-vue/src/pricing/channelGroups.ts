/**
 * The payment methods as shops lay them out: grouped by kind, the groups in the order of
 * their first channel's sort_order (the shop's seed puts the common ones first: QRIS,
 * e-wallets, virtual accounts, retail outlets), and the less common groups folded when
 * showing them all would make the page long, on a phone above all.
 */
import type { PaymentChannel, PaymentChannelKind } from "@pasar/contracts/pasar/payment/v1/payment_pb";

/** One kind of payment method and its channels, in sort_order. */
export interface ChannelGroup {
  kind: PaymentChannelKind;
  channels: PaymentChannel[];
}

/** Up to this many channels, every group shows: folding would hide more than it saves. */
export const SHOW_ALL_UP_TO = 6;
/** When folding, the leading groups stay open while they hold at most this many channels. */
export const OPEN_CHANNELS = 5;

export function groupChannels(channels: readonly PaymentChannel[]): ChannelGroup[] {
  const byKind = new Map<PaymentChannelKind, PaymentChannel[]>();
  const sorted = [...channels].sort((a, b) => a.sortOrder - b.sortOrder || a.code.localeCompare(b.code));
  for (const channel of sorted) {
    const group = byKind.get(channel.kind);
    if (group === undefined) byKind.set(channel.kind, [channel]);
    else group.push(channel);
  }
  return [...byKind].map(([kind, grouped]) => ({ kind, channels: grouped }));
}

/** The kinds whose groups show open at first: all of a short list, else the leading common ones. */
export function initiallyOpenKinds(groups: readonly ChannelGroup[]): Set<PaymentChannelKind> {
  const total = groups.reduce((count, group) => count + group.channels.length, 0);
  if (total <= SHOW_ALL_UP_TO) return new Set(groups.map((group) => group.kind));
  const open = new Set<PaymentChannelKind>();
  let shown = 0;
  for (const group of groups) {
    if (open.size > 0 && shown + group.channels.length > OPEN_CHANNELS) break;
    open.add(group.kind);
    shown += group.channels.length;
  }
  return open;
}
