import { fromJson } from "@bufbuild/protobuf";
import { PaymentChannelKind } from "@pasar/contracts/pasar/payment/v1/payment_pb";
import { ListPaymentChannelsResponseSchema } from "@pasar/contracts/pasar/payment/v1/payment_service_pb";
import { describe, expect, it } from "vitest";

import { channelsJson, demoChannelsJson } from "@/testing/catalog";

import { groupChannels, initiallyOpenKinds } from "./channelGroups";

const parse = (json: ReturnType<typeof channelsJson>) => fromJson(ListPaymentChannelsResponseSchema, json).paymentChannels;

describe("the payment methods' groups", () => {
  it("follow the channels' sort order: QRIS, e-wallets, virtual accounts, retail outlets in the demo shop", () => {
    const groups = groupChannels(parse(demoChannelsJson()).reverse());
    expect(groups.map((group) => PaymentChannelKind[group.kind])).toEqual([
      "QRIS",
      "EWALLET",
      "VIRTUAL_ACCOUNT",
      "RETAIL_OUTLET",
    ]);
    expect(groups[1]?.channels.map((channel) => channel.code)).toEqual(["gopay", "ovo", "dana", "shopeepay"]);
  });

  it("fold the less common groups of a long list, keeping QRIS and the e-wallets open", () => {
    const open = initiallyOpenKinds(groupChannels(parse(demoChannelsJson())));
    expect([...open].map((kind) => PaymentChannelKind[kind])).toEqual(["QRIS", "EWALLET"]);
  });

  it("fold nothing in a short list", () => {
    const groups = groupChannels(parse(channelsJson()));
    expect(initiallyOpenKinds(groups).size).toBe(groups.length);
  });

  it("fold by the channels shown: a virtual-account shop keeps its banks open, the outlets folded", () => {
    const many = demoChannelsJson();
    const vaOnly = { ...many, paymentChannels: (many.paymentChannels as { kind: string }[]).filter((channel) => channel.kind.endsWith("VIRTUAL_ACCOUNT") || channel.kind.endsWith("RETAIL_OUTLET")) };
    const open = initiallyOpenKinds(groupChannels(parse(vaOnly)));
    expect([...open].map((kind) => PaymentChannelKind[kind])).toEqual(["VIRTUAL_ACCOUNT"]);
  });
});
