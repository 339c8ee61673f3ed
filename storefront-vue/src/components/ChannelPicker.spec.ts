import { fromJson } from "@bufbuild/protobuf";
import { ListPaymentChannelsResponseSchema } from "@pasar/contracts/pasar/payment/v1/payment_service_pb";
import { mount } from "@vue/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { setLocale } from "@/i18n";
import { channelsJson } from "@/testing/catalog";

import ChannelPicker from "./ChannelPicker.vue";

const channels = fromJson(ListPaymentChannelsResponseSchema, channelsJson()).paymentChannels;

beforeEach(() => setLocale("id"));
afterEach(() => setLocale("id"));

function codes(wrapper: ReturnType<typeof mount>): string[] {
  return wrapper.findAll('input[type="radio"]').map((radio) => radio.attributes("value") ?? "");
}

describe("ChannelPicker", () => {
  it("groups the channels by kind under headings", () => {
    const wrapper = mount(ChannelPicker, { props: { channels, modelValue: "" } });
    expect(wrapper.get("legend").text()).toBe("Pilih channel pembayaran");
    expect(wrapper.findAll("h3").map((heading) => heading.text())).toEqual([
      "Virtual Account",
      "QRIS",
      "E-Wallet",
      "Gerai Retail",
    ]);
  });

  it("hides the channels whose limits exclude the amount, and says how many", () => {
    const wrapper = mount(ChannelPicker, { props: { channels, modelValue: "", amount: 25000n } });
    expect(codes(wrapper)).toEqual(["bca_va", "qris"]);
    expect(wrapper.text()).toContain("2 channel lain tidak menerima jumlah ini.");
  });

  it("shows each channel's fee for the amount", () => {
    const wrapper = mount(ChannelPicker, { props: { channels, modelValue: "", amount: 50000n } });
    const fees = Object.fromEntries(
      wrapper.findAll("[data-channel-code]").map((option) => [option.attributes("data-channel-code"), option.get("[data-fee]").text()]),
    );
    expect(fees).toEqual({ bca_va: "Biaya Rp\u00a04.000", qris: "Biaya Rp\u00a0350", alfamart: "Biaya Rp\u00a05.000" });
  });

  it("says when no channel takes the amount", () => {
    const wrapper = mount(ChannelPicker, { props: { channels, modelValue: "", amount: 10n ** 12n } });
    expect(codes(wrapper)).toEqual([]);
    expect(wrapper.get('[role="status"]').text()).toBe("Belum ada channel pembayaran yang menerima jumlah ini.");
  });

  it("emits the chosen channel's code", async () => {
    const wrapper = mount(ChannelPicker, { props: { channels, modelValue: "" } });
    await wrapper.get('input[value="qris"]').setValue(true);
    expect(wrapper.emitted("update:modelValue")).toEqual([["qris"]]);
  });

  it("writes fee rules in the shopper's language", () => {
    setLocale("en");
    const wrapper = mount(ChannelPicker, { props: { channels, modelValue: "" } });
    expect(wrapper.get('[data-channel-code="qris"] [data-fee]').text()).toBe("Fee 0.7%");
    expect(wrapper.get('[data-channel-code="bca_va"] [data-fee]').text()).toBe("Fee Rp\u00a04.000");
  });
});
