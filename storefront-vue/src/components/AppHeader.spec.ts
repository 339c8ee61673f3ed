import { fromJson } from "@bufbuild/protobuf";
import { OrderSchema } from "@pasar/contracts/pasar/order/v1/order_pb";
import { mount } from "@vue/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMemoryHistory, createRouter } from "vue-router";

import { forgetAllOrders, rememberOrder } from "@/composables/useRecentOrders";
import { setLocale } from "@/i18n";
import { routes } from "@/router";
import { orderJson } from "@/testing/catalog";
import { settle } from "@/testing/render";

import AppHeader from "./AppHeader.vue";

async function mountHeader(path = "/") {
  const router = createRouter({ history: createMemoryHistory(), routes });
  await router.push(path);
  await router.isReady();
  const wrapper = mount(AppHeader, { global: { plugins: [router] } });
  await settle();
  return wrapper;
}

beforeEach(() => {
  localStorage.clear();
  forgetAllOrders();
  setLocale("id");
});
afterEach(() => forgetAllOrders());

describe("the header", () => {
  it("links to this device's orders only once there are some, with their count", async () => {
    const wrapper = await mountHeader();
    expect(wrapper.find("[data-nav-recent]").exists()).toBe(false);
    rememberOrder(fromJson(OrderSchema, orderJson()), "tok-1");
    await settle();
    const link = wrapper.get("[data-nav-recent]");
    expect(link.attributes("href")).toBe("/orders#pesanan-saya");
    expect(link.text()).toBe("Pesanan saya 1 (1 pesanan tersimpan)");
    wrapper.unmount();
  });

  it("marks the current page's link, and only that one", async () => {
    rememberOrder(fromJson(OrderSchema, orderJson()), "tok-1");
    const wrapper = await mountHeader("/orders");
    const current = wrapper.findAll("a[aria-current='page']");
    expect(current.map((link) => link.text())).toEqual(["Cek pesanan"]);
    wrapper.unmount();
  });
});
