-- POST /api/v1/orders: one unit of a random package per order, each with its own
-- Idempotency-Key and the destination its product asks for (its fields' examples). Needs
-- PACKAGES (package ids), DESTINATIONS (each package's destination as a JSON object, in
-- the same order), CHANNEL and RUN_KEY defined before this file.

local placed = 0
status_counts = {}

function init(args)
  math.randomseed(os.time() + (thread_number or 0) * 7919)
end

function request()
  placed = placed + 1
  local chosen = math.random(#PACKAGES)
  local body = string.format(
    '{"customerEmail":"pembeli%d@example.co.id","lines":[{"packageId":"%s","quantity":1,' ..
    '"destination":%s}],"paymentChannelCode":"%s"}', placed % 997, PACKAGES[chosen], DESTINATIONS[chosen],
    CHANNEL)
  local headers = {
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("%s-%d-%d", RUN_KEY, thread_number or 0, placed),
  }
  return wrk.format("POST", "/api/v1/orders", headers, body)
end

function response(status, headers, body)
  status_counts[status] = (status_counts[status] or 0) + 1
end
