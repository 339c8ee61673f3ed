import { flushPromises } from "@vue/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { channelsJson } from "@/testing/catalog";
import { installFakeGateway, jsonResponse, unavailable, type FakeGateway } from "@/testing/gateway";

import { FIRST_RETRY_MS, LONGEST_RETRY_MS, forgetSandbox, useSandbox } from "./useSandbox";

const CHANNELS = "/api/v1/payment-channels";

describe("useSandbox", () => {
  let gateway: FakeGateway;
  let answers: (() => Response)[];

  beforeEach(() => {
    vi.useFakeTimers();
    answers = [];
    gateway = installFakeGateway().on("GET", CHANNELS, () => (answers.shift() ?? unavailable)());
  });
  afterEach(() => {
    forgetSandbox();
    vi.useRealTimers();
  });

  const asked = (): number => gateway.requestsTo("GET", CHANNELS).length;
  const sandboxShop = (): Response => jsonResponse(channelsJson({ sandbox: true }));

  it("asks once per visit and shares the answer", async () => {
    answers.push(sandboxShop);
    const first = useSandbox();
    const second = useSandbox();
    await flushPromises();
    expect(first.value).toBe(true);
    expect(second.value).toBe(true);
    expect(asked()).toBe(1);
  });

  it("asks again after a failure, ever later, until the payment service answers", async () => {
    answers.push(unavailable, unavailable, sandboxShop);
    const sandbox = useSandbox();
    await flushPromises();
    expect(sandbox.value).toBe(false);
    expect(asked()).toBe(1);

    useSandbox(); // a page opened meanwhile waits for the retry instead of asking on its own
    expect(asked()).toBe(1);

    await vi.advanceTimersByTimeAsync(FIRST_RETRY_MS);
    expect(asked()).toBe(2);
    expect(sandbox.value).toBe(false);

    await vi.advanceTimersByTimeAsync(FIRST_RETRY_MS);
    expect(asked()).toBe(2); // the second wait is twice as long
    await vi.advanceTimersByTimeAsync(FIRST_RETRY_MS);
    expect(asked()).toBe(3);
    expect(sandbox.value).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("waits at most the longest delay between two questions", async () => {
    useSandbox();
    await flushPromises();
    for (let delay = FIRST_RETRY_MS; delay < LONGEST_RETRY_MS; delay *= 2) {
      await vi.advanceTimersByTimeAsync(delay);
    }
    const before = asked();
    await vi.advanceTimersByTimeAsync(LONGEST_RETRY_MS);
    expect(asked()).toBe(before + 1);
  });

  it("forgets a pending retry with the answer", async () => {
    useSandbox();
    await flushPromises();
    forgetSandbox();
    expect(vi.getTimerCount()).toBe(0);
  });
});
