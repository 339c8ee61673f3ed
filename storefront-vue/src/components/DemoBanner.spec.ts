import { flushPromises, mount, type VueWrapper } from "@vue/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMemoryHistory, createRouter } from "vue-router";

import App from "@/App.vue";
import { setLocale } from "@/i18n";
import { routes } from "@/router";
import { channelsJson, ORDER_ID } from "@/testing/catalog";
import { installFakeGateway, jsonResponse, unavailable, type FakeGateway } from "@/testing/gateway";
import { settle } from "@/testing/render";

let gateway: FakeGateway;
let mounted: VueWrapper | undefined;

beforeEach(() => {
  gateway = installFakeGateway()
    .on("GET", "/api/v1/products", () => jsonResponse({ products: [], nextPageToken: "" }))
    .on("GET", "/api/v1/categories", () => jsonResponse({ categories: [], nextPageToken: "" }));
});
afterEach(() => {
  mounted?.unmount();
  mounted = undefined;
  setLocale("id");
});

/** The whole app, frame included, on a path. */
async function openApp(path: string, locale: "id" | "en" = "id"): Promise<VueWrapper> {
  setLocale(locale);
  const router = createRouter({ history: createMemoryHistory(), routes });
  await router.push(path);
  await router.isReady();
  mounted = mount(App, { global: { plugins: [router] }, attachTo: document.body });
  await settle();
  return mounted;
}

function settledBySandbox(sandbox: boolean): void {
  gateway.on("GET", "/api/v1/payment-channels", () => jsonResponse(channelsJson({ sandbox })));
}

describe("the demo banner", () => {
  it("tells shoppers of a sandbox shop, in Indonesian, that payments are simulated", async () => {
    settledBySandbox(true);
    const wrapper = await openApp("/");
    const banner = wrapper.get("[data-demo-banner]");
    expect(banner.text()).toContain("Toko demo.");
    expect(banner.text()).toContain("tidak ada uang sungguhan yang berpindah");
    expect(banner.attributes("role")).toBe("note");
  });

  it("says it in English too", async () => {
    settledBySandbox(true);
    const wrapper = await openApp("/", "en");
    expect(wrapper.get("[data-demo-banner]").text()).toBe(
      "Demo shop. Payments and deliveries are simulated: no real money moves, and the tokens and codes shown are not valid.",
    );
  });

  it("is on every page, asked of the payment service once per visit", async () => {
    settledBySandbox(true);
    const wrapper = await openApp("/");
    for (const path of ["/orders", `/orders/${ORDER_ID}`, "/no-such-page", "/"]) {
      await wrapper.vm.$router.push(path);
      await settle();
      expect(wrapper.find("[data-demo-banner]").exists(), path).toBe(true);
    }
    expect(gateway.requestsTo("GET", "/api/v1/payment-channels").length).toBeGreaterThanOrEqual(1);
    const askedForTheFlag = gateway
      .requestsTo("GET", "/api/v1/payment-channels")
      .filter((request) => request.query.get("pageSize") === "1");
    expect(askedForTheFlag).toHaveLength(1);
  });

  it("is absent from a shop whose payments are real", async () => {
    settledBySandbox(false);
    const wrapper = await openApp("/");
    await flushPromises();
    expect(gateway.requestsTo("GET", "/api/v1/payment-channels")).toHaveLength(1);
    expect(wrapper.find("[data-demo-banner]").exists()).toBe(false);
  });

  it("is absent, and no error shows, when the payment service cannot be asked", async () => {
    gateway.on("GET", "/api/v1/payment-channels", () => unavailable());
    const wrapper = await openApp("/");
    expect(gateway.requestsTo("GET", "/api/v1/payment-channels")).toHaveLength(1);
    expect(wrapper.find("[data-demo-banner]").exists()).toBe(false);
    expect(wrapper.find('[role="alert"]').exists()).toBe(false);
  });
});
