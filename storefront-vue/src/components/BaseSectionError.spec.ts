import { mount } from "@vue/test-utils";
import { beforeEach, describe, expect, it } from "vitest";

import { setLocale } from "@/i18n";

import BaseImage from "./BaseImage.vue";
import BaseSectionError from "./BaseSectionError.vue";

beforeEach(() => setLocale("id"));

describe("BaseSectionError", () => {
  it("is an alert with the message and a retry button", async () => {
    const wrapper = mount(BaseSectionError, { props: { message: "Produk sedang tidak dapat dimuat." } });
    expect(wrapper.attributes("role")).toBe("alert");
    expect(wrapper.text()).toContain("Produk sedang tidak dapat dimuat.");
    await wrapper.get("button").trigger("click");
    expect(wrapper.emitted("retry")).toHaveLength(1);
  });

  it("refuses a second retry while one runs", async () => {
    const wrapper = mount(BaseSectionError, { props: { message: "x", retrying: true } });
    const button = wrapper.get("button");
    expect(button.text()).toBe("Mencoba lagi…");
    expect(button.attributes()).toHaveProperty("disabled");
    await button.trigger("click");
    expect(wrapper.emitted("retry")).toBeUndefined();
  });

  it("shows the failed request's trace id, whole and selectable, in the shopper's language", () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const wrapper = mount(BaseSectionError, { props: { message: "x", traceId } });
    const code = wrapper.get("[data-trace-id]");
    expect(code.attributes("data-trace-id")).toBe(traceId);
    expect(code.text()).toBe(`Kode pelacakan: ${traceId}`);
    expect(code.get("code").text()).toBe(traceId);
    setLocale("en");
    const english = mount(BaseSectionError, { props: { message: "x", traceId } });
    expect(english.get("[data-trace-id]").text()).toBe(`Trace id: ${traceId}`);
    expect(mount(BaseSectionError, { props: { message: "x" } }).find("[data-trace-id]").exists()).toBe(false);
  });

  it("can leave the retry to the part's own action", () => {
    const wrapper = mount(BaseSectionError, { props: { message: "x", noRetry: true } });
    expect(wrapper.find("button").exists()).toBe(false);
  });
});

describe("BaseImage", () => {
  it("falls back to a neutral placeholder when the image fails to load", async () => {
    const wrapper = mount(BaseImage, { props: { src: "/images/products/missing.svg", width: 320, height: 200 } });
    expect(wrapper.find("img").exists()).toBe(true);
    await wrapper.get("img").trigger("error");
    expect(wrapper.find("img").exists()).toBe(false);
    expect(wrapper.find("[data-placeholder]").exists()).toBe(true);
  });

  it("shows the placeholder at once for an empty address", () => {
    const wrapper = mount(BaseImage, { props: { src: "", width: 64, height: 40, alt: "BCA" } });
    expect(wrapper.get("[data-placeholder]").attributes("aria-label")).toBe("BCA");
  });
});
