-- The data plane's answers: its own JSON errors, and the backend's answer made safe
-- (gateway/answers.py's rules, from the lists the portal rendered). Part of gateway.lua.
local config = require("dataplane_config")

local M = {}

local concat = table.concat
local sub, byte, format, lower = string.sub, string.byte, string.format, string.lower
local re_find, re_gsub = ngx.re.find, ngx.re.gsub
local unescape = ngx.unescape_uri

-- --- JSON answers ------------------------------------------------------------------

function M.json_string(text)
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

function M.error_body(code, message, extra)
  return '{"error": {"code": ' .. M.json_string(code) .. ', "message": ' .. M.json_string(message)
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
function M.refuse(status, body, outcome, headers, kind)
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
  return M.refuse(timeout and 504 or 502, M.error_body(timeout and "BackendTimeout" or "BackendError",
    config.failure_messages[kind], ', "kind": ' .. M.json_string(kind)), config.outcomes.backend_error,
    usage, kind)
end

function M.too_large()
  ngx.ctx.method = sub(ngx.req.get_method(), 1, 10)
  return M.refuse(413, config.bodies.request_too_large, config.outcomes.bad_request)
end

return M
