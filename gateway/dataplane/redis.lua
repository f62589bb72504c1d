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

-- A connection to the configured server (host, port, db, password), from the pool;
-- named, for CLIENT LIST, when a name is given.
function M.connect(conf, name)
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
    if name then
      setup[#setup + 1] = encode({ "CLIENT", "SETNAME", name })
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
local spare = {} -- the semaphores of answered commands, taken again
local line_sock
M.LINE_NAME = "gw-dataplane-line"

local function answer_all(batch, err)
  for _, job in ipairs(batch) do
    job.err = err
    job.sema:post(1)
  end
end

local function send_batch(conf, batch)
  if not line_sock then
    local sock, err = M.connect(conf, M.LINE_NAME)
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
  while true do
    local exiting = ngx.worker.exiting()
    local ok = exiting or work:wait(1)
    if ok and #waiting > 0 then
      local batch = waiting
      waiting = {}
      local sent, err = pcall(send_batch, conf, batch)
      if not sent then -- answer every command still waiting, on a new connection next
        ngx.log(ngx.ERR, "dataplane: redis line: ", err)
        if line_sock then
          line_sock:close()
          line_sock = nil
        end
        for _, job in ipairs(batch) do
          if job.reply == nil and job.err == nil then
            job.err = "redis line failed"
            job.sema:post(1)
          end
        end
      end
    end
    if exiting then -- what was queued has gone; later commands take a pooled connection
      if line_sock then
        line_sock:close()
      end
      return
    end
  end
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
  local sema = spare[#spare]
  if sema then
    spare[#spare] = nil
  else
    sema = semaphore.new()
  end
  local job = { args = { ... }, sema = sema }
  waiting[#waiting + 1] = job
  if #waiting == 1 then
    work:post(1)
  end
  local ok, err = job.sema:wait((conf.timeout_ms * 2 + conf.connect_timeout_ms) / 1000)
  if not ok then -- not taken back: its answer may still come
    return nil, "redis: " .. tostring(err)
  end
  spare[#spare + 1] = sema
  if job.reply == nil then
    return nil, job.err, job.failed
  end
  return job.reply
end

return M
