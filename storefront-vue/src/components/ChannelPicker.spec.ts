import { fromJson } from "@bufbuild/protobuf";
import { ListPaymentChannelsResponseSchema } from "@pasar/contracts/pasar/payment/v1/payment_service_pb";
import { mount, type VueWrapper } from "@vue/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { setLocale } from "@/i18n";
import { channelsJson, demoChannelsJson } from "@/testing/catalog";

import ChannelPicker from "./ChannelPicker.vue";

const channels = fromJson(ListPaymentChannelsResponseSchema, channelsJson()).paymentChannels;
const demoChannels = fromJson(ListPaymentChannelsResponseSchema, demoChannelsJson()).paymentChannels;

beforeEach(() => setLocale("id"));
afterEach(() => setLocale("id"));

/** The radios a shopper can see (those of open groups). */
function shownCodes(wrapper: VueWrapper): string[] {
  return wrapper
    .findAll('input[type="radio"]')
    .filter((radio) => radio.element.closest("[hidden]") === null)
    .map((radio) => radio.attributes("value") ?? "");
}

function groupToggle(wrapper: VueWrapper, kind: string) {
  return wrapper.get(`[data-channel-group="${kind}"] button[aria-expanded]`);
}

describe("ChannelPicker", () => {
  it("groups the channels by kind under headings, in the channels' sort order", () => {
    const wrapper = mount(ChannelPicker, { props: { channels: demoChannels, modelValue: "" } });
    expect(wrapper.get("legend").text()).toBe("Pilih metode pembayaran");
    expect(wrapper.findAll("h3 .channel-picker__kind-name").map((heading) => heading.text())).toEqual([
      "QRIS",
      "E-Wallet",
      "Virtual Account",
      "Gerai Retail",
    ]);
    expect(wrapper.get('[data-channel-group="EWALLET"] h3').text()).toContain("4 pilihan");
  });

  it("folds the less common groups of a long list, and unfolds one on its heading's button", async () => {
    const wrapper = mount(ChannelPicker, { props: { channels: demoChannels, modelValue: "" } });
    expect(shownCodes(wrapper)).toEqual(["qris", "gopay", "ovo", "dana", "shopeepay"]);
    const banks = groupToggle(wrapper, "VIRTUAL_ACCOUNT");
    expect(banks.attributes("aria-expanded")).toBe("false");
    expect(wrapper.get(`#${banks.attributes("aria-controls")}`).attributes()).toHaveProperty("hidden");
    await banks.trigger("click");
    expect(banks.attributes("aria-expanded")).toBe("true");
    expect(shownCodes(wrapper)).toContain("bca_va");
    expect(shownCodes(wrapper)).not.toContain("alfamart");
  });

  it("keeps the chosen channel's group open", () => {
    const wrapper = mount(ChannelPicker, { props: { channels: demoChannels, modelValue: "indomaret" } });
    expect(groupToggle(wrapper, "RETAIL_OUTLET").attributes("aria-expanded")).toBe("true");
    expect(shownCodes(wrapper)).toContain("indomaret");
  });

  it("folds nothing when the list is short", () => {
    const wrapper = mount(ChannelPicker, { props: { channels, modelValue: "" } });
    expect(shownCodes(wrapper)).toEqual(["bca_va", "qris", "ovo", "alfamart"]);
  });

  it("says the minimum or maximum of a channel that does not take the amount, and disables it", () => {
    const wrapper = mount(ChannelPicker, { props: { channels, modelValue: "", amount: 25000n } });
    const alfamart = wrapper.get('[data-channel-code="alfamart"]');
    expect(alfamart.get("[data-limit]").text()).toBe("Minimal Rp\u00a040.000");
    expect(alfamart.find("[data-fee]").exists()).toBe(false);
    expect(alfamart.get("input").attributes()).toHaveProperty("disabled");
    expect(wrapper.get('[data-channel-code="ovo"] [data-limit]').text()).toBe("Maksimal Rp\u00a020.000");
    expect(wrapper.get('[data-channel-code="qris"] input').attributes()).not.toHaveProperty("disabled");
  });

  it("shows each channel's admin fee for the amount", () => {
    const wrapper = mount(ChannelPicker, { props: { channels, modelValue: "", amount: 50000n } });
    const fees = Object.fromEntries(
      wrapper
        .findAll("[data-channel-code]")
        .filter((option) => option.find("[data-fee]").exists())
        .map((option) => [option.attributes("data-channel-code"), option.get("[data-fee]").text()]),
    );
    expect(fees).toEqual({
      bca_va: "Biaya admin Rp\u00a04.000",
      qris: "Biaya admin Rp\u00a0350",
      alfamart: "Biaya admin Rp\u00a05.000",
    });
  });

  it("says when no channel takes the amount", () => {
    const wrapper = mount(ChannelPicker, { props: { channels, modelValue: "", amount: 10n ** 12n } });
    expect(wrapper.findAll("input:not([disabled])")).toHaveLength(0);
    expect(wrapper.get('[role="status"]').text()).toBe("Belum ada metode pembayaran yang menerima jumlah ini.");
  });

  it("emits the chosen channel's code", async () => {
    const wrapper = mount(ChannelPicker, { props: { channels, modelValue: "" } });
    await wrapper.get('input[value="qris"]').setValue(true);
    expect(wrapper.emitted("update:modelValue")).toEqual([["qris"]]);
  });

  it("writes fee rules and limits in the shopper's language", () => {
    setLocale("en");
    const wrapper = mount(ChannelPicker, { props: { channels, modelValue: "" } });
    expect(wrapper.get("legend").text()).toBe("Choose a payment method");
    expect(wrapper.get('[data-channel-code="qris"] [data-fee]').text()).toBe("Admin fee 0.7%");
    expect(wrapper.get('[data-channel-code="bca_va"] [data-fee]').text()).toBe("Admin fee Rp\u00a04.000");
    const small = mount(ChannelPicker, { props: { channels, modelValue: "", amount: 5000n } });
    expect(small.get('[data-channel-code="bca_va"] [data-limit]').text()).toBe("Minimum Rp\u00a010.000");
  });
});
