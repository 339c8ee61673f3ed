/**
 * Whether this shop's payments are settled by the sandbox: a development or demo shop,
 * where no real money moves and anyone may mark a payment paid. Every page shows a demo
 * banner then, and the payment page offers "simulate payment"; a real shop shows neither.
 *
 * The answer comes from the payment service (ListPaymentChannelsResponse.sandbox), asked
 * once per visit and shared by every page. Until it comes it is false: never a demo banner
 * or a simulate button on a guess. After a failure (the payment service down, or a gateway
 * worker still reconnecting to it) it is asked again, 2 s later and then twice as long each
 * time up to 30 s, so that a page opened during an outage gains its button when the
 * service is back, without a reload.
 */
import { readonly, ref, type Ref } from "vue";

import { paymentsSettledBySandbox } from "@/api/payments";

export const FIRST_RETRY_MS = 2_000;
export const LONGEST_RETRY_MS = 30_000;

const sandbox = ref(false);
let asking = false;
let known = false;
let retryDelay = FIRST_RETRY_MS;
let retry: ReturnType<typeof setTimeout> | undefined;
// Bumped by forgetSandbox, so that an answer to an earlier question is dropped.
let generation = 0;

async function ask(): Promise<void> {
  const asked = generation;
  asking = true;
  retry = undefined;
  try {
    const answer = await paymentsSettledBySandbox();
    if (asked !== generation) return;
    sandbox.value = answer;
    known = true;
  } catch {
    // The payment service is down or unreachable: no banner, no button until it answers.
    if (asked !== generation) return;
    retry = setTimeout(() => void ask(), retryDelay);
    retryDelay = Math.min(retryDelay * 2, LONGEST_RETRY_MS);
  } finally {
    if (asked === generation) asking = false;
  }
}

export function useSandbox(): Readonly<Ref<boolean>> {
  if (!known && !asking && retry === undefined) void ask();
  return readonly(sandbox);
}

/** Forgets the answer (tests start each visit afresh). */
export function forgetSandbox(): void {
  generation += 1;
  sandbox.value = false;
  asking = false;
  known = false;
  clearTimeout(retry);
  retry = undefined;
  retryDelay = FIRST_RETRY_MS;
}
