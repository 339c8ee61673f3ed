// @vitest-environment node
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { listImages, resolveImage, type ImageFolder } from "./pasarImages";

function folders(): { folders: ImageFolder[]; products: string } {
  const root = mkdtempSync(join(tmpdir(), "pasar-images-"));
  const products = join(root, "products");
  mkdirSync(products);
  writeFileSync(join(products, "pulsa-nusantara.svg"), "<svg/>");
  writeFileSync(join(products, ".hidden.svg"), "<svg/>");
  writeFileSync(join(products, "notes.txt"), "not an image");
  writeFileSync(join(root, "secret.svg"), "<svg/>");
  return {
    folders: [
      { urlPrefix: "/images/products/", directory: products },
      { urlPrefix: "/images/channels/", directory: join(root, "missing") },
    ],
    products,
  };
}

describe("the images plugin", () => {
  it("serves an image of a folder by its URL", () => {
    const { folders: list, products } = folders();
    expect(resolveImage(list, "/images/products/pulsa-nusantara.svg?v=1")).toBe(join(products, "pulsa-nusantara.svg"));
  });

  it("never leaves the folders or serves other files", () => {
    const { folders: list } = folders();
    expect(resolveImage(list, "/images/products/../secret.svg")).toBeUndefined();
    expect(resolveImage(list, "/images/products/..%2Fsecret.svg")).toBeUndefined();
    expect(resolveImage(list, "/images/products/.hidden.svg")).toBeUndefined();
    expect(resolveImage(list, "/images/products/notes.txt")).toBeUndefined();
    expect(resolveImage(list, "/images/products/absent.svg")).toBeUndefined();
    expect(resolveImage(list, "/images/channels/bca_va.svg")).toBeUndefined();
    expect(resolveImage(list, "/src/main.ts")).toBeUndefined();
  });

  it("lists the images to copy into the build, and none for a missing folder", () => {
    const { folders: list } = folders();
    expect(listImages(list[0]?.directory ?? "")).toEqual(["pulsa-nusantara.svg"]);
    expect(listImages(list[1]?.directory ?? "")).toEqual([]);
  });
});
