-- next.lua - wrk: GET /api/projects/P/next for the logged-in annotators in
-- turn (each request from the next user of the list, round robin per
-- thread).  Args after --: the users file (a Lua table of {cookie, csrf}) and
-- the project.  Non-2xx answers are counted by wrk (summary.errors.status).
local users, project, i
function init(args)
	users = dofile(args[1])
	project = args[2]
	i = math.random(#users)
end
function request()
	i = i % #users + 1
	return wrk.format("GET", "/api/projects/" .. project .. "/next", { ["Cookie"] = users[i].cookie })
end
done = dofile(os.getenv("BENCH_DIR") .. "/report.lua")
