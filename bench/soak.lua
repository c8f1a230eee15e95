-- wrk script for `make soak`: each connection rotates over the article, home and search
-- pages; at the end, counts of every status and of non-2xx/3xx answers, over all threads.
-- Paths come from the command line: wrk ... -s bench/soak.lua URL -- /path1 /path2 ...

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for _, path in ipairs(args) do
    table.insert(paths, path)
  end
  if #paths == 0 then
    paths = { "/" }
  end
  counts = {}
  turn = 0
end

function request()
  turn = turn + 1
  return wrk.format("GET", paths[(turn % #paths) + 1])
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total, bad = {}, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do
      total[status] = (total[status] or 0) + n
      if status < 200 or status >= 400 then
        bad = bad + n
      end
    end
  end
  for status, n in pairs(total) do
    io.write(string.format("soak status %d %d\n", status, n))
  end
  io.write(string.format("soak non_2xx_3xx %d\n", bad))
  io.write(string.format("soak requests %d\n", summary.requests))
  io.write(string.format("soak duration_us %d\n", summary.duration))
  local e = summary.errors
  io.write(string.format("soak socket_errors connect=%d read=%d write=%d timeout=%d\n",
    e.connect, e.read, e.write, e.timeout))
  for _, p in ipairs({ 50, 90, 99 }) do
    io.write(string.format("soak latency_p%d_us %d\n", p, latency:percentile(p)))
  end
  io.write(string.format("soak latency_max_us %d\n", latency.max))
end
