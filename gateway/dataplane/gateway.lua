-- The gateway's data plane in nginx: every phase of one call to /gateway/<suffix>/<path>.
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

local M = {}

local concat, insert = table.concat, table.insert
local floor, ceil, max = math.floor, math.ceil, math.max
local sub, byte, format, lower = string.sub, string.byte, string.format, string.lower
local re_find, re_match, re_gsub = ngx.re.find, ngx.re.match, ngx.re.gsub
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

-- --- JSON answers ------------------------------------------------------------------

local function json_string(text)
  local escaped = re_gsub(text, [[["\\\x00-\x1f]] .. "]", function(m)
    local c = m[0]
    if c == '"' then
      return '\\"'
    elseif c == "\\" then
      return "\\\\"
    end
    return format("\\u%04x", byte(c))
  end, "jo")
  return '"' .. escaped .. '"'
end

local function error_body(code, message, extra)
  return '{"error": {"code": ' .. json_string(code) .. ', "message": ' .. json_string(message)
    .. (extra or "") .. "}}"
end

local function send_headers(headers)
  for _, pair in ipairs(headers or {}) do
    ngx.header[pair[1]] = pair[2]
  end
  for _, pair in ipairs(config.answer_headers) do
    ngx.header[pair[1]] = pair[2]
  end
end

-- Answer the call here with a JSON error and end it.
local function refuse(status, body, outcome, headers, kind)
  local ctx = ngx.ctx
  ctx.own = true
  ctx.outcome = outcome
  ctx.error_kind = kind or ""
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  send_headers(headers)
  ngx.print(body)
  return ngx.exit(status)
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

local function count_call(sock, subscription_id, product, now)
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
local function current_usage(sock, subscription_id, product, now)
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

-- The path as sent, before nginx decodes it: read segment by segment.
local function raw_path()
  local uri = ngx.var.request_uri
  local query = uri:find("?", 1, true)
  return query and sub(uri, 1, query - 1) or uri
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
      local usage = current_usage(sock, subscription, product, now)
      redis.release(sock, config.redis)
      return refuse(403, config.inactive[entry[2]] or config.inactive[""],
        config.outcomes.inactive_subscription, usage)
    end
  end

  -- A request the checks refuse: a 400 with the usage headers once the key is known.
  local function refuse_request(body)
    local usage
    if sock then
      usage = current_usage(sock, subscription, product, now)
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
    local verdict, usage, retry_after = count_call(sock, subscription, product, now)
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
  var.dp_usage = M.pack_usage(ctx.usage)
  var.dp_record = concat({ ctx.api_id or "", ctx.operation_id or "", ctx.subscription_id or "",
    ctx.product_id or "", ctx.user_id or "" }, ",")
end

function M.pack_usage(usage)
  local out = {}
  for i, pair in ipairs(usage or {}) do
    out[i] = pair[1] .. "=" .. pair[2]
  end
  return concat(out, ";")
end

local function unpack_usage(packed)
  local usage = {}
  for name, value in (packed or ""):gmatch("([^=;]+)=([^;]*)") do
    usage[#usage + 1] = { name, value }
  end
  return usage
end

-- --- The answer --------------------------------------------------------------------

local function replace_answer(status, body, kind)
  local ctx = ngx.ctx
  ctx.replacement = body
  ctx.outcome = config.outcomes.backend_error
  ctx.error_kind = kind
  ngx.status = status
  for name, _ in pairs(ngx.resp.get_headers(200, true)) do
    ngx.header[name] = nil
  end
  ngx.header["Content-Type"] = "application/json"
  ngx.header["Content-Length"] = #body
  send_headers(ctx.usage)
end

local SERVICE_DEFAULT_PORTS = { http = 80, https = 443 }

-- The Location under the gateway, or nil (gateway/redirects.py, same rules).
local function gateway_location(api, location)
  if re_find(location, "[\\x00-\\x20\\x7f\\\\]", "jo") then
    return nil
  end
  local scheme, authority, rest = location:match("^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)(.*)$")
  local path_and_more
  if scheme then
    scheme = lower(scheme)
    if authority:find("@", 1, true) then
      return nil
    end
    local host, port = authority:match("^(.-):(%d+)$")
    host = lower(host or authority)
    port = tonumber(port) or SERVICE_DEFAULT_PORTS[scheme]
    if scheme ~= api.scheme or host ~= api.hostname or port ~= api.port then
      return nil
    end
    path_and_more = rest
  elseif sub(location, 1, 2) == "//" then
    return nil
  elseif sub(location, 1, 1) == "/" then
    path_and_more = location
  elseif re_find(location, "^[A-Za-z][A-Za-z0-9+.-]*:", "jo") then
    return nil
  else
    local base = ngx.var.dp_target:match("^([^?#]*)")
    path_and_more = base:gsub("[^/]*$", "") .. location
  end
  local path, tail = path_and_more:match("^([^?#]*)(.*)$")
  if path == "" then
    path = "/"
  end
  for segment in (path .. "/"):gmatch("([^/]*)/") do
    local decoded = unescape(segment)
    if decoded == "." or decoded == ".." then
      return nil
    end
  end
  local prefix = api.service_path
  if path ~= prefix and sub(path, 1, #prefix + 1) ~= prefix .. "/" then
    return nil
  end
  return config.prefix .. api.suffix .. sub(path, #prefix + 1) .. tail
end

function M.header_filter()
  local ctx = ngx.ctx
  if ctx.own then
    return
  end
  local api = ctx.api
  if not api then
    return
  end
  local headers = ngx.resp.get_headers(200)
  local location = headers["location"]
  if location then
    local moved = type(location) == "string" and gateway_location(api, location)
    if not moved then
      return replace_answer(502, config.bodies.redirect, "redirect")
    end
    ngx.header["Location"] = moved
  end
  local length = tonumber(headers["content-length"])
  if length and length > config.max_response_bytes then
    return replace_answer(502, config.bodies.too_large, "too_large")
  end
  -- Connection may name more hop-by-hop headers (nginx keeps it for itself).
  local named = {}
  for token in (ngx.var.upstream_http_connection or ""):gmatch("[^,%s]+") do
    named[lower(token)] = true
  end
  for name, _ in pairs(headers) do
    if config.dropped[name] or named[name] then
      ngx.header[name] = nil
    end
  end
  send_headers(ctx.usage)
end

function M.body_filter()
  local ctx = ngx.ctx
  if ctx.replacement then
    if not ctx.replaced then
      ngx.arg[1] = ctx.replacement
      ctx.replaced = true
    else
      ngx.arg[1] = ""
    end
    ngx.arg[2] = true
    return
  end
  if ctx.own or not ctx.api then
    return
  end
  local chunk = ngx.arg[1]
  local sent = (ctx.sent or 0) + #chunk
  if sent > config.max_response_bytes then
    ngx.arg[1] = sub(chunk, 1, #chunk - (sent - config.max_response_bytes))
    ngx.arg[2] = true
    ctx.error_kind = "too_large"
    ctx.outcome = config.outcomes.backend_error
  end
  ctx.sent = sent
end

-- The backend could not be reached or did not answer in time (error_page).
function M.backend_failed()
  local var = ngx.var
  local status = tonumber(var.status) or 502
  local timeout = status == 504
  local kind = timeout and "timeout" or "connect"
  local usage = unpack_usage(var.dp_usage)
  local ctx = ngx.ctx
  local fields = {}
  for field in ((var.dp_record or "") .. ","):gmatch("([^,]*),") do
    fields[#fields + 1] = field
  end
  ctx.api_id, ctx.operation_id, ctx.subscription_id, ctx.product_id, ctx.user_id =
    fields[1], fields[2], fields[3], fields[4], fields[5]
  ctx.path = nil
  ctx.method = sub(ngx.req.get_method(), 1, 10)
  return refuse(timeout and 504 or 502, error_body(timeout and "BackendTimeout" or "BackendError",
    config.failure_messages[kind], ', "kind": ' .. json_string(kind)), config.outcomes.backend_error,
    usage, kind)
end

function M.too_large()
  ngx.ctx.method = sub(ngx.req.get_method(), 1, 10)
  return refuse(413, config.bodies.request_too_large, config.outcomes.bad_request)
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
  local path = ctx.path or raw_path()
  local query = masked_query(var.args, ctx.query_secret)
  local backend = tonumber((var.upstream_response_time or ""):match("([%d.]+)%s*$") or "")
  local record = {
    format("%.6f", ngx.req.start_time()),
    ctx.api_id or "", ctx.operation_id or "", ctx.subscription_id or "", ctx.product_id or "",
    ctx.user_id or "", clean(ctx.method), clean(sub(path .. query, 1, 4096)),
    ctx.outcome or "forwarded",
    var.status, ctx.error_kind or "", format("%.3f", (ngx.now() - ngx.req.start_time()) * 1000),
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
