/**
 * The storefront's pages. Real URLs (createWebHistory) because e-mails link straight to
 * an order's page; each page is its own chunk, loaded when first visited.
 */
import { createRouter, createWebHistory, type RouteLocationNormalized, type RouteRecordRaw, type Router } from "vue-router";

function queryText(route: RouteLocationNormalized, name: string): string {
  const value = route.query[name];
  return typeof value === "string" ? value : "";
}

export const routes: RouteRecordRaw[] = [
  { path: "/", name: "home", component: () => import("@/views/HomeView.vue") },
  {
    path: "/products/:productId",
    name: "product",
    component: () => import("@/views/ProductOrderView.vue"),
    props: (route) => ({ productId: String(route.params.productId) }),
  },
  { path: "/orders", name: "order-lookup", component: () => import("@/views/OrderLookupView.vue") },
  {
    path: "/orders/:orderId",
    name: "order",
    component: () => import("@/views/OrderPaymentView.vue"),
    props: (route) => ({ orderId: String(route.params.orderId), token: queryText(route, "token") }),
  },
  { path: "/:pathMatch(.*)*", name: "not-found", component: () => import("@/views/NotFoundView.vue") },
];

export function createStorefrontRouter(): Router {
  return createRouter({
    history: createWebHistory(import.meta.env.BASE_URL),
    routes,
    scrollBehavior(to, from, savedPosition) {
      if (savedPosition) return savedPosition;
      // "Pesanan saya" in the header opens the lookup page at its list of this device's orders.
      if (to.hash !== "") return { el: to.hash, top: 16 };
      if (to.path === from.path) return false;
      return { top: 0 };
    },
  });
}
