import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { effectScope, nextTick, ref } from "vue";

import { formatDuration, useCountdown } from "./useCountdown";

describe("formatDuration", () => {
  it("writes minutes and seconds, and hours when there are any", () => {
    expect(formatDuration(0)).toBe("00:00");
    expect(formatDuration(123)).toBe("02:03");
    expect(formatDuration(3723)).toBe("01:02:03");
    expect(formatDuration(90061)).toBe("25:01:01");
    expect(formatDuration(-5)).toBe("00:00");
  });
});

describe("useCountdown", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2026-01-05T08:00:00Z"));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("ticks down to zero and then says expired", async () => {
    const scope = effectScope();
    const deadline = ref<Date | undefined>(new Date("2026-01-05T08:00:03Z"));
    const countdown = scope.run(() => useCountdown(deadline));
    expect(countdown?.display.value).toBe("00:03");
    vi.advanceTimersByTime(2000);
    await nextTick();
    expect(countdown?.secondsLeft.value).toBe(1);
    vi.advanceTimersByTime(1000);
    await nextTick();
    expect(countdown?.expired.value).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    scope.stop();
  });

  it("has no time left without a deadline", () => {
    const scope = effectScope();
    const countdown = scope.run(() => useCountdown(ref<Date | undefined>()));
    expect(countdown?.secondsLeft.value).toBeUndefined();
    expect(countdown?.expired.value).toBe(false);
    scope.stop();
  });
});
