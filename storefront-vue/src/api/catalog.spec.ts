import { ProductState } from "@pasar/contracts/pasar/product/v1/product_pb";
import { describe, expect, it } from "vitest";

import { categoriesJson, productJson, productsJson } from "@/testing/catalog";
import { errorResponse, installFakeGateway, jsonResponse } from "@/testing/gateway";

import { getProduct, listCategories, listProducts, searchQuery } from "./catalog";
import { ApiError } from "./http";

describe("the catalog client", () => {
  it("parses proto3 JSON into typed messages: int64 as bigint, enums by name", async () => {
    installFakeGateway().on("GET", "/api/v1/products/pulsa-nusantara", () => jsonResponse(productJson()));
    const product = await getProduct("pulsa-nusantara");
    expect(product.displayName).toBe("Pulsa Nusantara");
    expect(product.state).toBe(ProductState.ACTIVE);
    expect(product.minPrice?.amount).toBe(11500n);
    expect(product.packages.map((item) => [item.id, item.price?.amount, item.stockAvailable])).toEqual([
      ["pulsa-nusantara-10k", 11500n, 40],
      ["pulsa-nusantara-50k", 50500n, 3],
      ["pulsa-nusantara-100k", 99000n, 0],
    ]);
    expect(product.createTime?.seconds).toBe(BigInt(Date.UTC(2026, 0, 5, 8) / 1000));
  });

  it("ignores fields a newer gateway adds", async () => {
    installFakeGateway().on("GET", "/api/v1/products/pulsa-nusantara", () =>
      jsonResponse({ ...productJson(), someFutureField: { nested: true } }),
    );
    await expect(getProduct("pulsa-nusantara")).resolves.toMatchObject({ id: "pulsa-nusantara" });
  });

  it("rejects a body that is not the contract's message", async () => {
    installFakeGateway().on("GET", "/api/v1/products/pulsa-nusantara", () =>
      jsonResponse({ ...productJson(), minPrice: { amount: "twelve" } }),
    );
    await expect(getProduct("pulsa-nusantara")).rejects.toBeInstanceOf(ApiError);
  });

  it("asks for a page of products with the filters, and returns the next page token", async () => {
    const gateway = installFakeGateway().on("GET", "/api/v1/products", () => jsonResponse(productsJson("next-1")));
    const page = await listProducts({ pageSize: 12, pageToken: "abc", categoryId: "pulsa", query: "nusa" });
    expect(page.products).toHaveLength(1);
    expect(page.nextPageToken).toBe("next-1");
    expect(Object.fromEntries(gateway.requests[0]?.query ?? [])).toEqual({
      pageSize: "12",
      pageToken: "abc",
      categoryId: "pulsa",
      query: "nusa",
    });
  });

  it("follows the pages of categories to the end", async () => {
    const gateway = installFakeGateway().on("GET", "/api/v1/categories", (request) =>
      request.query.get("pageToken") === "p2"
        ? jsonResponse({ categories: [{ id: "voucher-game", displayName: "Voucher Game", sortOrder: 3 }], nextPageToken: "" })
        : jsonResponse({ ...categoriesJson(), nextPageToken: "p2" }),
    );
    const categories = await listCategories();
    expect(categories.map((category) => category.id)).toEqual(["pulsa", "paket-data", "voucher-game"]);
    expect(gateway.requests).toHaveLength(2);
  });

  it("escapes ids in paths", async () => {
    const gateway = installFakeGateway();
    await getProduct("../admin").catch(() => undefined);
    expect(gateway.requests[0]?.path).toBe("/api/v1/products/..%2Fadmin");
  });

  it("reports the product service being down as unavailable", async () => {
    installFakeGateway().on("GET", "/api/v1/products", () => errorResponse(503, "UNAVAILABLE", "down"));
    await expect(listProducts({})).rejects.toMatchObject({ status: 503, unavailable: true });
  });

  it("sends the search text as typed, trimmed and cut to the contract's 100 characters", () => {
    expect(searchQuery("  PLN ")).toBe("PLN");
    expect(searchQuery("ä".repeat(150))).toHaveLength(100);
    expect(searchQuery("😀".repeat(101))).toBe("😀".repeat(100));
  });
});
