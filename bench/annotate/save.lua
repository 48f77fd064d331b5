-- save.lua - wrk: PUT /api/projects/P/tasks/ID/annotation (submitted, a
-- label of the schema) on random tasks of the project, by the logged-in
-- annotators in turn.  Args after --: the users file, the project, the
-- first and last task id.
local users, project, lo, hi, i
local body = '{"value":{"labels":["invoice"]},"status":"submitted"}'
function init(args)
	users = dofile(args[1])
	project = args[2]
	lo, hi = tonumber(args[3]), tonumber(args[4])
	i = math.random(#users)
	math.randomseed(os.time() + i)
end
function request()
	i = i % #users + 1
	local id = math.random(lo, hi)
	return wrk.format("PUT", "/api/projects/" .. project .. "/tasks/" .. id .. "/annotation", {
		["Cookie"] = users[i].cookie, ["X-CSRF-Token"] = users[i].csrf,
		["Content-Type"] = "application/json" }, body)
end
done = dofile(os.getenv("BENCH_DIR") .. "/report.lua")
