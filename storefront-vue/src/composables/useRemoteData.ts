/**
 * One part of a page and the one backend request it depends on: its data, its error and
 * whether it is loading. Each part of a page has its own, so that a failing service
 * shows an error (with a retry) in its part only, while the rest of the page works.
 */
import { onScopeDispose, ref, shallowRef, type Ref, type ShallowRef } from "vue";

import { ApiError, isAbort, toApiError } from "@/api/http";

export interface RemoteData<T> {
  /** The last data loaded; kept while a reload runs or fails, so a refresh never blanks it. */
  data: ShallowRef<T | undefined>;
  /** Why the last load failed; undefined once a load succeeds. */
  error: ShallowRef<ApiError | undefined>;
  loading: Ref<boolean>;
  /** Loads again, abandoning a load still running; resolves when this load ends. */
  reload: () => Promise<void>;
  /** Replaces the data with a newer copy that came from elsewhere (such as a POST's answer). */
  update: (data: T) => void;
}

export function useRemoteData<T>(
  load: (signal: AbortSignal) => Promise<T>,
  options: { immediate?: boolean } = {},
): RemoteData<T> {
  const data = shallowRef<T>();
  const error = shallowRef<ApiError>();
  const loading = ref(false);
  let running: AbortController | undefined;

  async function reload(): Promise<void> {
    running?.abort();
    const controller = new AbortController();
    running = controller;
    loading.value = true;
    try {
      const loaded = await load(controller.signal);
      if (controller.signal.aborted) return;
      data.value = loaded;
      error.value = undefined;
    } catch (failure) {
      if (controller.signal.aborted || isAbort(failure)) return;
      error.value = toApiError(failure);
    } finally {
      if (running === controller) {
        running = undefined;
        loading.value = false;
      }
    }
  }

  function update(newer: T): void {
    running?.abort();
    running = undefined;
    loading.value = false;
    data.value = newer;
    error.value = undefined;
  }

  onScopeDispose(() => running?.abort());
  if (options.immediate !== false) void reload();
  return { data, error, loading, reload, update };
}
