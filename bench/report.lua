-- wrk script for bench/wrk.py: counts responses by status in every thread, then prints one
-- line, "BENCH_JSON {...}", with the totals, the latency percentiles (microseconds), the
-- status counts and the latency histogram. Python decides what counts as an error, and merges
-- the histograms of a scenario's rounds for percentiles with enough samples behind them.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

-- The non-empty buckets as a flat list: microseconds, count, microseconds, count, ...
-- latency(i) is wrk's i-th non-empty bucket (value and count), #latency how many there are.
local function histogram(latency)
  local parts = {}
  for i = 1, #latency do
    local microseconds, count = latency(i)
    parts[#parts + 1] = string.format("%d, %d", microseconds, count)
  end
  return table.concat(parts, ", ")
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local fields = {}
  for status, n in pairs(counts) do
    table.insert(fields, string.format('"%d": %d', status, n))
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, '
      .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}, '
      .. '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, '
      .. '"statuses": {%s}, "histogram_us": [%s]}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean,
    errors.connect, errors.read, errors.write, errors.timeout,
    table.concat(fields, ", "), histogram(latency)
  ))
end
