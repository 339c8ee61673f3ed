/**
 * Whether this shop's payments are settled by the sandbox: a development or demo shop,
 * where no real money moves and anyone may mark a payment paid. Every page shows a demo
 * banner then, and the payment page offers "simulate payment"; a real shop shows neither.
 *
 * The answer comes from the payment service (ListPaymentChannelsResponse.sandbox), asked
 * once per visit and shared by every page. Until it comes, and after a failure (asked again
 * by the next page that needs it), it is false: never a demo banner or a simulate button
 * on a guess.
 */
import { readonly, ref, type Ref } from "vue";

import { paymentsSettledBySandbox } from "@/api/payments";

const sandbox = ref(false);
let asking = false;
let known = false;
// Bumped by forgetSandbox, so that an answer to an earlier question is dropped.
let generation = 0;

async function ask(): Promise<void> {
  const asked = generation;
  asking = true;
  try {
    const answer = await paymentsSettledBySandbox();
    if (asked !== generation) return;
    sandbox.value = answer;
    known = true;
  } catch {
    // The payment service is down or unreachable: no banner, no button; the next page asks again.
  } finally {
    if (asked === generation) asking = false;
  }
}

export function useSandbox(): Readonly<Ref<boolean>> {
  if (!known && !asking) void ask();
  return readonly(sandbox);
}

/** Forgets the answer (tests start each visit afresh). */
export function forgetSandbox(): void {
  generation += 1;
  sandbox.value = false;
  asking = false;
  known = false;
}
