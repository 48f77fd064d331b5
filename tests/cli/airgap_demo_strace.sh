#!/bin/bash
# airgap_demo_strace.sh - make demo's commands (scripts/demo: ingest of the
# corpus, clean with PII, the model kit, llama.cpp inside moat, doctor) under
# strace -f -e trace=network,process: any connect, sendto, sendmsg or sendmmsg
# to an address that is not loopback fails the test, naming the command that
# made it.  The checker is itself checked on made-up lines first.
. "$(dirname "$0")/lib.sh"
need_testdata corpus
command -v strace >/dev/null || { echo "FAIL: strace is not installed (scripts/bootstrap installs it)"; exit 1; }

cat >"$T/netcheck.py" <<'PY'
# netcheck.py TRACE: prints one line per connection beyond loopback
# ("COMMAND: LINE"), then "connects: N loopback" on the last line.
import re, sys
cmd, parent = {}, {}
fam = re.compile(r'sa_family=(AF_INET6?)\b')
v4 = re.compile(r'inet_addr\("([^"]*)"\)')
v6 = re.compile(r'inet_pton\(AF_INET6, "([^"]*)"')
child = re.compile(r'^(\d+) +(?:<\.\.\. )?(?:clone3?|fork|vfork)\b.*= (\d+)$')
execve = re.compile(r'^(\d+) +execve\("[^"]*", \[(.*?)\]')
calls = re.compile(r'^(\d+) +(?:<\.\.\. )?(connect|sendto|sendmsg|sendmmsg)\b')
def loopback(line):
    f = fam.findall(line)
    if not f:
        return True
    for a in v4.findall(line):
        if not a.startswith('127.'):
            return False
    for a in v6.findall(line):
        if a not in ('::1',) and not a.startswith('::ffff:127.'):
            return False
    return bool(v4.findall(line) or v6.findall(line))
def who(pid):
    seen = set()
    while pid not in cmd and pid in parent and pid not in seen:
        seen.add(pid)
        pid = parent[pid]
    return cmd.get(pid, 'pid ' + pid)
bad, local = 0, 0
for line in open(sys.argv[1], errors='replace'):
    line = line.rstrip('\n')
    m = child.match(line)
    if m:
        parent[m.group(2)] = m.group(1)
    m = execve.match(line)
    if m:
        cmd[m.group(1)] = ' '.join(a.strip('"') for a in re.findall(r'"(?:[^"\\]|\\.)*"', m.group(2))[:4])
    m = calls.match(line)
    if m and fam.search(line):
        if loopback(line):
            local += 1 if 'AF_INET' in line else 0
        else:
            bad += 1
            print('%s: %s' % (who(m.group(1)), line[:300]))
print('connects: %d loopback' % local)
PY
# the checker on made-up lines: one beyond loopback (a documentation address), the rest local
cat >"$T/fake" <<'EOF2'
100 execve("/usr/bin/moat", ["moat", "llm", "run"], 0x7ffd /* 9 vars */) = 0
100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = 101
101 connect(3, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("192.0.2.7")}, 16) = -1 ENETUNREACH (Network is unreachable)
100 connect(4, {sa_family=AF_INET, sin_port=htons(11434), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 ECONNREFUSED (Connection refused)
100 connect(5, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0
100 sendto(6, "x", 1, 0, {sa_family=AF_INET6, sin6_port=htons(53), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), sin6_scope_id=0}, 28) = 1
100 connect(7, {sa_family=AF_UNIX, sun_path="/run/nscd/socket"}, 110) = -1 ENOENT (No such file or directory)
EOF2
python3 "$T/netcheck.py" "$T/fake" >"$T/fake.out"
expect_eq 3 "$(wc -l <"$T/fake.out")" "the checker flags both made-up connections beyond loopback"
expect_grep '^moat llm run: 101 connect.*192\.0\.2\.7' "$T/fake.out" "and names the command of a child"
expect_grep '2001:db8::1' "$T/fake.out" "and IPv6"
expect_grep '^connects: 2 loopback$' "$T/fake.out" "loopback is allowed"

# the demo, traced
MOAT_TESTDATA=$TESTDATA MOAT_DEMO_DIR=$T/demo strace -f -qq -s 256 -e trace=network,process \
	-o "$T/trace" bash "$SRC/scripts/demo" "$MOAT" >"$T/demo.log" 2>&1
expect_grep '^workspace left in ' "$T/demo.log" "the demo ran to its end"
python3 "$T/netcheck.py" "$T/trace" >"$T/net.out"
expect_eq "" "$(grep -v '^connects: ' "$T/net.out" | head -5)" "connections beyond loopback"
n=$(sed -n 's/^connects: \([0-9]*\) loopback$/\1/p' "$T/net.out")
expect_eq True "$([ "${n:-0}" -ge 1 ] && echo True)" "the trace saw the demo's loopback connections (doctor asks 127.0.0.1:11434): $n"
finish
