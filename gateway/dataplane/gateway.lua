-- The gateway's data plane in nginx: every phase of one call to /gateway/<suffix>/<path>
-- (the access phase here; the limits in counting.lua, the answer in answer.lua, the
-- record in record.lua).
--
--   access: route (404, 405) -> key (401, 403) -> request checks (400)
--           -> limits (429, 403), the same Redis script as gateway/limits.py
--   proxy_pass to the API's upstream (nginx), headers and cookies from the allowlists
--   header_filter / body_filter: the answer sandboxed, Location checked (502), size cap
--   log: a compact record queued, pushed to a Redis list by a timer, drained by the portal
--
-- What this file knows of APIs, keys and limits comes from the portal: the routes in
-- dataplane_config.lua (rendered by gateway/dataplane/render.py), the keys in Redis
-- (gateway/dataplane/keys.py). docs/design.md, "Data plane".
local config = require("dataplane_config")
local redis = require("redis")
local ffi = require("ffi")

local answer = require("answer")
local counting = require("counting")
local record = require("record")

local M = {}

local json_string, error_body, refuse = answer.json_string, answer.error_body, answer.refuse
local raw_path = record.raw_path
local MASK = config.mask

local concat = table.concat
local sub, byte, format, lower = string.sub, string.byte, string.format, string.lower
local re_find, re_gsub = ngx.re.find, ngx.re.gsub
local unescape = ngx.unescape_uri

ffi.cdef([[
unsigned char *SHA256(const unsigned char *d, size_t n, unsigned char *md);
]])
local digest = ffi.new("unsigned char[32]")

local HEX = {}
for i = 0, 255 do
  HEX[i] = format("%02x", i)
end

local function sha256_hex(text)
  ffi.C.SHA256(text, #text, digest)
  local out = {}
  for i = 0, 31 do
    out[i + 1] = HEX[digest[i]]
  end
  return concat(out)
end

-- The keys this worker looked up lately, for at most config.key_cache_seconds (so that
-- a revoked key is refused within that time on every node): a call then costs one
-- round trip to Redis, the limits' script. Keys not found are kept too, so that a
-- flood of wrong keys does not reach Redis on every call.
local lrucache = require("resty.lrucache")
local known_keys = assert(lrucache.new(config.key_cache_size))
local NOT_FOUND = {}

local function lookup_key(sock_holder, key)
  local entry = known_keys:get(key)
  if entry then
    return entry
  end
  local sock, err = redis.connect(config.redis)
  if not sock then
    return nil, err
  end
  sock_holder.sock = sock
  local reply, lookup_err = redis.call(sock, "HMGET", config.key_hash_prefix .. sha256_hex(key),
    "id", "state", "product_id", "user_id")
  if type(reply) ~= "table" then
    return nil, lookup_err or "unreadable reply"
  end
  entry = reply[1] == ngx.null and NOT_FOUND or reply
  if config.key_cache_seconds > 0 then
    known_keys:set(key, entry, config.key_cache_seconds)
  end
  return entry
end

-- --- Routing -----------------------------------------------------------------------

local UNRESERVED = "[A-Za-z0-9._~-]"

local function normalize_segment(segment)
  if not segment:find("%", 1, true) then
    return segment
  end
  return (re_gsub(segment, "%([0-9A-Fa-f]{2})", function(m)
    local char = string.char(tonumber(m[1], 16))
    if re_find(char, "^" .. UNRESERVED .. "$", "jo") then
      return char
    end
    return "%" .. m[1]:upper()
  end, "jo"))
end

local function split_path(path)
  local segments = {}
  for segment in (path .. "/"):gmatch("([^/]*)/") do
    segments[#segments + 1] = normalize_segment(segment)
  end
  return segments
end

local function find_api(segments)
  for length = math.min(config.max_suffix, #segments), 1, -1 do
    local api = config.apis[concat(segments, "/", 1, length)]
    if api then
      local rest = {}
      for i = length + 1, #segments do
        rest[#rest + 1] = segments[i]
      end
      if #rest == 0 then
        rest[1] = ""
      end
      return api, rest
    end
  end
end

local function matches(route, segments)
  for i, pattern in ipairs(route.segments) do
    if pattern.literal then
      if pattern.literal ~= segments[i] then
        return false
      end
    elseif not re_find(segments[i], pattern.regex, "jo") then
      return false
    end
  end
  return true
end

local function match_operation(api, method, segments)
  local allowed, seen = {}, {}
  for _, route in ipairs(api.operations) do
    if #route.segments == #segments and not (route.method ~= method and seen[route.method]) then
      if matches(route, segments) then
        if route.method == method then
          return route
        end
        seen[route.method] = true
        allowed[#allowed + 1] = route.method
      end
    end
  end
  if #allowed > 0 then
    table.sort(allowed)
    return nil, allowed
  end
end

-- --- The request -------------------------------------------------------------------

local SEGMENT_SAFE = "[^A-Za-z0-9._~!$&'()*+,;=:@%-]"

local function backend_segment(segment)
  return (re_gsub(segment, SEGMENT_SAFE, function(m)
    return format("%%%02X", byte(m[0]))
  end, "jo"))
end

local function is_dot(segment)
  local once = unescape(segment)
  local twice = unescape(once)
  return once == "." or once == ".." or twice == "." or twice == ".." or segment:find("\\", 1, true)
    or once:find("\\", 1, true)
end

local function unavailable()
  return refuse(503, config.unavailable_body, config.outcomes.backend_error, nil, "dataplane")
end

local function filter_query(api, route, args, key_query)
  local kept, undeclared, seen_undeclared, key_value = {}, {}, {}, nil
  local given = {}
  for pair in ((args or "") .. "&"):gmatch("([^&]*)&") do
    if pair ~= "" then
      local raw_key, equals, raw_value = pair:match("^([^=]*)(=?)(.*)$")
      local key = unescape((raw_key:gsub("+", " ")))
      local value = unescape((raw_value:gsub("+", " ")))
      if key_query ~= "" and key == key_query then
        key_value = key_value or value
      elseif route.fixed[key] then
        if value ~= route.fixed[key].value then
          return nil, route.fixed[key].body
        end
      elseif route.query[key] then
        kept[#kept + 1] = pair
        if value ~= "" then
          given[key] = true
        end
      elseif not seen_undeclared[key] then
        seen_undeclared[key] = true
        undeclared[#undeclared + 1] = key
      end
    end
  end
  if #undeclared > 0 then
    local names = {}
    for i, name in ipairs(undeclared) do
      names[i] = json_string(name)
    end
    return nil, error_body("UnknownQueryParameter",
      "The operation has no query parameter " .. concat(undeclared, ", ") .. ".",
      ', "parameters": [' .. concat(names, ", ") .. "]")
  end
  for _, pair in ipairs(route.fixed_pairs) do
    kept[#kept + 1] = pair
  end
  return concat(kept, "&"), nil, key_value or "", given
end

local function missing_parameters(route, given, headers)
  local missing = {}
  for _, required in ipairs(route.required_query) do
    if not given[required[1]] then
      missing[#missing + 1] = required[2]
    end
  end
  for _, required in ipairs(route.required_headers) do
    if not headers[required] then
      missing[#missing + 1] = required
    end
  end
  if #missing == 0 then
    return nil
  end
  local names = {}
  for i, name in ipairs(missing) do
    names[i] = json_string(name)
  end
  return error_body("MissingParameter",
    "Missing required parameter" .. (#missing > 1 and "s" or "") .. ": " .. concat(missing, ", ")
      .. ".", ', "parameters": [' .. concat(names, ", ") .. "]")
end

local FRAMING = { ["content-length"] = true, ["transfer-encoding"] = true }

local function forward_headers(route, headers, has_body)
  for name, _ in pairs(headers) do
    local lowered = lower(name)
    if FRAMING[lowered] then -- nginx frames the body it forwards itself
      goto next_header
    end
    if not route.headers[lowered] or (lowered == "content-type" and not has_body) then
      ngx.req.clear_header(name)
    end
    ::next_header::
  end
  local cookie = headers["cookie"]
  if cookie and next(route.cookies) then
    if type(cookie) == "table" then
      cookie = concat(cookie, "; ")
    end
    local kept = {}
    for piece in (cookie .. ";"):gmatch("([^;]*);") do
      local name = piece:match("^%s*([^=%s]+)%s*=")
      if name and route.cookies[name] then
        kept[#kept + 1] = (piece:gsub("^%s+", ""):gsub("%s+$", ""))
      end
    end
    if #kept > 0 then
      ngx.req.set_header("Cookie", concat(kept, "; "))
    end
  end
end

function M.access()
  -- nginx's time of the event loop's turn: a millisecond's precision, no system call.
  local now = ngx.now()
  local ctx = ngx.ctx
  local var = ngx.var
  local method = ngx.req.get_method()
  local rest = sub(raw_path(), #config.prefix + 1)
  ctx.method = sub(method, 1, 10)
  ctx.path = config.prefix .. rest
  ctx.query_secret = nil
  local segments = split_path(rest)
  local api, remaining = find_api(segments)
  if not api then
    return refuse(404, config.bodies.api_not_found, config.outcomes.not_found)
  end
  ctx.api_id = api.id
  ctx.query_secret = api.secret
  local route, allowed = match_operation(api, method, remaining)
  if not route then
    if allowed then
      return refuse(405, error_body("MethodNotAllowed", "This path of " .. api.name
        .. " does not take " .. sub(method, 1, 20) .. "; it takes " .. concat(allowed, ", ") .. "."),
        config.outcomes.not_found, { { "Allow", concat(allowed, ", ") } })
    end
    return refuse(404, api.operation_not_found, config.outcomes.not_found)
  end
  ctx.operation_id = route.id
  ctx.query_secret = route.secret
  if route.masked_segments then
    local shown = {}
    for i, segment in ipairs(remaining) do
      shown[i] = route.masked_segments[i] and MASK or segment
    end
    ctx.path = config.prefix .. api.suffix .. "/" .. concat(shown, "/")
  end

  local headers = ngx.req.get_headers(100)
  local args = var.args
  local query, bad, key_from_query, given = filter_query(api, route, args, api.key_query)
  local key = headers[api.key_header]
  if type(key) == "table" then
    key = key[1]
  end
  key = key and key:match("^%s*(.-)%s*$") or ""
  if key == "" then
    key = key_from_query or ""
  end

  local sock, subscription, product
  if api.keyed then
    if key == "" then
      return refuse(401, api.missing_key, config.outcomes.no_key)
    end
    local holder = {}
    local entry, err = lookup_key(holder, key)
    sock = holder.sock
    if not entry then
      ngx.log(ngx.ERR, "dataplane: redis: ", err)
      return unavailable()
    end
    product = entry ~= NOT_FOUND and api.products[tonumber(entry[3])]
    if not product then
      if sock then
        redis.release(sock, config.redis)
      end
      return refuse(401, config.bodies.invalid_key, config.outcomes.invalid_key)
    end
    if not sock then
      sock, err = redis.connect(config.redis)
      if not sock then
        ngx.log(ngx.ERR, "dataplane: redis: ", err)
        return unavailable()
      end
    end
    subscription = entry[1]
    ctx.subscription_id, ctx.product_id, ctx.user_id = entry[1], entry[3], entry[4]
    if entry[2] ~= "active" then
      local usage = counting.current_usage(sock, subscription, product, now)
      redis.release(sock, config.redis)
      return refuse(403, config.inactive[entry[2]] or config.inactive[""],
        config.outcomes.inactive_subscription, usage)
    end
  end

  -- A request the checks refuse: a 400 with the usage headers once the key is known.
  local function refuse_request(body)
    local usage
    if sock then
      usage = counting.current_usage(sock, subscription, product, now)
      redis.release(sock, config.redis)
    end
    return refuse(400, body, config.outcomes.bad_request, usage)
  end
  if bad then
    return refuse_request(bad)
  end
  local has_body = (tonumber(headers["content-length"]) or 0) > 0
    or headers["transfer-encoding"] ~= nil
  if has_body and (method == "GET" or method == "HEAD") then
    return refuse_request(error_body("BodyNotAllowed", "A " .. method
      .. " call cannot carry a body."))
  end
  local missing = missing_parameters(route, given, headers)
  if missing then
    return refuse_request(missing)
  end
  local path = {}
  for i, segment in ipairs(remaining) do
    if is_dot(segment) then
      return refuse_request(error_body("InvalidParameter",
        "The path holds a . or .. segment, which the gateway does not send."))
    end
    path[i] = backend_segment(segment)
  end

  if product and (product.rate_limit > 0 or product.quota_limit > 0) then
    local verdict, usage, retry_after = counting.count_call(sock, subscription, product, now)
    redis.release(sock, config.redis)
    if verdict == nil then
      ngx.log(ngx.ERR, "dataplane: limits: ", usage)
      return unavailable()
    end
    if verdict == 0 then
      return refuse(429, error_body("RateLimitExceeded", product.rate_message .. " Try again in "
        .. retry_after .. " seconds."), config.outcomes.rate_limited, usage)
    elseif verdict == 1 then
      return refuse(403, error_body("QuotaExceeded", product.quota_message
        .. " The quota renews in " .. retry_after .. " seconds."), config.outcomes.quota_exceeded,
        usage)
    end
    ctx.usage = usage
  elseif sock then
    redis.release(sock, config.redis)
  end

  forward_headers(route, headers, has_body)
  ctx.api = api
  ctx.outcome = config.outcomes.forwarded
  var.dp_upstream = api.upstream
  var.dp_target = api.service_path .. "/" .. concat(path, "/") .. (query ~= "" and ("?" .. query)
    or "")
  var.dp_host = api.host
  var.dp_sni = api.hostname
  var.dp_usage = answer.pack_usage(ctx.usage)
  var.dp_record = (ctx.api_id or "") .. "," .. (ctx.operation_id or "") .. ","
    .. (ctx.subscription_id or "") .. "," .. (ctx.product_id or "") .. "," .. (ctx.user_id or "")
end

-- The other phases.
M.header_filter = answer.header_filter
M.body_filter = answer.body_filter
M.backend_failed = answer.backend_failed
M.too_large = answer.too_large
M.log = record.log
M.init_worker = record.init_worker

return M
