/**
 * Home's shelves: one per category, in the categories' order, each holding that
 * category's first products from its own ListProducts call (`categoryId` and a small
 * page), made for all categories at once. Each shelf loads, fails and retries on its own,
 * so one failing call leaves the others' products on the page; a shop's catalog of any
 * size costs home one small page per category, never the whole catalog.
 */
import type { Category } from "@pasar/contracts/pasar/product/v1/product_pb";
import type { ListProductsResponse } from "@pasar/contracts/pasar/product/v1/product_service_pb";
import { computed, effectScope, onScopeDispose, shallowRef, watch, type ComputedRef, type EffectScope, type Ref, type ShallowRef } from "vue";

import { listProducts } from "@/api/catalog";

import { useRemoteData, type RemoteData } from "./useRemoteData";

/** One category's shelf: the category and the first page of its products. */
export interface CategoryShelf {
  category: Category;
  page: RemoteData<ListProductsResponse>;
}

export interface CategoryShelves {
  /** The shelves of the categories, in the categories' order (empty ones included). */
  shelves: ShallowRef<CategoryShelf[]>;
  /** True while a shelf loads. */
  loading: ComputedRef<boolean>;
  /** True when every shelf has loaded, and none holds a product (or there is no category). */
  empty: ComputedRef<boolean>;
}

/**
 * The shelves of `categories` while `active` (home without a category or a search), each
 * asking for `size` products. The shelves are made again when the categories are loaded
 * again; they are kept while home shows a list instead, for the way back.
 */
export function useCategoryShelves(
  categories: Readonly<Ref<readonly Category[] | undefined>>,
  active: Readonly<Ref<boolean>>,
  size: number,
): CategoryShelves {
  const shelves = shallowRef<CategoryShelf[]>([]);
  /** The categories the shelves were made for. */
  const madeFor = shallowRef<readonly Category[]>();
  let scope: EffectScope | undefined;

  function make(list: readonly Category[]): void {
    scope?.stop(); // abandons the calls of the shelves replaced
    scope = effectScope();
    madeFor.value = list;
    shelves.value =
      scope.run(() =>
        list.map((category) => ({
          category,
          page: useRemoteData((signal) => listProducts({ categoryId: category.id, pageSize: size }, signal)),
        })),
      ) ?? [];
  }

  watch(
    [categories, active],
    ([list, isActive]) => {
      if (isActive && list !== undefined && list !== madeFor.value) make(list);
    },
    { immediate: true },
  );
  onScopeDispose(() => scope?.stop());

  const loading = computed(() => shelves.value.some((shelf) => shelf.page.loading.value));
  const empty = computed(
    () =>
      madeFor.value !== undefined &&
      shelves.value.every(
        (shelf) => shelf.page.data.value !== undefined && shelf.page.data.value.products.length === 0,
      ),
  );
  return { shelves, loading, empty };
}
