import type { VueWrapper } from "@vue/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { setLocale } from "@/i18n";
import { categoriesJson, productJson, productsJson, tokenProductJson } from "@/testing/catalog";
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
  it("lists products with picture, name and price range", async () => {
    const { wrapper } = await open();
    const card = wrapper.get('[data-product-id="pulsa-nusantara"]');
    expect(card.get("a").attributes("href")).toBe("/products/pulsa-nusantara");
    expect(card.get("a").text()).toBe("Pulsa Nusantara");
    expect(card.get("img").attributes("src")).toBe("/images/products/pulsa-nusantara.svg");
    expect(card.get("[data-price-range]").text()).toBe("Rp\u00a011.500 – Rp\u00a099.000");
    expect(wrapper.findAll("[data-category]").map((link) => link.text())).toEqual(["Semua", "Pulsa", "Paket Data"]);
  });

  it("groups the products by category under headings, in the categories' order, whatever the products' order", async () => {
    const data = { ...productJson(), id: "data-nusantara", displayName: "Paket Data Nusantara", categoryId: "paket-data" };
    const game = { ...productJson(), id: "voucher-x", displayName: "Voucher X", categoryId: "voucher-game" };
    // ListProducts answers by id: the data plan first, then a product of a category not listed.
    gateway.on("GET", "/api/v1/products", () => jsonResponse({ products: [data, productJson(), game], nextPageToken: "" }));
    const { wrapper } = await open();
    const shelves = wrapper.findAll("[data-shelf]");
    expect(shelves.map((shelf) => shelf.attributes("data-shelf"))).toEqual(["pulsa", "paket-data", ""]);
    expect(shelves.map((shelf) => shelf.find("h3").text())).toEqual(["Pulsa", "Paket Data", "Lainnya"]);
    expect(shelves[1]?.findAll("[data-product-id]").map((card) => card.attributes("data-product-id"))).toEqual([
      "data-nusantara",
    ]);
    // Each shelf is a region named by its heading; the products' names are headings below it.
    expect(shelves[0]?.attributes("aria-labelledby")).toBe(shelves[0]?.get("h3").attributes("id"));
    expect(shelves[0]?.find("h4").text()).toBe("Pulsa Nusantara");
  });

  it("loads every page of products for the shelves, and offers more beyond a batch", async () => {
    gateway.on("GET", "/api/v1/products", (request) =>
      request.query.get("pageToken") === "page-2"
        ? jsonResponse({ products: [tokenProductJson()], nextPageToken: "" })
        : jsonResponse(productsJson("page-2")),
    );
    const { wrapper } = await open();
    expect(wrapper.findAll("[data-product-id]").map((card) => card.attributes("data-product-id"))).toEqual([
      "pulsa-nusantara",
      "token-listrik",
    ]);
    expect(gateway.requestsTo("GET", "/api/v1/products").map((request) => request.query.get("pageSize"))).toEqual([
      "100",
      "100",
    ]);
    expect(wrapper.find(".home__more").exists()).toBe(false);
  });

  it("shows English names of products and categories in English, the Indonesian where there is none", async () => {
    const noEnglish = { ...tokenProductJson(), displayNameEn: "", categoryId: "pulsa" };
    gateway.on("GET", "/api/v1/products", () => jsonResponse({ products: [productJson(), noEnglish], nextPageToken: "" }));
    const { wrapper } = await open("/", "en");
    expect(wrapper.get('[data-product-id="pulsa-nusantara"] a').text()).toBe("Nusantara Phone Credit");
    expect(wrapper.get('[data-product-id="token-listrik"] a').text()).toBe("Token Listrik Prabayar");
    expect(wrapper.get('[data-shelf="pulsa"] h3').text()).toBe("Phone Credit");
    expect(wrapper.findAll("[data-category]").map((link) => link.text())).toEqual(["All", "Phone Credit", "Data Plans"]);
  });

  it("filters by category and sends the search text as typed, trimmed", async () => {
    const { wrapper, router } = await open();
    await wrapper.get('[data-category="paket-data"]').trigger("click");
    await vi.waitFor(() => expect(router.currentRoute.value.query).toEqual({ category: "paket-data" }), WAIT);
    await settle();
    await wrapper.get("#product-search").setValue("  PLN token ");
    await wrapper.get('form[role="search"]').trigger("submit");
    await vi.waitFor(() => expect(router.currentRoute.value.query).toEqual({ category: "paket-data", q: "PLN token" }), WAIT);
    await settle();
    const last = gateway.requestsTo("GET", "/api/v1/products").at(-1);
    expect(Object.fromEntries(last?.query ?? [])).toEqual({ pageSize: "100", categoryId: "paket-data", query: "PLN token" });
    expect(wrapper.text()).toContain("Hasil pencarian “PLN token”");
    expect(wrapper.get("[data-result-count]").text()).toBe("1 produk ditemukan");
    expect(wrapper.get('[data-category="paket-data"]').attributes("aria-current")).toBe("page");
  });

  it("cuts a search text longer than the contract takes, instead of failing", async () => {
    await open(`/?q=${"a".repeat(150)}`);
    expect(gateway.requestsTo("GET", "/api/v1/products").at(-1)?.query.get("query")).toBe("a".repeat(100));
  });

  it("says when nothing matches, with words to try, and a way out of the category", async () => {
    gateway.on("GET", "/api/v1/products", () => jsonResponse({ products: [], nextPageToken: "" }));
    const { wrapper, router } = await open("/?category=pulsa&q=xyzzy");
    const empty = wrapper.get("[data-no-results]");
    expect(empty.get('[role="status"]').text()).toBe("Tidak ada produk Pulsa yang cocok dengan “xyzzy”.");
    expect(empty.text()).toContain("Periksa ejaannya, atau coba kata lain:");
    const links = empty.findAll("a");
    expect(links.map((link) => link.text())).toEqual([
      "pulsa",
      "paket data",
      "pln",
      "game",
      "Cari “xyzzy” di semua kategori",
      "Lihat semua produk",
    ]);
    expect(links[2]?.attributes("href")).toBe("/?q=pln");
    await links[4]?.trigger("click");
    await vi.waitFor(() => expect(router.currentRoute.value.query).toEqual({ q: "xyzzy" }), WAIT);
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
    // Without the categories the products show on one shelf, without a heading.
    expect(wrapper.find('[data-product-id="pulsa-nusantara"]').exists()).toBe(true);
    expect(wrapper.find(".home__shelf-title").exists()).toBe(false);
    expect(wrapper.get('[data-product-id="pulsa-nusantara"] h3').text()).toBe("Pulsa Nusantara");
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
