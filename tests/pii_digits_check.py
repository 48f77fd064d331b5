#!/usr/bin/env python3
"""pii_digits_check.py - proves, for every built-in PII pattern flagged
P_DIGITS, what the shape scan (src/clean/pii_shape.c) relies on: every string
its Hyperscan expression matches holds a digit, with at most LEAD bytes
before the first digit, TRAIL after the last and GAP between two digits.
A flagged expression that breaks it would lose findings.

The expressions come from tests/pii_digits_dump.c (argv[1]); each is parsed
with Python's own regular-expression parser (as bytes) and walked: the
walk over-approximates, so it may refuse an expression that keeps the
bounds, never the other way round.  Look-arounds and \\b are zero-width.

Usage: pii_digits_check.py DUMP_PROGRAM
"""
import subprocess
import sys

try:
    import re._parser as sp
    import re._constants as sc
except ImportError:  # Python < 3.11
    import sre_parse as sp
    import sre_constants as sc

INF = 10 ** 6
ONE_DIGIT = (None, (0, 0, 0))   # (longest digit-free match, (lead, trail, gap))
ONE_OTHER = (1, None)
EMPTY = (0, None)


def cap(x):
    return None if x is None else min(x, INF)


def cat(a, b):
    """The summary of a string of a followed by one of b."""
    na, da = a
    nb, db = b
    n = na + nb if na is not None and nb is not None else None
    c = []
    if da and db:
        c.append((da[0], db[1], max(da[2], db[2], da[1] + db[0])))
    if da and nb is not None:
        c.append((da[0], da[1] + nb, da[2]))
    if na is not None and db:
        c.append((na + db[0], db[1], db[2]))
    d = tuple(min(max(x[k] for x in c), INF) for k in range(3)) if c else None
    return (cap(n), d)


def alt(a, b):
    if a is None:
        return b
    na, da = a
    nb, db = b
    n = max(x for x in (na, nb) if x is not None) if na is not None or nb is not None else None
    d = tuple(max(da[k], db[k]) for k in range(3)) if da and db else (da or db)
    return (n, d)


def klass(items):
    dig = other = neg = False
    for op, av in items:
        if op == sc.NEGATE:
            neg = True
        elif op == sc.LITERAL:
            dig |= 48 <= av <= 57
            other |= not 48 <= av <= 57
        elif op == sc.RANGE:
            dig |= av[0] <= 57 and av[1] >= 48
            other |= av[0] < 48 or av[1] > 57
        elif op == sc.CATEGORY and av == sc.CATEGORY_DIGIT:
            dig = True
        elif op == sc.CATEGORY and av in (sc.CATEGORY_NOT_DIGIT, sc.CATEGORY_SPACE,
                                          sc.CATEGORY_NOT_SPACE):
            other = True
            dig |= av == sc.CATEGORY_NOT_SPACE
        else:
            dig = other = True
    if neg:
        dig = other = True
    r = None
    if dig:
        r = alt(r, ONE_DIGIT)
    if other:
        r = alt(r, ONE_OTHER)
    return r


def seq(items):
    r = EMPTY
    for it in items:
        r = cat(r, node(it))
    return r


def node(it):
    op, av = it
    if op == sc.LITERAL:
        return ONE_DIGIT if 48 <= av <= 57 else ONE_OTHER
    if op in (sc.NOT_LITERAL, sc.ANY):
        return alt(ONE_DIGIT, ONE_OTHER)
    if op == sc.IN:
        return klass(av)
    if op in (sc.AT, sc.ASSERT, sc.ASSERT_NOT):
        return EMPTY
    if op == sc.SUBPATTERN:
        return seq(av[-1])
    if op == sc.BRANCH:
        r = None
        for b in av[1]:
            r = alt(r, seq(b))
        return r
    if op in (sc.MAX_REPEAT, sc.MIN_REPEAT) or op == getattr(sc, "POSSESSIVE_REPEAT", None):
        lo, hi, sub = av
        a = seq(sub)
        r = None if lo > 0 else EMPTY
        cur, prev = EMPTY, None
        for k in range(0, 200):
            if k >= lo:
                r = alt(r, cur)
            if hi != sc.MAXREPEAT and k >= hi:
                return r
            if k > lo + 2 and r == prev:
                return r          # no longer growing
            prev = r
            cur = cat(cur, a)
        n, d = r                   # still growing after 200: unbounded
        return (INF if n is not None else None, tuple(INF for _ in d) if d else None)
    raise ValueError("cannot walk %s" % op)


def summary(expr):
    # Hyperscan and PCRE syntax the Python parser reads otherwise
    e = expr.replace(b"(?-i:", b"(?:")
    return seq(sp.parse(e))


def keeps(expr, lead, trail, gap):
    n, d = summary(expr)
    return n is None and d is not None and d[0] <= lead and d[1] <= trail and d[2] <= gap


def self_test(lead, trail, gap):
    # the walk itself must be able to refuse
    good = [rb"\b\d{3}-\d{2}-\d{4}\b", rb"\b[A-Z]{2}\d{2}", rb"\d{2,5}\)?[ .-]\d{2}"]
    bad = [rb"box\s+\d", rb"\b[A-Z0-9]{9}", rb"[0-9A-Fa-f]{1,4}::", rb"\d[ -]+(?:years?)[ -]+old",
           rb"\b(?:Apt|Apartment)\.? ?#?\d{1,5}"]
    for e in good:
        if not keeps(e, lead, trail, gap):
            sys.exit("self-test: %r should keep the bounds" % e)
    for e in bad:
        if keeps(e, lead, trail, gap):
            sys.exit("self-test: %r should not keep the bounds" % e)


def main():
    out = subprocess.run([sys.argv[1]], check=True, capture_output=True).stdout
    lines = out.split(b"\n")
    head = lines[0].split()
    if head[0] != b"bounds":
        sys.exit("unexpected output of %s" % sys.argv[1])
    lead, trail, gap = map(int, head[1:])
    self_test(lead, trail, gap)
    flagged = bad = 0
    for line in lines[1:]:
        if not line:
            continue
        idx, digits, entity, name, expr = line.split(b"\t", 4)
        if digits != b"1":
            continue
        flagged += 1
        try:
            ok = keeps(expr, lead, trail, gap)
            why = summary(expr)
        except Exception as ex:  # an expression the walk cannot read
            ok, why = False, ex
        if not ok:
            bad += 1
            print("pattern %s (%s, %s) is flagged P_DIGITS but its expression %r does not keep"
                  " the bounds lead %d, trail %d, gap %d: %s"
                  % (idx.decode(), entity.decode(), name.decode(), expr, lead, trail, gap, why))
    print("%d patterns flagged P_DIGITS, %d break the bounds" % (flagged, bad))
    if flagged == 0 or bad:
        sys.exit(1)


if __name__ == "__main__":
    main()
