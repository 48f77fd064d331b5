"""rounds.py - what the benchmarks' interleaved rounds share: each round is one
hyperfine call that runs every command once (--export-json OUT/round-R.json),
so a slow minute on a shared machine falls on all of them; a command's figure
is the median of its rounds, never the best one.

    import rounds; times = rounds.load(out, n)  ->  {command: [seconds per round]}
"""
import json
import statistics


def load(out, n):
    times = {}
    for r in range(1, n + 1):
        with open("%s/round-%d.json" % (out, r)) as f:
            for res in json.load(f)["results"]:
                times.setdefault(res["command"], []).append(res["times"][0])
    return times


def median(xs):
    return statistics.median(xs)
