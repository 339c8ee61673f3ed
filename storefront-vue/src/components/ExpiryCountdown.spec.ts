import { mount } from "@vue/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { setLocale } from "@/i18n";

import ExpiryCountdown from "./ExpiryCountdown.vue";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2026-12-05T07:00:00Z"));
});
afterEach(() => {
  vi.useRealTimers();
  setLocale("id");
});

describe("ExpiryCountdown", () => {
  it("says the window, the deadline in WIB and the time left", () => {
    setLocale("id");
    const wrapper = mount(ExpiryCountdown, {
      props: { deadline: new Date("2026-12-05T07:15:00Z"), windowMs: 15 * 60_000 },
    });
    expect(wrapper.get("[data-payment-window]").text()).toBe("Bayar dalam 15 menit");
    expect(wrapper.get("[data-deadline]").text()).toBe("5 Des 2026, 14.15 WIB");
    expect(wrapper.get("time").attributes("datetime")).toBe("2026-12-05T14:15:00+07:00");
    expect(wrapper.get("[data-countdown]").text()).toBe("15:00");
  });

  it("tells the page when time runs out, and says so", async () => {
    setLocale("en");
    const wrapper = mount(ExpiryCountdown, { props: { deadline: new Date("2026-12-05T07:00:02Z") } });
    expect(wrapper.find("[data-payment-window]").exists()).toBe(false);
    await vi.advanceTimersByTimeAsync(2000);
    expect(wrapper.emitted("expired")).toHaveLength(1);
    expect(wrapper.get('[role="status"]').text()).toBe("The time to pay has run out.");
    expect(wrapper.get("[data-deadline]").text()).toBe("5 Dec 2026, 14:00 WIB");
  });
});
