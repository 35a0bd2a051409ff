-- Appended to every script the bench generates for wrk: at the end of a
-- run, one line of figures for the bench to read.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_FIGURES {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
