-- report.lua - wrk's done(): one line of JSON with the request count, the
-- rate, the latency percentiles (ms) and the errors, for run.sh to collect.
return function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		'{"requests": %d, "seconds": %.2f, "rps": %.1f, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, ' ..
		'"max_ms": %.2f, "non_2xx": %d, "socket_errors": %d}\n',
		summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
		latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
		latency.max / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end
