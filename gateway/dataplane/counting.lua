-- The limits: the Redis script of gateway/limits.py (limits.lua, one file for both
-- gateways) run on the same counters, and the usage headers as gateway/limits.py
-- computes them. Part of gateway.lua.
local config = require("dataplane_config")
local redis = require("redis")

local M = {}

local concat, insert = table.concat, table.insert
local floor, ceil, max = math.floor, math.ceil, math.max
local byte, format = string.byte, string.format

local script = assert(io.open(config.script_path)):read("*a")
local script_sha
do
  local bin = ngx.sha1_bin(script)
  local out = {}
  for i = 1, #bin do
    out[i] = format("%02x", byte(bin, i))
  end
  script_sha = concat(out)
end

-- --- Limits ------------------------------------------------------------------------

local function rate_retry_after(limit, period, previous, current, now, fraction)
  local window_start = now - fraction * period
  if current < limit and previous > 0 then
    local f = 1 - (limit - 1 - current) / previous
    return max(1, ceil(window_start + f * period - now))
  end
  local f = current > 0 and (1 - (limit - 1) / current) or 0
  return max(1, ceil(window_start + period + max(0, f) * period - now))
end

local function plan(subscription_id, product, now)
  local rate_period = product.rate_period > 0 and product.rate_period or 1
  local index = floor(now / rate_period)
  local quota_period = product.quota_period > 0 and product.quota_period or 1
  local prefix = config.key_prefix
  return {
    rate_key = prefix .. "gw-rate:" .. subscription_id .. ":" .. rate_period .. ":" .. index,
    previous_key = prefix .. "gw-rate:" .. subscription_id .. ":" .. rate_period .. ":" .. (index - 1),
    fraction = (now - index * rate_period) / rate_period,
    rate_ttl = 2 * rate_period + 1,
    quota_key = prefix .. "gw-quota:" .. subscription_id .. ":" .. quota_period .. ":"
      .. floor(now / quota_period),
    quota_ttl = quota_period + 1,
  }
end

-- The usage headers (Admission.headers) for counts as they stand.
local function usage_headers(product, p, now, verdict, current, previous, used, retry_after)
  local headers = {}
  if product.rate_limit > 0 then
    local estimate = previous * (1 - p.fraction) + current
    local remaining = verdict == 0 and 0 or max(0, product.rate_limit - ceil(estimate))
    insert(headers, { "X-RateLimit-Limit", tostring(product.rate_limit) })
    insert(headers, { "X-RateLimit-Remaining", tostring(remaining) })
    insert(headers, { "X-RateLimit-Period", tostring(product.rate_period) })
  end
  local quota_reset = 0
  if product.quota_limit > 0 then
    local period = product.quota_period
    quota_reset = max(1, ceil((floor(now / period) + 1) * period - now))
    insert(headers, { "X-Quota-Limit", tostring(product.quota_limit) })
    insert(headers, { "X-Quota-Remaining", tostring(max(0, product.quota_limit - used)) })
    insert(headers, { "X-Quota-Reset", tostring(quota_reset) })
  end
  if retry_after then
    insert(headers, { "Retry-After", tostring(retry_after) })
  end
  return headers, quota_reset
end

function M.count_call(sock, subscription_id, product, now)
  local p = plan(subscription_id, product, now)
  local keys_and_args = {
    3, p.rate_key, p.previous_key, p.quota_key,
    product.rate_limit, p.rate_ttl, format("%.17g", p.fraction), product.quota_limit, p.quota_ttl,
  }
  local reply, err, failed = redis.call(sock, "EVALSHA", script_sha, unpack(keys_and_args))
  if reply == nil and failed and err:find("NOSCRIPT", 1, true) then
    reply, err = redis.call(sock, "EVAL", script, unpack(keys_and_args))
  end
  if reply == nil then
    return nil, err
  end
  local verdict, current, previous, used = reply[1], reply[2], reply[3], reply[4]
  local retry_after
  if verdict == 0 then
    retry_after = rate_retry_after(product.rate_limit, product.rate_period, previous, current, now,
      p.fraction)
  end
  local headers, quota_reset = usage_headers(product, p, now, verdict, current, previous, used,
    nil)
  if verdict == 1 then
    retry_after = quota_reset
  end
  if retry_after then
    insert(headers, { "Retry-After", tostring(retry_after) })
  end
  return verdict, headers, retry_after
end

-- The usage headers without counting (a refused subscription's answer).
function M.current_usage(sock, subscription_id, product, now)
  if product.rate_limit == 0 and product.quota_limit == 0 then
    return {}
  end
  local p = plan(subscription_id, product, now)
  local reply = redis.call(sock, "MGET", p.rate_key, p.previous_key, p.quota_key)
  if type(reply) ~= "table" then
    return {}
  end
  local function number(v)
    return tonumber(v ~= ngx.null and v or 0) or 0
  end
  local headers = usage_headers(product, p, now, 2, number(reply[1]), number(reply[2]),
    number(reply[3]), nil)
  return headers
end

return M
