import type { VueWrapper } from "@vue/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { setLocale } from "@/i18n";
import { categoriesJson, productJson, productsJson } from "@/testing/catalog";
import { installFakeGateway, jsonResponse, unavailable, type FakeGateway } from "@/testing/gateway";
import { renderRoute, settle } from "@/testing/render";

/** Lazy pages load on first use, which can take a while on a busy machine. */
const WAIT = { timeout: 10_000 };

let gateway: FakeGateway;
let mounted: VueWrapper | undefined;

beforeEach(() => {
  gateway = installFakeGateway()
    .on("GET", "/api/v1/categories", () => jsonResponse(categoriesJson()))
    .on("GET", "/api/v1/products", () => jsonResponse(productsJson()));
});
afterEach(() => {
  mounted?.unmount();
  mounted = undefined;
  setLocale("id");
});

async function open(path = "/", locale: "id" | "en" = "id") {
  const rendered = await renderRoute(path, { locale });
  mounted = rendered.wrapper;
  return rendered;
}

describe("the home page", () => {
  it("lists products with picture, name, category and price range", async () => {
    const { wrapper } = await open();
    const card = wrapper.get('[data-product-id="pulsa-nusantara"]');
    expect(card.get("a").attributes("href")).toBe("/products/pulsa-nusantara");
    expect(card.get("a").text()).toBe("Pulsa Nusantara");
    expect(card.get("img").attributes("src")).toBe("/images/products/pulsa-nusantara.svg");
    expect(card.text()).toContain("Pulsa");
    expect(card.get("[data-price-range]").text()).toBe("Rp\u00a011.500 – Rp\u00a099.000");
    expect(wrapper.findAll("[data-category]").map((link) => link.text())).toEqual(["Semua", "Pulsa", "Paket Data"]);
  });

  it("filters by category and search text through the address", async () => {
    const { wrapper, router } = await open();
    await wrapper.get('[data-category="paket-data"]').trigger("click");
    await vi.waitFor(() => expect(router.currentRoute.value.query).toEqual({ category: "paket-data" }), WAIT);
    await settle();
    await wrapper.get("#product-search").setValue("  nusa ");
    await wrapper.get('form[role="search"]').trigger("submit");
    await vi.waitFor(() => expect(router.currentRoute.value.query).toEqual({ category: "paket-data", q: "nusa" }), WAIT);
    await settle();
    const last = gateway.requestsTo("GET", "/api/v1/products").at(-1);
    expect(Object.fromEntries(last?.query ?? [])).toEqual({ pageSize: "8", categoryId: "paket-data", query: "nusa" });
    expect(wrapper.text()).toContain("Hasil pencarian “nusa”");
    expect(wrapper.get('[data-category="paket-data"]').attributes("aria-current")).toBe("page");
  });

  it("pages forward with the next page token and back again", async () => {
    gateway.on("GET", "/api/v1/products", (request) =>
      jsonResponse(request.query.get("pageToken") === "page-2" ? { products: [productJson()], nextPageToken: "" } : productsJson("page-2")),
    );
    const { wrapper } = await open();
    const next = () => wrapper.findAll("nav button").find((button) => button.text() === "Berikutnya");
    const previous = () => wrapper.findAll("nav button").find((button) => button.text() === "Sebelumnya");
    expect(previous()?.attributes()).toHaveProperty("disabled");
    await next()?.trigger("click");
    await settle();
    expect(gateway.requestsTo("GET", "/api/v1/products").at(-1)?.query.get("pageToken")).toBe("page-2");
    expect(wrapper.text()).toContain("Halaman 2");
    expect(next()?.attributes()).toHaveProperty("disabled");
    await previous()?.trigger("click");
    await settle();
    expect(gateway.requestsTo("GET", "/api/v1/products").at(-1)?.query.has("pageToken")).toBe(false);
    expect(wrapper.text()).toContain("Halaman 1");
  });

  it("shows the catalog's error with a retry when the product service is down", async () => {
    gateway.on("GET", "/api/v1/products", () => unavailable()).on("GET", "/api/v1/categories", () => unavailable());
    const { wrapper } = await open();
    const products = wrapper.get('[data-section="products"]');
    expect(products.get('[role="alert"]').text()).toContain("Produk sedang tidak dapat dimuat");
    expect(wrapper.get('[data-section="categories"] [role="alert"]').text()).toContain("Kategori sedang tidak dapat dimuat");

    gateway.on("GET", "/api/v1/products", () => jsonResponse(productsJson()));
    await products.get("button").trigger("click");
    await settle();
    expect(wrapper.find('[data-section="products"] [role="alert"]').exists()).toBe(false);
    expect(wrapper.find('[data-product-id="pulsa-nusantara"]').exists()).toBe(true);
    // The categories keep their own error until their own retry.
    expect(wrapper.find('[data-section="categories"] [role="alert"]').exists()).toBe(true);
  });

  it("speaks English when chosen, and remembers the choice", async () => {
    gateway.on("GET", "/api/v1/products", () => unavailable());
    const { wrapper } = await open("/", "en");
    expect(wrapper.get("h1").text()).toBe("What would you like to buy today?");
    expect(wrapper.get('[data-section="products"] [role="alert"]').text()).toContain("Products can't be loaded right now");
    expect(localStorage.getItem("pasar.locale")).toBe("en");
    expect(document.documentElement.lang).toBe("en");
  });
});
