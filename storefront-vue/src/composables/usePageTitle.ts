/** The browser tab's title for a page, following the language and the page's data. */
import { watchEffect } from "vue";

import { translate, currentLocale } from "@/i18n";

export function usePageTitle(title: () => string | undefined): void {
  watchEffect(() => {
    const page = title();
    const shop = translate(currentLocale.value, "app.name");
    document.title = page === undefined || page === "" ? shop : `${page} · ${shop}`;
  });
}
