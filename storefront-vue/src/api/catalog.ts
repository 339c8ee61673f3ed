/** The product service's public routes: categories, products and their packages. */
import { ProductSchema, type Category, type Product } from "@pasar/contracts/pasar/product/v1/product_pb";
import {
  ListCategoriesResponseSchema,
  ListProductsResponseSchema,
  type ListProductsResponse,
} from "@pasar/contracts/pasar/product/v1/product_service_pb";

import { parseMessage, requestJson } from "./http";

/** The most categories a page may hold (the contract's maximum). */
const CATEGORY_PAGE_SIZE = 100;

/** Every category, in display order, following the pages. */
export async function listCategories(signal?: AbortSignal): Promise<Category[]> {
  const categories: Category[] = [];
  let pageToken = "";
  do {
    const json = await requestJson("GET", "/categories", {
      query: { pageSize: CATEGORY_PAGE_SIZE, pageToken },
      signal,
    });
    const page = parseMessage(ListCategoriesResponseSchema, json);
    categories.push(...page.categories);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return categories;
}

/** What a page of products is asked for with. */
export interface ProductQuery {
  pageSize?: number;
  pageToken?: string;
  categoryId?: string;
  query?: string;
}

/** The longest search text the contract takes (ListProductsRequest.query), in characters. */
export const MAX_QUERY_LENGTH = 100;

/** The search text as the contract takes it: trimmed, at most MAX_QUERY_LENGTH characters. */
export function searchQuery(typed: string): string {
  return Array.from(typed.trim()).slice(0, MAX_QUERY_LENGTH).join("").trim();
}

/**
 * One page of active products, ordered by id: a category's first products for its shelf
 * on home (categoryId and a small pageSize), or a page of a category's or a search's list
 * (pageToken from the page before).
 */
export async function listProducts(request: ProductQuery, signal?: AbortSignal): Promise<ListProductsResponse> {
  const json = await requestJson("GET", "/products", {
    query: {
      pageSize: request.pageSize,
      pageToken: request.pageToken,
      categoryId: request.categoryId,
      query: request.query,
    },
    signal,
  });
  return parseMessage(ListProductsResponseSchema, json);
}

/** One active product with its packages. */
export async function getProduct(id: string, signal?: AbortSignal): Promise<Product> {
  const json = await requestJson("GET", `/products/${encodeURIComponent(id)}`, { signal });
  return parseMessage(ProductSchema, json);
}
