/**
 * The home page's shelves: products grouped by their category, in the categories' display
 * order (ListCategories answers them sorted by sort_order), as shops lay out their
 * catalog. ListProducts answers products by id, so the order is made here.
 */
import type { Category, Product } from "@pasar/contracts/pasar/product/v1/product_pb";

/** One shelf: a category and its products; no category for products of an unknown one. */
export interface ProductGroup {
  category: Category | undefined;
  products: Product[];
}

/**
 * The products by category, categories in the given order; products in the order given.
 * Categories without products are left out; products whose category is not among the
 * given ones (the categories could not be loaded, or a new one) come last, unnamed.
 */
export function groupByCategory(products: readonly Product[], categories: readonly Category[]): ProductGroup[] {
  const known = new Map(categories.map((category) => [category.id, category]));
  const byCategory = new Map<string, Product[]>();
  const others: Product[] = [];
  for (const product of products) {
    if (!known.has(product.categoryId)) {
      others.push(product);
      continue;
    }
    const shelf = byCategory.get(product.categoryId);
    if (shelf === undefined) byCategory.set(product.categoryId, [product]);
    else shelf.push(product);
  }
  const groups: ProductGroup[] = categories
    .filter((category) => byCategory.has(category.id))
    .map((category) => ({ category, products: byCategory.get(category.id) ?? [] }));
  if (others.length > 0) groups.push({ category: undefined, products: others });
  return groups;
}
