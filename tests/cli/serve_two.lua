-- serve_two.lua - wrk script of tests/cli/serve_two.sh: each connection (one
-- per wrk thread: -t N -c N) works as an annotator would, over and over:
-- GET .../next, then PUT a submitted annotation on the task it was given.
-- Args after --: the users file (a Lua table of {cookie, csrf}) and the
-- project.  done() prints "puts_ok N" and "bad N" (answers other than 200).
local threads, n = {}, 0
function setup(thread)
	thread:set("tid", n)
	n = n + 1
	table.insert(threads, thread)
end
local users, project, user, pending
puts_ok, bad = 0, 0
function init(args)
	users = dofile(args[1])
	project = args[2]
	user = users[tid % #users + 1]
end
function request()
	if pending then
		return wrk.format("PUT", "/api/projects/" .. project .. "/tasks/" .. pending .. "/annotation",
			{ ["Cookie"] = user.cookie, ["X-CSRF-Token"] = user.csrf,
			  ["Content-Type"] = "application/json" },
			'{"value":{"labels":["invoice"]},"status":"submitted"}')
	end
	return wrk.format("GET", "/api/projects/" .. project .. "/next", { ["Cookie"] = user.cookie })
end
function response(status, headers, body)
	if status ~= 200 then
		bad = bad + 1
	end
	if pending then
		if status == 200 then puts_ok = puts_ok + 1 end
		pending = nil
	else
		pending = body:match('^{"task":{"id":(%d+)')
	end
end
function done(summary, latency, requests)
	local ok, b = 0, 0
	for _, t in ipairs(threads) do
		ok = ok + t:get("puts_ok")
		b = b + t:get("bad")
	end
	io.write(string.format("puts_ok %d\nbad %d\nsocket_errors %d\n", ok, b,
		summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
