import { create } from "@bufbuild/protobuf";
import { CategorySchema, PackageSchema, ProductSchema } from "@pasar/contracts/pasar/product/v1/product_pb";
import { describe, expect, it } from "vitest";

import { categoryName, packageDescription, packageName, productDescription, productName } from "./catalogText";

describe("the catalog's words in the shopper's language", () => {
  const product = create(ProductSchema, {
    displayName: "Token Listrik Prabayar",
    displayNameEn: "Prepaid Electricity Token",
    description: "Token PLN prabayar.",
    descriptionEn: "",
  });

  it("are Indonesian in Indonesian, English in English", () => {
    expect(productName(product, "id")).toBe("Token Listrik Prabayar");
    expect(productName(product, "en")).toBe("Prepaid Electricity Token");
    const category = create(CategorySchema, { displayName: "Voucher Game", displayNameEn: "Game vouchers" });
    expect(categoryName(category, "en")).toBe("Game vouchers");
    expect(categoryName(category, "id")).toBe("Voucher Game");
  });

  it("fall back to the Indonesian when the English is empty or blank", () => {
    expect(productDescription(product, "en")).toBe("Token PLN prabayar.");
    const item = create(PackageSchema, { displayName: "Pulsa 10.000", displayNameEn: "  ", description: "Masa aktif 15 hari." });
    expect(packageName(item, "en")).toBe("Pulsa 10.000");
    expect(packageDescription(item, "en")).toBe("Masa aktif 15 hari.");
  });
});
