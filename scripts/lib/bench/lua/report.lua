-- The end of every wrk script of the benchmarks: one line of JSON that scripts/bench reads.
--
-- Each wrk thread has its own Lua state; setup() keeps the threads so that done() can
-- gather the status codes they counted (scripts that define response() fill status_counts).

local threads = {}

function setup(thread)
  thread:set("thread_number", #threads + 1)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local statuses = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("status_counts")
    if type(counts) == "table" then
      for code, count in pairs(counts) do
        local key = tostring(code)
        statuses[key] = (statuses[key] or 0) + count
      end
    end
  end
  local status_parts = {}
  for code, count in pairs(statuses) do
    table.insert(status_parts, string.format('"%s":%d', code, count))
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"duration_us":%d,"requests":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p95":%d,"p99":%d,"mean":%.1f,"max":%d},"statuses":{%s}}\n',
    summary.duration, summary.requests, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean, latency.max,
    table.concat(status_parts, ",")
  ))
end
