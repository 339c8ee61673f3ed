-- A shopper mix, as a Locust user class would do it: each virtual shopper visits a page
-- chosen by weight, and a page is the API requests the storefront makes for it:
--   home          GET /api/v1/categories, GET /api/v1/products
--   product       GET /api/v1/products/{id}
--   order page    GET /api/v1/products/{id}, GET /api/v1/payment-channels
--   buy           POST /api/v1/orders
--   payment page  GET /api/v1/orders/{id} (X-Order-Token), GET /api/v1/payments/{id}
-- The payment page visits an order this thread placed (from the buy responses).
-- Needs PRODUCTS, PACKAGES, DESTINATIONS (each package's destination as a JSON object),
-- CHANNEL, RUN_KEY and WEIGHTS ({home=, product=, ...}).

local queue = {}
local placed_orders = {}
local placed = 0
local MAX_KEPT = 256
status_counts = {}
page_counts = {}

local PAGES = { "home", "product", "order_page", "buy", "payment_page" }

function init(args)
  math.randomseed(os.time() + (thread_number or 0) * 104729)
end

local function product_path()
  return "/api/v1/products/" .. PRODUCTS[math.random(#PRODUCTS)]
end

local function buy()
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

local function choose_page()
  local total = 0
  for _, name in ipairs(PAGES) do total = total + WEIGHTS[name] end
  local roll = math.random(total)
  for _, name in ipairs(PAGES) do
    roll = roll - WEIGHTS[name]
    if roll <= 0 then return name end
  end
  return "home"
end

local function enqueue_page()
  local page = choose_page()
  if page == "payment_page" and #placed_orders == 0 then page = "home" end
  page_counts[page] = (page_counts[page] or 0) + 1
  if page == "home" then
    table.insert(queue, wrk.format("GET", "/api/v1/categories"))
    table.insert(queue, wrk.format("GET", "/api/v1/products"))
  elseif page == "product" then
    table.insert(queue, wrk.format("GET", product_path()))
  elseif page == "order_page" then
    table.insert(queue, wrk.format("GET", product_path()))
    table.insert(queue, wrk.format("GET", "/api/v1/payment-channels"))
  elseif page == "buy" then
    table.insert(queue, buy())
  else
    local order = placed_orders[math.random(#placed_orders)]
    table.insert(queue, wrk.format("GET", "/api/v1/orders/" .. order.id, { ["X-Order-Token"] = order.token }))
    table.insert(queue, wrk.format("GET", "/api/v1/payments/" .. order.payment))
  end
end

function request()
  if #queue == 0 then enqueue_page() end
  return table.remove(queue, 1)
end

function response(status, headers, body)
  status_counts[status] = (status_counts[status] or 0) + 1
  if status == 200 and string.sub(body, 1, 9) == '{"order":' then
    local id = string.match(body, '^{"order":{"id":"(ord_%x+)"')
    local token = string.match(body, '"accessToken":"([^"]+)"')
    local payment = string.match(body, '"paymentId":"([^"]+)"')
    if id and token and payment then
      if #placed_orders >= MAX_KEPT then table.remove(placed_orders, 1) end
      table.insert(placed_orders, { id = id, token = token, payment = payment })
    end
  end
end
