/**
 * Runs a refresh again and again while a condition holds (an order still waiting for its
 * payment), one at a time, pausing while the tab is hidden and stopping for good when
 * the component goes away.
 */
import { onScopeDispose, watch, type Ref } from "vue";

export interface Polling {
  /** Refreshes now and restarts the wait, for example right after a simulated payment. */
  pollNow: () => Promise<void>;
}

/** intervalMs: the wait between refreshes, read again before each wait. */
export function usePolling(
  refresh: () => Promise<void>,
  intervalMs: number | (() => number),
  active: Readonly<Ref<boolean>>,
): Polling {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  let disposed = false;

  function clear(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  }

  function schedule(): void {
    clear();
    if (disposed || !active.value) return;
    timer = setTimeout(() => void tick(), typeof intervalMs === "number" ? intervalMs : intervalMs());
  }

  async function tick(): Promise<void> {
    if (running) return;
    if (typeof document !== "undefined" && document.visibilityState === "hidden") {
      schedule();
      return;
    }
    running = true;
    try {
      await refresh();
    } finally {
      running = false;
      schedule();
    }
  }

  function onVisible(): void {
    if (document.visibilityState === "visible" && active.value && !running) void tick();
  }

  watch(active, (isActive) => (isActive ? schedule() : clear()), { immediate: true });
  if (typeof document !== "undefined") document.addEventListener("visibilitychange", onVisible);
  onScopeDispose(() => {
    disposed = true;
    clear();
    if (typeof document !== "undefined") document.removeEventListener("visibilitychange", onVisible);
  });

  return {
    pollNow: async () => {
      clear();
      await tick();
    },
  };
}
