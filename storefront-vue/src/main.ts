/** The storefront's entry point: the app, its router and the remembered language. */
import { createApp } from "vue";

import App from "./App.vue";
import { currentLocale } from "./i18n";
import { createStorefrontRouter } from "./router";
import "./styles/main.css";

document.documentElement.lang = currentLocale.value;
createApp(App).use(createStorefrontRouter()).mount("#app");
