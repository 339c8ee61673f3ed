import type { JsonObject } from "@bufbuild/protobuf";
import type { VueWrapper } from "@vue/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { setLocale } from "@/i18n";
import { categoriesJson, productJson, productsJson, tokenProductJson } from "@/testing/catalog";
import {
  deferredResponse,
  installFakeGateway,
  jsonResponse,
  unavailable,
  type FakeGateway,
  type RecordedRequest,
} from "@/testing/gateway";
import { renderRoute, settle } from "@/testing/render";

/** Lazy pages load on first use, which can take a while on a busy machine. */
const WAIT = { timeout: 10_000 };

let gateway: FakeGateway;
let mounted: VueWrapper | undefined;

const dataPlan = (): JsonObject => ({
  ...productJson(),
  id: "data-nusantara",
  displayName: "Paket Data Nusantara",
  displayNameEn: "Nusantara Data Plan",
  categoryId: "paket-data",
});

/** ListProducts as the product service answers it: the products of the asked category. */
function byCategory(products: JsonObject[]): (request: RecordedRequest) => Response {
  return (request) => {
    const categoryId = request.query.get("categoryId");
    const matching = categoryId === null ? products : products.filter((product) => product.categoryId === categoryId);
    return jsonResponse({ products: matching, nextPageToken: "" });
  };
}

/** The query of each products request, as an object. */
function productRequests(): Record<string, string>[] {
  return gateway.requestsTo("GET", "/api/v1/products").map((request) => Object.fromEntries(request.query));
}

function shelfIds(wrapper: VueWrapper): (string | undefined)[] {
  return wrapper.findAll("[data-shelf]").map((shelf) => shelf.attributes("data-shelf"));
}

beforeEach(() => {
  gateway = installFakeGateway()
    .on("GET", "/api/v1/categories", () => jsonResponse(categoriesJson()))
    .on("GET", "/api/v1/products", byCategory([productJson(), dataPlan()]));
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

  it("asks each category for its first 8 products, all at once after the categories, never the whole catalog", async () => {
    const answers = new Map<string, ReturnType<typeof deferredResponse>>();
    gateway.on("GET", "/api/v1/products", (request) => {
      const answer = deferredResponse();
      answers.set(request.query.get("categoryId") ?? "", answer);
      return answer.handler(request);
    });
    const { wrapper } = await open();
    // Both calls are out before either answers: the shelves load side by side.
    expect(productRequests()).toEqual([
      { categoryId: "pulsa", pageSize: "8" },
      { categoryId: "paket-data", pageSize: "8" },
    ]);
    expect(wrapper.get('[data-section="products"]').attributes("aria-busy")).toBe("true");
    answers.get("paket-data")?.release(jsonResponse({ products: [dataPlan()], nextPageToken: "more" }));
    await settle();
    expect(wrapper.find('[data-product-id="data-nusantara"]').exists()).toBe(true);
    expect(wrapper.get('[data-shelf="pulsa"] [role="status"]').text()).toBe("Memuat…");
    answers.get("pulsa")?.release(jsonResponse(productsJson()));
    await settle();
    expect(wrapper.get('[data-section="products"]').attributes("aria-busy")).toBe("false");
    // A shelf shows its first page only; the rest is behind "Lihat semua".
    expect(productRequests()).toHaveLength(2);
    expect(wrapper.find(".home__more").exists()).toBe(false);
  });

  it("puts the shelves in the categories' order, whatever order the answers come in", async () => {
    gateway.on("GET", "/api/v1/categories", () =>
      jsonResponse({
        categories: [
          ...(categoriesJson().categories as JsonObject[]),
          { id: "token-listrik", displayName: "Token Listrik", displayNameEn: "Electricity", sortOrder: 3 },
        ],
        nextPageToken: "",
      }),
    );
    const slowFirst = deferredResponse();
    gateway.on("GET", "/api/v1/products", (request) =>
      request.query.get("categoryId") === "pulsa"
        ? slowFirst.handler(request)
        : byCategory([dataPlan(), tokenProductJson()])(request),
    );
    const { wrapper } = await open();
    slowFirst.release(jsonResponse(productsJson()));
    await settle();
    const shelves = wrapper.findAll("[data-shelf]");
    expect(shelfIds(wrapper)).toEqual(["pulsa", "paket-data", "token-listrik"]);
    expect(shelves.map((shelf) => shelf.get("h3").text())).toEqual(["Pulsa", "Paket Data", "Token Listrik"]);
    expect(shelves[1]?.findAll("[data-product-id]").map((card) => card.attributes("data-product-id"))).toEqual([
      "data-nusantara",
    ]);
    // Each shelf is a region named by its heading; the products' names are headings below it.
    expect(shelves[0]?.attributes("aria-labelledby")).toBe(shelves[0]?.get("h3").attributes("id"));
    expect(shelves[0]?.find("h4").text()).toBe("Pulsa Nusantara");
  });

  it("shows no shelf for an empty category, and says so when no category has a product", async () => {
    gateway.on("GET", "/api/v1/products", byCategory([dataPlan()]));
    const { wrapper } = await open();
    expect(shelfIds(wrapper)).toEqual(["paket-data"]);
    expect(wrapper.find("[data-no-results]").exists()).toBe(false);

    mounted?.unmount();
    gateway.on("GET", "/api/v1/products", byCategory([]));
    const again = await open();
    expect(shelfIds(again.wrapper)).toEqual([]);
    expect(again.wrapper.get("[data-no-results]").text()).toBe("Belum ada produk di sini.");
  });

  it("keeps a failing shelf's error and retry to itself while the other shelves show", async () => {
    let dataPlansUp = false;
    gateway.on("GET", "/api/v1/products", (request) =>
      request.query.get("categoryId") === "paket-data" && !dataPlansUp
        ? unavailable()
        : byCategory([productJson(), dataPlan()])(request),
    );
    const { wrapper } = await open();
    const failing = wrapper.get('[data-shelf="paket-data"]');
    expect(failing.get("h3").text()).toBe("Paket Data");
    expect(failing.get('[role="alert"]').text()).toContain("Produk sedang tidak dapat dimuat");
    expect(wrapper.find('[data-shelf="pulsa"] [role="alert"]').exists()).toBe(false);
    expect(wrapper.find('[data-shelf="pulsa"] [data-product-id="pulsa-nusantara"]').exists()).toBe(true);
    expect(wrapper.findAll('[data-section="products"] [role="alert"]')).toHaveLength(1);

    dataPlansUp = true;
    await failing.get('[role="alert"] button').trigger("click");
    await settle();
    expect(wrapper.find('[data-section="products"] [role="alert"]').exists()).toBe(false);
    expect(wrapper.find('[data-shelf="paket-data"] [data-product-id="data-nusantara"]').exists()).toBe(true);
    // The retry asked for that shelf again, and only for it.
    expect(productRequests().map((query) => query.categoryId)).toEqual(["pulsa", "paket-data", "paket-data"]);
  });

  it("links each shelf to its category's whole list, which pages on with page tokens", async () => {
    const { wrapper, router } = await open();
    const seeAll = wrapper.get('[data-shelf="pulsa"] [data-see-all]');
    expect(seeAll.attributes("href")).toBe("/?category=pulsa");
    expect(seeAll.text().replace(/\s+/g, " ")).toBe("Lihat semua produk Pulsa");
    expect(seeAll.get(".visually-hidden").element.textContent).toBe(" produk Pulsa");

    gateway.on("GET", "/api/v1/products", (request) =>
      request.query.get("pageToken") === "page-2"
        ? jsonResponse({ products: [{ ...tokenProductJson(), categoryId: "pulsa" }], nextPageToken: "" })
        : jsonResponse(productsJson("page-2")),
    );
    await seeAll.trigger("click");
    await vi.waitFor(() => expect(router.currentRoute.value.query).toEqual({ category: "pulsa" }), WAIT);
    await settle();
    expect(productRequests().at(-1)).toEqual({ categoryId: "pulsa", pageSize: "24" });
    expect(wrapper.get("h2#products-title").text()).toBe("Pulsa");
    expect(wrapper.get("h2#products-title").classes()).not.toContain("visually-hidden");
    expect(wrapper.find("[data-shelf]").exists()).toBe(false);
    expect(wrapper.get('[data-category="pulsa"]').attributes("aria-current")).toBe("page");

    await wrapper.get(".home__more button").trigger("click");
    await settle();
    expect(productRequests().at(-1)).toEqual({ categoryId: "pulsa", pageSize: "24", pageToken: "page-2" });
    expect(wrapper.findAll("[data-product-id]").map((card) => card.attributes("data-product-id"))).toEqual([
      "pulsa-nusantara",
      "token-listrik",
    ]);
    expect(wrapper.find(".home__more").exists()).toBe(false);
  });

  it("shows English names of products and categories in English, the Indonesian where there is none", async () => {
    const noEnglish = { ...tokenProductJson(), displayNameEn: "", categoryId: "pulsa" };
    gateway.on("GET", "/api/v1/products", byCategory([productJson(), noEnglish]));
    const { wrapper } = await open("/", "en");
    expect(wrapper.get('[data-product-id="pulsa-nusantara"] a').text()).toBe("Nusantara Phone Credit");
    expect(wrapper.get('[data-product-id="token-listrik"] a').text()).toBe("Token Listrik Prabayar");
    expect(wrapper.get('[data-shelf="pulsa"] h3').text()).toBe("Phone Credit");
    expect(wrapper.get('[data-shelf="pulsa"] [data-see-all]').text().replace(/\s+/g, " ")).toBe(
      "See all Phone Credit products",
    );
    expect(wrapper.findAll("[data-category]").map((link) => link.text())).toEqual(["All", "Phone Credit", "Data Plans"]);
  });

  it("filters by category and sends the search text as typed, trimmed, as one list", async () => {
    const { wrapper, router } = await open();
    await wrapper.get('[data-category="paket-data"]').trigger("click");
    await vi.waitFor(() => expect(router.currentRoute.value.query).toEqual({ category: "paket-data" }), WAIT);
    await settle();
    await wrapper.get("#product-search").setValue("  PLN token ");
    await wrapper.get('form[role="search"]').trigger("submit");
    await vi.waitFor(() => expect(router.currentRoute.value.query).toEqual({ category: "paket-data", q: "PLN token" }), WAIT);
    await settle();
    expect(productRequests().at(-1)).toEqual({ pageSize: "24", categoryId: "paket-data", query: "PLN token" });
    expect(wrapper.text()).toContain("Hasil pencarian “PLN token”");
    expect(wrapper.get("[data-result-count]").text()).toBe("1 produk ditemukan");
    expect(wrapper.get('[data-category="paket-data"]').attributes("aria-current")).toBe("page");
    expect(wrapper.find("[data-shelf]").exists()).toBe(false);
  });

  it("says a search's count is of the first page while more pages remain", async () => {
    gateway.on("GET", "/api/v1/products", () => jsonResponse(productsJson("page-2")));
    const { wrapper } = await open("/?q=pulsa");
    expect(productRequests()).toEqual([{ pageSize: "24", query: "pulsa" }]);
    expect(wrapper.get("[data-result-count]").text()).toBe("1 produk pertama ditampilkan");
    expect(wrapper.get(".home__more button").text()).toBe("Tampilkan produk lainnya");
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
    // Without the categories there is no shelf to ask for.
    expect(gateway.requestsTo("GET", "/api/v1/products")).toHaveLength(0);

    // The shelves come from the categories: the products' retry loads them, then the shelves.
    gateway
      .on("GET", "/api/v1/categories", () => jsonResponse(categoriesJson()))
      .on("GET", "/api/v1/products", byCategory([productJson(), dataPlan()]));
    await products.get("button").trigger("click");
    await settle();
    expect(wrapper.find('[role="alert"]').exists()).toBe(false);
    expect(shelfIds(wrapper)).toEqual(["pulsa", "paket-data"]);
  });

  it("speaks English when chosen, and remembers the choice", async () => {
    gateway.on("GET", "/api/v1/products", () => unavailable());
    const { wrapper } = await open("/", "en");
    expect(wrapper.get("h1").text()).toBe("What would you like to buy today?");
    expect(wrapper.get('[data-shelf="pulsa"] [role="alert"]').text()).toContain("Products can't be loaded right now");
    expect(localStorage.getItem("pasar.locale")).toBe("en");
    expect(document.documentElement.lang).toBe("en");
  });
});
