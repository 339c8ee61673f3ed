import { fromJson } from "@bufbuild/protobuf";
import { ProductSchema } from "@pasar/contracts/pasar/product/v1/product_pb";
import { mount } from "@vue/test-utils";
import { beforeEach, describe, expect, it } from "vitest";

import { setLocale } from "@/i18n";
import { productJson } from "@/testing/catalog";

import PackagePicker from "./PackagePicker.vue";

const packages = fromJson(ProductSchema, productJson()).packages;

beforeEach(() => setLocale("id"));

describe("PackagePicker", () => {
  it("is a labelled group of radios, one per package, sold-out ones disabled", () => {
    const wrapper = mount(PackagePicker, { props: { packages, modelValue: "" } });
    expect(wrapper.get("legend").text()).toBe("Pilih paket");
    const radios = wrapper.findAll('input[type="radio"]');
    expect(radios.map((radio) => radio.attributes("value"))).toEqual([
      "pulsa-nusantara-10k",
      "pulsa-nusantara-50k",
      "pulsa-nusantara-100k",
    ]);
    expect(radios.map((radio) => radio.attributes("disabled") !== undefined)).toEqual([false, false, true]);
    // Each radio is inside its label, so its accessible name is the package and its price.
    expect(radios[0]?.element.closest("label")?.textContent).toContain("Pulsa 10.000");
  });

  it("emits the chosen package's id", async () => {
    const wrapper = mount(PackagePicker, { props: { packages, modelValue: "" } });
    await wrapper.findAll('input[type="radio"]')[1]?.setValue(true);
    expect(wrapper.emitted("update:modelValue")).toEqual([["pulsa-nusantara-50k"]]);
  });

  it("shows the chosen package as checked, and points to the error when one is given", () => {
    const wrapper = mount(PackagePicker, {
      props: { packages, modelValue: "pulsa-nusantara-10k", errorId: "package-error" },
    });
    expect((wrapper.findAll("input")[0]?.element as HTMLInputElement).checked).toBe(true);
    expect(wrapper.get("fieldset").attributes("aria-describedby")).toBe("package-error");
  });
});
