-- wrk script for `make bench` (bench/harness.py): one URL per run; at the end, every
-- status over all threads, the answers outside 2xx, socket errors and latency
-- percentiles, one "bench <name> <value>" line each, for the harness to read.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counts = {}
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total, bad = {}, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do
      total[status] = (total[status] or 0) + n
      if status < 200 or status >= 300 then
        bad = bad + n
      end
    end
  end
  for status, n in pairs(total) do
    io.write(string.format("bench status %d %d\n", status, n))
  end
  io.write(string.format("bench non_2xx %d\n", bad))
  io.write(string.format("bench requests %d\n", summary.requests))
  io.write(string.format("bench duration_us %d\n", summary.duration))
  io.write(string.format("bench bytes %d\n", summary.bytes))
  local e = summary.errors
  io.write(string.format("bench socket_errors %d %d %d %d\n",
    e.connect, e.read, e.write, e.timeout))
  for _, p in ipairs({ 50, 90, 99 }) do
    io.write(string.format("bench latency_p%d_us %d\n", p, latency:percentile(p)))
  end
  io.write(string.format("bench latency_max_us %d\n", latency.max))
end
