-- The record of each call: a tab-separated line queued in the worker, pushed to a Redis
-- list by a timer, drained into GatewayCall rows by the portal
-- (gateway/dataplane/records.py). Part of gateway.lua.
local config = require("dataplane_config")
local redis = require("redis")

local M = {}

local concat = table.concat
local sub, format, lower = string.sub, string.format, string.lower
local re_find = ngx.re.find
local unescape = ngx.unescape_uri

-- The path as sent, before nginx decodes it: read segment by segment.
function M.raw_path()
  local uri = ngx.var.request_uri
  local query = uri:find("?", 1, true)
  return query and sub(uri, 1, query - 1) or uri
end

-- --- Recorded path -----------------------------------------------------------------

local MASK = config.mask

local function masked_query(args, secret)
  if not args or args == "" then
    return ""
  end
  local pairs_out = {}
  for pair in (args .. "&"):gmatch("([^&]*)&") do
    local key, equals = pair:match("^([^=]*)(=?)")
    local hidden
    if equals == "" then
      hidden = false
    elseif secret == nil then
      hidden = true
    else
      local name = lower(unescape((key:gsub("+", " "))))
      hidden = secret[name] or re_find(name, config.credential_word, "jo") ~= nil
    end
    pairs_out[#pairs_out + 1] = hidden and (key .. "=" .. MASK) or pair
  end
  return "?" .. concat(pairs_out, "&")
end

-- --- Recording ---------------------------------------------------------------------

local queued = {}

-- Tabs and line ends would split the record: only the path and the method may hold any.
local function clean(value)
  if value:find("[\t\n\r]") then
    return (value:gsub("[\t\n\r]", " "))
  end
  return value
end

function M.log()
  local ctx = ngx.ctx
  local var = ngx.var
  if not ctx.method then
    return
  end
  local path = ctx.path or M.raw_path()
  local query = masked_query(var.args, ctx.query_secret)
  local backend = tonumber((var.upstream_response_time or ""):match("([%d.]+)%s*$") or "")
  local started = ngx.req.start_time()
  local record = {
    format("%.6f", started),
    ctx.api_id or "", ctx.operation_id or "", ctx.subscription_id or "", ctx.product_id or "",
    ctx.user_id or "", clean(ctx.method), clean(sub(path .. query, 1, 4096)),
    ctx.outcome or "forwarded",
    var.status, ctx.error_kind or "", format("%.3f", (ngx.now() - started) * 1000),
    backend and format("%.3f", backend * 1000) or "", tonumber(var.content_length) or 0,
    tonumber(var.body_bytes_sent) or 0, var.remote_addr,
  }
  if #queued < config.max_queued then
    queued[#queued + 1] = concat(record, "\t")
  end
end

local function flush(premature)
  if #queued == 0 then
    return
  end
  local batch = queued
  queued = {}
  local sock, err = redis.connect(config.redis)
  if not sock then
    ngx.log(ngx.ERR, "dataplane: records kept for later: ", err)
    for _, line in ipairs(batch) do
      if #queued < config.max_queued then
        queued[#queued + 1] = line
      end
    end
    return
  end
  -- At most 500 lines a command: Lua's stack bounds unpack().
  for first = 1, #batch, 500 do
    local reply, push_err = redis.call(sock, "RPUSH", config.records_list,
      unpack(batch, first, math.min(first + 499, #batch)))
    if reply == nil then
      ngx.log(ngx.ERR, "dataplane: records not pushed: ", push_err)
      return
    end
  end
  if not premature then
    redis.release(sock, config.redis)
  end
end

function M.init_worker()
  ngx.timer.every(config.flush_seconds, flush)
end

return M
