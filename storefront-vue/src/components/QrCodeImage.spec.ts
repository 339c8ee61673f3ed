import { flushPromises, mount } from "@vue/test-utils";
import { describe, expect, it, vi } from "vitest";

import QrCodeImage from "./QrCodeImage.vue";

const PAYLOAD = "00020101021226610016ID.CO.PASAR.WWW0118936000000000000001";

describe("QrCodeImage", () => {
  it("draws the payload and offers it as a PNG to save under the given name", async () => {
    const wrapper = mount(QrCodeImage, { props: { payload: PAYLOAD, alt: "Kode QRIS", saveName: "QRIS-PSR-7K3M9Q.png" } });
    await vi.waitFor(async () => {
      await flushPromises();
      expect(wrapper.find('[data-action="save-qr"]').exists()).toBe(true);
    });
    expect(wrapper.get("img").attributes("alt")).toBe("Kode QRIS");
    const save = wrapper.get('[data-action="save-qr"]');
    expect(save.attributes("download")).toBe("QRIS-PSR-7K3M9Q.png");
    expect(save.attributes("href")).toMatch(/^data:image\/png;base64,iVBORw0KGgo/);
  });

  it("offers no save link without a name", async () => {
    const wrapper = mount(QrCodeImage, { props: { payload: PAYLOAD, alt: "Kode QRIS" } });
    await vi.waitFor(async () => {
      await flushPromises();
      expect(wrapper.find("img").exists()).toBe(true);
    });
    expect(wrapper.find('[data-action="save-qr"]').exists()).toBe(false);
  });
});
