/** The time left until a deadline, ticking every second while the component lives. */
import { computed, onScopeDispose, ref, watch, type ComputedRef, type Ref } from "vue";

export interface Countdown {
  /** Whole seconds left; 0 once the deadline passed; undefined without a deadline. */
  secondsLeft: ComputedRef<number | undefined>;
  /** "HH:MM:SS" (or "MM:SS" under an hour) of the time left. */
  display: ComputedRef<string>;
  expired: ComputedRef<boolean>;
}

/** "01:02:03" for 3723 seconds, "02:03" for 123, with days folded into the hours. */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  const pad = (value: number): string => String(value).padStart(2, "0");
  return hours > 0 ? `${pad(hours)}:${pad(minutes)}:${pad(rest)}` : `${pad(minutes)}:${pad(rest)}`;
}

export function useCountdown(deadline: Ref<Date | undefined>, now: () => number = Date.now): Countdown {
  const clock = ref(now());
  let timer: ReturnType<typeof setInterval> | undefined;

  function stop(): void {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  }

  watch(
    deadline,
    (value) => {
      stop();
      clock.value = now();
      if (value !== undefined && value.getTime() > clock.value) {
        timer = setInterval(() => {
          clock.value = now();
          if (value.getTime() <= clock.value) stop();
        }, 1000);
      }
    },
    { immediate: true },
  );
  onScopeDispose(stop);

  const secondsLeft = computed(() =>
    deadline.value === undefined ? undefined : Math.max(0, Math.ceil((deadline.value.getTime() - clock.value) / 1000)),
  );
  return {
    secondsLeft,
    display: computed(() => formatDuration(secondsLeft.value ?? 0)),
    expired: computed(() => secondsLeft.value === 0),
  };
}
