/** Runs before every test file: each test is a fresh visit of the storefront. */
import { afterEach } from "vitest";

import { forgetSandbox } from "@/composables/useSandbox";

afterEach(() => {
  forgetSandbox();
});
