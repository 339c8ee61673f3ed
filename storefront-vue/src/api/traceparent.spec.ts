import { afterEach, describe, expect, it, vi } from "vitest";

import { isTraceId, newSpanId, newTraceId, newTraceparent, traceIdOf } from "./traceparent";

const FORMAT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("traceparent", () => {
  it("is version 00, a 16-byte trace id, an 8-byte span id and the sampled flag, in lowercase hex", () => {
    const value = newTraceparent();
    expect(value).toMatch(FORMAT);
    expect(traceIdOf(value)).toBe(value.slice(3, 35));
  });

  it("draws new ids each time from crypto.getRandomValues", () => {
    const draw = vi.spyOn(crypto, "getRandomValues");
    const values = new Set(Array.from({ length: 50 }, () => newTraceparent()));
    expect(values.size).toBe(50);
    expect(draw).toHaveBeenCalled();
  });

  it("keeps a given trace id with a new span id, for a retry of the same action", () => {
    const traceId = newTraceId();
    const first = newTraceparent(traceId);
    const retry = newTraceparent(traceId);
    expect(traceIdOf(first)).toBe(traceId);
    expect(traceIdOf(retry)).toBe(traceId);
    expect(first.slice(36, 52)).not.toBe(retry.slice(36, 52));
  });

  it("never makes an all-zero id, which W3C Trace Context calls invalid", () => {
    let calls = 0;
    vi.spyOn(crypto, "getRandomValues").mockImplementation(<T extends ArrayBufferView | null>(array: T): T => {
      calls += 1;
      // The first draw of each id is all zeros; the next is not.
      if (array instanceof Uint8Array && calls % 2 === 0) array.fill(0xab);
      else if (array instanceof Uint8Array) array.fill(0);
      return array;
    });
    expect(newTraceId()).toBe("ab".repeat(16));
    expect(newSpanId()).toBe("ab".repeat(8));
  });

  it("refuses a trace id that is not 32 lowercase hex digits or is all zeros", () => {
    expect(isTraceId("0".repeat(32))).toBe(false);
    expect(isTraceId("4BF92F3577B34DA6A3CE929D0E0E4736")).toBe(false);
    expect(isTraceId("4bf92f3577b34da6a3ce929d0e0e473")).toBe(false);
    expect(isTraceId("4bf92f3577b34da6a3ce929d0e0e4736")).toBe(true);
    expect(() => newTraceparent("0".repeat(32))).toThrow(RangeError);
    expect(traceIdOf("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toBeUndefined();
  });
});
