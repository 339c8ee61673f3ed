import { fromJson, type JsonObject } from "@bufbuild/protobuf";
import { FailureReason } from "@pasar/contracts/pasar/fulfillment/v1/fulfillment_pb";
import { OrderSchema } from "@pasar/contracts/pasar/order/v1/order_pb";
import { mount } from "@vue/test-utils";
import { afterEach, describe, expect, it } from "vitest";

import { setLocale } from "@/i18n";
import { failureJson, fulfillmentJson, orderWithLineJson, refundJson } from "@/testing/catalog";

import LineDelivery from "./LineDelivery.vue";

function render(state: string, line: JsonObject) {
  const order = fromJson(OrderSchema, orderWithLineJson(state, line, { paidTime: "2026-01-05T08:05:00Z" }));
  const [first] = order.lines;
  if (first === undefined) throw new Error("no line");
  return mount(LineDelivery, { props: { order, line: first, now: new Date("2026-01-05T08:05:05Z") } });
}

afterEach(() => setLocale("id"));

describe("LineDelivery", () => {
  it("shows a game voucher's code with its copy button, and each unit of a line", () => {
    setLocale("id");
    const wrapper = render("FULFILLED", {
      productDisplayName: "Voucher Game Nusantara",
      packageDisplayName: "100 Diamonds",
      destination: { user_id: "123456789", zone_id: "2001" },
      fulfillment: fulfillmentJson("SUCCEEDED", {
        deliveries: [
          { serialNumber: "7012345678901234", voucherCode: "ABCD-EFGH-JKLM-NPQR" },
          { serialNumber: "7012345678901235", voucherCode: "STUV-WXYZ-2345-6789" },
        ],
      }),
    });
    expect(wrapper.get("h3").text()).toBe("Voucher Game Nusantara · 100 Diamonds");
    expect(wrapper.findAll("dt").slice(0, 2).map((term) => term.text())).toEqual(["ID Pemain", "ID Zona"]);
    expect(wrapper.findAll("[data-voucher-code]").map((code) => code.text())).toEqual([
      "ABCD-EFGH-JKLM-NPQR",
      "STUV-WXYZ-2345-6789",
    ]);
    expect(wrapper.findAll("[data-delivery]").map((unit) => unit.get("p").text())).toEqual(["Unit 1", "Unit 2"]);
    expect(wrapper.findAll('[aria-label="Salin Kode voucher"]')).toHaveLength(2);
    expect(wrapper.findAll('[aria-label="Salin Nomor seri (SN)"]')).toHaveLength(2);
  });

  it("says a refund is being processed until the provider confirms it", () => {
    setLocale("en");
    const wrapper = render("PAID", {
      fulfillment: fulfillmentJson("FAILED", { failure: failureJson(FailureReason.DESTINATION_REFUSED) }),
      refund: refundJson("PENDING"),
    });
    expect(wrapper.get("[data-delivery-title]").text()).toBe("Refunded");
    expect(wrapper.get("[data-failure]").text()).toBe("The destination cannot receive this product.");
    expect(wrapper.get("[data-refund]").text()).toBe("The refund of Rp\u00a023.000 is being processed.");
  });

  it("waits quietly for the fulfillment service within moments of the payment", () => {
    setLocale("id");
    const wrapper = render("PAID", {});
    expect(wrapper.get("[data-delivery-stage]").attributes("data-delivery-stage")).toBe("waiting");
    expect(wrapper.get("[data-delivery-title]").text()).toBe("Lunas, menunggu pengiriman");
  });
});
