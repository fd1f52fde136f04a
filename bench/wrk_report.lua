-- Prints one machine-readable line at the end of a wrk run: latency percentiles of the
-- completed requests in milliseconds, and every kind of error wrk counts.
done = function(summary, latency, requests)
  io.write(string.format(
    "RESULT p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f requests=%d duration_s=%.1f connect=%d read=%d write=%d status=%d timeout=%d\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.duration / 1e6,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
end
