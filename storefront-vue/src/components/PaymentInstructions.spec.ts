import { create } from "@bufbuild/protobuf";
import { PaymentInstructionsSchema } from "@pasar/contracts/pasar/payment/v1/payment_pb";
import { mount } from "@vue/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { setLocale } from "@/i18n";

import PaymentInstructions from "./PaymentInstructions.vue";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date("2026-12-05T03:00:00Z"));
});
afterEach(() => {
  vi.useRealTimers();
  setLocale("id");
});

function ewallet(fields: { checkoutUrl?: string; phoneNumber?: string }) {
  return create(PaymentInstructionsSchema, {
    kind: { case: "ewallet", value: { walletName: "DANA", checkoutUrl: "", phoneNumber: "", ...fields } },
  }).kind;
}

/** 11.00 WIB, the same day: the time alone. */
const DEADLINE = new Date("2026-12-05T04:00:00Z");

describe("PaymentInstructions for an e-wallet", () => {
  it("says where the request went in a demo shop too, and that the demo has no app", () => {
    setLocale("en");
    const wrapper = mount(PaymentInstructions, {
      props: { instructions: ewallet({ phoneNumber: "0812****7890" }), deadline: DEADLINE, sandbox: true },
    });
    expect(wrapper.get("[data-ewallet-push]").text()).toBe(
      "We sent a payment request to your DANA account 0812****7890: open the DANA app and approve it before 11:00 WIB.",
    );
    expect(wrapper.get("[data-ewallet-sandbox]").text()).toBe(
      "In this demo shop no request actually reaches DANA. Press “Simulate payment” below to try paying.",
    );
    expect(wrapper.text()).not.toContain("No notification?");
    expect(wrapper.find("a").exists()).toBe(false);
  });

  it("tells a real shop's shopper without a link to open the app, and links nowhere", () => {
    const wrapper = mount(PaymentInstructions, {
      props: { instructions: ewallet({ checkoutUrl: "https://checkout.example.com/x" }), deadline: DEADLINE },
    });
    expect(wrapper.get("[data-ewallet-app]").text()).toBe(
      "Buka aplikasi DANA di ponsel Anda dan selesaikan pembayaran sebelum 11.00 WIB.",
    );
    expect(wrapper.find("a").exists()).toBe(false);
    expect(wrapper.find("[data-ewallet-sandbox]").exists()).toBe(false);
  });
});
