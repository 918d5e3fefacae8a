-- wrk script for bench/run.py: optional form posts (BENCH_POST_BODY, with TOKEN replaced by a
-- unique value per request) and a machine-readable summary line at the end.
local body = os.getenv("BENCH_POST_BODY")
local prefix = os.getenv("BENCH_TOKEN_PREFIX") or "t"
local counter = 0

request = function()
  if body then
    counter = counter + 1
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
    return wrk.format("POST", nil, wrk.headers, (body:gsub("TOKEN", prefix .. counter)))
  end
  return wrk.format(nil)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH {\"requests\": %d, \"duration_us\": %d, \"p50\": %d, \"p95\": %d, \"p99\": %d, " ..
    "\"connect\": %d, \"read\": %d, \"write\": %d, \"status\": %d, \"timeout\": %d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
