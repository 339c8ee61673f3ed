import { create } from "@bufbuild/protobuf";
import { CategorySchema, ProductSchema } from "@pasar/contracts/pasar/product/v1/product_pb";
import { describe, expect, it } from "vitest";

import { groupByCategory } from "./productGroups";

const category = (id: string, sortOrder: number) => create(CategorySchema, { id, displayName: id, sortOrder });
const product = (id: string, categoryId: string) => create(ProductSchema, { id, displayName: id, categoryId });

describe("groupByCategory", () => {
  // ListProducts answers by id: the data plans come before the phone credit.
  const products = [
    product("data-nusantara", "paket-data"),
    product("pulsa-nusantara", "pulsa"),
    product("token-listrik", "token-listrik"),
    product("pulsa-samudra", "pulsa"),
  ];

  it("puts the shelves in the categories' order and leaves out empty categories", () => {
    const categories = [category("pulsa", 10), category("paket-data", 20), category("voucher-game", 30), category("token-listrik", 40)];
    const groups = groupByCategory(products, categories);
    expect(groups.map((group) => group.category?.id)).toEqual(["pulsa", "paket-data", "token-listrik"]);
    expect(groups[0]?.products.map((item) => item.id)).toEqual(["pulsa-nusantara", "pulsa-samudra"]);
  });

  it("keeps products of an unknown category on an unnamed last shelf", () => {
    const groups = groupByCategory(products, [category("pulsa", 10)]);
    expect(groups.map((group) => group.category?.id)).toEqual(["pulsa", undefined]);
    expect(groups[1]?.products.map((item) => item.id)).toEqual(["data-nusantara", "token-listrik"]);
  });

  it("makes one unnamed shelf when the categories are not known", () => {
    const groups = groupByCategory(products, []);
    expect(groups).toHaveLength(1);
    expect(groups[0]?.products).toHaveLength(4);
  });
});
