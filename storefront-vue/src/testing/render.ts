/** Mounts the storefront's routed pages for component tests, on an in-memory history. */
import { flushPromises, mount, type VueWrapper } from "@vue/test-utils";
import { defineComponent, h } from "vue";
import { createMemoryHistory, createRouter, RouterView, type Router } from "vue-router";

import { setLocale } from "@/i18n";
import { routes } from "@/router";

export interface RenderedRoute {
  wrapper: VueWrapper;
  router: Router;
}

/** Opens a path as the shopper would, in Indonesian unless told otherwise. */
export async function renderRoute(path: string, options: { locale?: "id" | "en" } = {}): Promise<RenderedRoute> {
  setLocale(options.locale ?? "id");
  const router = createRouter({ history: createMemoryHistory(), routes });
  await router.push(path);
  await router.isReady();
  const Root = defineComponent({ render: () => h(RouterView) });
  const wrapper = mount(Root, { global: { plugins: [router] }, attachTo: document.body });
  await settle();
  return { wrapper, router };
}

/**
 * Lets pending requests, lazy routes and re-renders finish. It waits on setImmediate
 * (through flushPromises), so tests may fake setTimeout and setInterval.
 */
export async function settle(): Promise<void> {
  for (let round = 0; round < 10; round += 1) await flushPromises();
}
