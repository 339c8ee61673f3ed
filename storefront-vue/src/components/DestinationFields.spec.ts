import { create } from "@bufbuild/protobuf";
import { DestinationFieldSchema } from "@pasar/contracts/pasar/product/v1/product_pb";
import { mount } from "@vue/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { defineComponent, h, ref } from "vue";

import { setLocale } from "@/i18n";

import DestinationFields from "./DestinationFields.vue";

const gameFields = [
  create(DestinationFieldSchema, {
    name: "user_id",
    label: "User ID",
    labelEn: "User ID",
    pattern: "[0-9]{6,12}",
    minLength: 6,
    maxLength: 12,
    example: "123456789",
  }),
  create(DestinationFieldSchema, {
    name: "server",
    label: "Server",
    labelEn: "Server",
    hint: "Contoh: asia-2",
    pattern: "[a-z]+-[0-9]",
    minLength: 3,
    maxLength: 10,
    example: "asia-2",
  }),
];

function render(attempted = false) {
  const values = ref<Record<string, string>>({});
  const Host = defineComponent({
    render: () =>
      h(DestinationFields, {
        fields: gameFields,
        attempted,
        modelValue: values.value,
        "onUpdate:modelValue": (next: Record<string, string>) => (values.value = next),
      }),
  });
  return { wrapper: mount(Host, { attachTo: document.body }), values };
}

afterEach(() => setLocale("id"));

describe("DestinationFields", () => {
  it("shows every field in the product's order, each label tied to its input", () => {
    setLocale("id");
    const { wrapper } = render();
    const labels = wrapper.findAll("label");
    expect(labels.map((label) => label.text())).toEqual(["User ID", "Server"]);
    expect(labels.map((label) => label.attributes("for"))).toEqual(["destination-user_id", "destination-server"]);
    expect(wrapper.get("#destination-user_id").attributes("inputmode")).toBe("numeric");
    // Not digits only: the full keyboard.
    expect(wrapper.get("#destination-server").attributes("inputmode")).toBeUndefined();
    expect(wrapper.get("#destination-server").attributes("aria-describedby")).toBe("destination-server-hint");
    wrapper.unmount();
  });

  it("sends what is typed, as typed, keyed by the fields' names", async () => {
    const { wrapper, values } = render();
    await wrapper.get("#destination-user_id").setValue("123456789");
    await wrapper.get("#destination-server").setValue(" asia-2");
    expect(values.value).toEqual({ user_id: "123456789", server: " asia-2" });
    wrapper.unmount();
  });

  it("after Beli, asks for every empty field and shows the example of a free-form one", async () => {
    setLocale("id");
    const { wrapper } = render(true);
    expect(wrapper.findAll("[data-destination-error]").map((error) => error.text())).toEqual([
      "User ID wajib diisi.",
      "Server wajib diisi.",
    ]);
    await wrapper.get("#destination-server").setValue("asia");
    expect(wrapper.get('[data-destination-field="server"] [data-destination-error]').text()).toBe(
      "Format Server tidak sesuai, contoh: asia-2.",
    );
    expect(wrapper.get("#destination-server").attributes("aria-describedby")).toBe(
      "destination-server-hint destination-server-error",
    );
    wrapper.unmount();
  });

  it("reads the look-up's 'not registered' out in the live region, shown once as the field's error", async () => {
    setLocale("id");
    const wrapper = mount(DestinationFields, {
      props: {
        fields: gameFields,
        modelValue: { user_id: "123456789", server: "asia-2" },
        lookupField: "user_id",
        lookup: { status: "checking" },
      },
      attachTo: document.body,
    });
    const live = wrapper.get("#destination-user_id-lookup");
    expect(live.attributes("aria-live")).toBe("polite");
    await wrapper.setProps({ lookup: { status: "notFound", field: "user_id" } });
    expect(live.text()).toBe("User ID tidak terdaftar. Periksa kembali.");
    expect(live.get(".visually-hidden").text()).toBe(live.text());
    expect(wrapper.get('[data-destination-field="user_id"] [data-destination-error]').text()).toBe(live.text());
    // Described by its error once, not by the region that reads that error out too.
    expect(wrapper.get("#destination-user_id").attributes("aria-describedby")).toBe("destination-user_id-error");
    wrapper.unmount();
  });
});
