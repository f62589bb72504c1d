-- A minimal Redis client for the data plane: RESP over nginx's non-blocking sockets,
-- the connection kept in nginx's per-worker pool. Only what gateway.lua needs: one
-- command at a time (several in a pipeline), strings, integers, arrays and errors.
local M = {}

local tcp = ngx.socket.tcp
local concat = table.concat
local sub = string.sub

local function encode(args)
  local n = #args
  local out = { "*", n, "\r\n" }
  local j = 3
  for i = 1, n do
    local arg = tostring(args[i])
    out[j + 1], out[j + 2], out[j + 3], out[j + 4] = "$", #arg, "\r\n", arg
    out[j + 5] = "\r\n"
    j = j + 5
  end
  return concat(out)
end

local function read_reply(sock)
  local line, err = sock:receive("*l")
  if not line then
    return nil, err
  end
  local kind, rest = sub(line, 1, 1), sub(line, 2)
  if kind == "+" then
    return rest
  elseif kind == "-" then
    return nil, rest, true
  elseif kind == ":" then
    return tonumber(rest)
  elseif kind == "$" then
    local size = tonumber(rest)
    if size < 0 then
      return ngx.null
    end
    local data, read_err = sock:receive(size + 2)
    if not data then
      return nil, read_err
    end
    return sub(data, 1, size)
  elseif kind == "*" then
    local count = tonumber(rest)
    if count < 0 then
      return ngx.null
    end
    local items = {}
    for i = 1, count do
      local item, item_err, failed = read_reply(sock)
      if item == nil then
        return nil, item_err, failed
      end
      items[i] = item
    end
    return items
  end
  return nil, "unreadable reply"
end

-- A connection to the configured server (host, port, db, password), from the pool.
function M.connect(conf)
  local sock = tcp()
  sock:settimeouts(conf.connect_timeout_ms, conf.timeout_ms, conf.timeout_ms)
  local ok, err = sock:connect(conf.host, conf.port, { pool = conf.pool })
  if not ok then
    return nil, err
  end
  if sock:getreusedtimes() == 0 then
    local setup = {}
    if conf.password ~= "" then
      setup[#setup + 1] = encode({ "AUTH", conf.password })
    end
    if conf.db ~= 0 then
      setup[#setup + 1] = encode({ "SELECT", conf.db })
    end
    if #setup > 0 then
      sock:send(concat(setup))
      for _ = 1, #setup do
        local reply, reply_err = read_reply(sock)
        if reply == nil then
          sock:close()
          return nil, reply_err
        end
      end
    end
  end
  return sock
end

-- The replies to the commands (each a list of arguments), sent in one write.
function M.pipeline(sock, commands)
  local out = {}
  for i, args in ipairs(commands) do
    out[i] = encode(args)
  end
  local ok, err = sock:send(concat(out))
  if not ok then
    return nil, err
  end
  local replies = {}
  for i = 1, #commands do
    local reply, reply_err, failed = read_reply(sock)
    if reply == nil and not failed then
      return nil, reply_err
    end
    replies[i] = failed and { error = reply_err } or reply
  end
  return replies
end

function M.call(sock, ...)
  local replies, err = M.pipeline(sock, { { ... } })
  if not replies then
    return nil, err
  end
  local reply = replies[1]
  if type(reply) == "table" and reply.error then
    return nil, reply.error, true
  end
  return reply
end

function M.release(sock, conf)
  sock:setkeepalive(conf.idle_ms, conf.pool_size)
end

return M
