import { fromJson } from "@bufbuild/protobuf";
import { OrderSchema } from "@pasar/contracts/pasar/order/v1/order_pb";
import { mount } from "@vue/test-utils";
import { afterEach, describe, expect, it } from "vitest";

import { setLocale } from "@/i18n";
import { ORDER_ID, orderWithLineJson } from "@/testing/catalog";

import TransactionDetails from "./TransactionDetails.vue";

afterEach(() => setLocale("id"));

function render(orderNumber: string) {
  const order = fromJson(
    OrderSchema,
    orderWithLineJson(
      "PENDING_PAYMENT",
      { productDisplayNameEn: "Nusantara Credit", packageDisplayNameEn: "" },
      { orderNumber, createTime: "2026-12-05T23:30:00Z" },
    ),
  );
  return mount(TransactionDetails, { props: { order, channelName: "BCA Virtual Account" } });
}

function rows(wrapper: ReturnType<typeof render>): Record<string, string> {
  return Object.fromEntries(
    wrapper.findAll(".transaction__row").map((row) => [row.get("dt").text(), row.get("dd").text()]),
  );
}

describe("TransactionDetails", () => {
  it("shows the order number and the id, the payment method, the admin fee and the date in WIB", () => {
    setLocale("id");
    const shown = rows(render("PSR-7K3M9Q"));
    expect(shown["Nomor pesanan"]).toBe("PSR-7K3M9Q");
    expect(shown["ID pesanan"]).toBe(ORDER_ID);
    expect(shown["Metode pembayaran"]).toBe("BCA Virtual Account");
    expect(shown["Biaya admin"]).toBe("Rp\u00a04.000");
    expect(shown["Total bayar"]).toBe("Rp\u00a027.000");
    expect(shown["Tanggal pesanan"]).toBe("6 Des 2026, 06.30 WIB");
  });

  it("names the line in English in English mode, the Indonesian name where there is no English one", () => {
    setLocale("en");
    const shown = rows(render("PSR-7K3M9Q"));
    expect(shown["Product"]).toBe("Nusantara Credit");
    expect(shown["Package"]).toBe("Pulsa 10.000");
    expect(shown["Admin fee"]).toBe("Rp\u00a04.000");
  });

  it("calls the id the order number for orders from before order numbers", () => {
    setLocale("id");
    const shown = rows(render(""));
    expect(shown["Nomor pesanan"]).toBe(ORDER_ID);
    expect(shown["ID pesanan"]).toBeUndefined();
  });
});
