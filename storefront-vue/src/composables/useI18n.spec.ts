import { afterEach, describe, expect, it } from "vitest";

import { setLocale } from "@/i18n";

import { formatShopDateTime, formatShopTime, sameShopDay, shopIsoDateTime, useI18n } from "./useI18n";

afterEach(() => setLocale("id"));

// 23:30 UTC is 06:30 the next day in Jakarta: a device in another zone must not show its own.
const LATE_EVENING_UTC = new Date("2026-12-05T23:30:00Z");

describe("times shown to shoppers", () => {
  it("are in Asia/Jakarta and labelled WIB, in both languages", () => {
    expect(formatShopDateTime(LATE_EVENING_UTC, "id-ID")).toBe("6 Des 2026, 06.30 WIB");
    expect(formatShopDateTime(LATE_EVENING_UTC, "en-GB")).toBe("6 Dec 2026, 06:30 WIB");
    expect(formatShopTime(LATE_EVENING_UTC, "id-ID")).toBe("06.30 WIB");
    expect(formatShopTime(LATE_EVENING_UTC, "en-GB")).toBe("06:30 WIB");
  });

  it("write the first minutes of a Jakarta day as 00, on that day, never 24 of the day before", () => {
    const justAfterMidnight = new Date("2026-12-05T17:05:00Z"); // 00:05 WIB on the 6th
    expect(formatShopDateTime(justAfterMidnight, "id-ID")).toBe("6 Des 2026, 00.05 WIB");
    expect(formatShopDateTime(justAfterMidnight, "en-GB")).toBe("6 Dec 2026, 00:05 WIB");
    expect(formatShopTime(justAfterMidnight, "en-GB")).toBe("00:05 WIB");
    expect(shopIsoDateTime(justAfterMidnight)).toBe("2026-12-06T00:05:00+07:00");
    const justBefore = new Date("2026-12-05T16:59:00Z"); // 23:59 WIB on the 5th
    expect(formatShopDateTime(justBefore, "en-GB")).toBe("5 Dec 2026, 23:59 WIB");
  });

  it("give a <time> its instant with Jakarta's offset", () => {
    expect(shopIsoDateTime(LATE_EVENING_UTC)).toBe("2026-12-06T06:30:00+07:00");
  });

  it("tell a day by Jakarta's calendar", () => {
    expect(sameShopDay(LATE_EVENING_UTC, new Date("2026-12-05T17:00:00Z"))).toBe(true); // 00:00 WIB on the 6th
    expect(sameShopDay(LATE_EVENING_UTC, new Date("2026-12-05T16:59:59Z"))).toBe(false);
  });

  it("follow the shopper's language through useI18n, the time alone when it is today", () => {
    setLocale("en");
    const { formatDateTime, formatSoon } = useI18n();
    expect(formatDateTime(LATE_EVENING_UTC)).toBe("6 Dec 2026, 06:30 WIB");
    expect(formatSoon(LATE_EVENING_UTC, new Date("2026-12-05T20:00:00Z"))).toBe("06:30 WIB");
    expect(formatSoon(LATE_EVENING_UTC, new Date("2026-12-05T10:00:00Z"))).toBe("6 Dec 2026, 06:30 WIB");
  });
});
