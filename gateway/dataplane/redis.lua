-- A minimal Redis client for the data plane: RESP over nginx's non-blocking sockets,
-- the connection kept in nginx's per-worker pool. Only what gateway.lua needs: one
-- command at a time (several in a pipeline), strings, integers, arrays and errors.
--
-- The calls' commands (M.run) go through one connection per worker, held by a timer:
-- every command queued while a batch is on the wire leaves in the next one, a single
-- write and a single read for all, instead of a connection taken from the pool, a
-- write, a read and a release per call. Each command stays one command to Redis (a
-- script still runs atomically), so the limits count exactly as before.
local semaphore = require("ngx.semaphore")

local M = {}

local tcp = ngx.socket.tcp
local concat = table.concat
local sub = string.sub

local function encode(args)
  local out = { "*", #args, "\r\n" }
  for _, arg in ipairs(args) do
    arg = tostring(arg)
    out[#out + 1] = "$" .. #arg .. "\r\n" .. arg .. "\r\n"
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

-- --- The worker's line to Redis -------------------------------------------------------

local waiting = {} -- { args, semaphore, reply = ..., err = ..., failed = ... }
local work -- posted when the queue stops being empty
local line_sock

local function answer_all(batch, err)
  for _, job in ipairs(batch) do
    job.err = err
    job.sema:post(1)
  end
end

local function send_batch(conf, batch)
  if not line_sock then
    local sock, err = M.connect(conf)
    if not sock then
      return answer_all(batch, err)
    end
    line_sock = sock
  end
  local out = {}
  for i, job in ipairs(batch) do
    out[i] = encode(job.args)
  end
  local ok, err = line_sock:send(concat(out))
  if not ok then
    line_sock:close()
    line_sock = nil
    return answer_all(batch, err)
  end
  for i, job in ipairs(batch) do
    local reply, reply_err, failed = read_reply(line_sock)
    if reply == nil and not failed then
      line_sock:close()
      line_sock = nil
      for j = i, #batch do
        batch[j].err = reply_err
        batch[j].sema:post(1)
      end
      return
    end
    job.reply, job.err, job.failed = reply, reply_err, failed
    job.sema:post(1)
  end
end

local function line_loop(premature, conf)
  if premature then
    return
  end
  while not ngx.worker.exiting() do
    local ok = work:wait(1)
    if ok and #waiting > 0 then
      local batch = waiting
      waiting = {}
      send_batch(conf, batch)
    end
  end
  answer_all(waiting, "worker exiting")
end

-- Start the worker's line (init_worker).
function M.start_line(conf)
  work = semaphore.new()
  assert(ngx.timer.at(0, line_loop, conf))
end

-- One command on the worker's line: its reply, or nil, the error and whether Redis
-- answered it with an error.
function M.run(conf, ...)
  if not work or ngx.worker.exiting() then -- no line: a pooled connection of its own
    local sock, err = M.connect(conf)
    if not sock then
      return nil, err
    end
    local reply, call_err, failed = M.call(sock, ...)
    if reply ~= nil or failed then
      M.release(sock, conf)
    end
    return reply, call_err, failed
  end
  local job = { args = { ... }, sema = semaphore.new() }
  waiting[#waiting + 1] = job
  if #waiting == 1 then
    work:post(1)
  end
  local ok, err = job.sema:wait((conf.timeout_ms * 2 + conf.connect_timeout_ms) / 1000)
  if not ok then
    return nil, "redis: " .. tostring(err)
  end
  if job.reply == nil then
    return nil, job.err, job.failed
  end
  return job.reply
end

return M
