# sqlite3 shim for the CLI tests under tests/with-pg (on PYTHONPATH there):
# sqlite3.connect(PATH) on a PostgreSQL workspace's moat.db marker returns a
# connection that runs each query on the workspace's schema through psql
# (rows typed by JSON: numbers, text, null); any other path, and everything
# else in the module, is Python's own sqlite3.
import json
import os
import subprocess
import sys

_here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_shim = sys.modules.pop("sqlite3")
_saved_path = sys.path
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _here]
try:
    import sqlite3 as _real
finally:
    sys.path = _saved_path
    sys.modules["sqlite3"] = _shim
for _k in dir(_real):
    if not _k.startswith("__"):
        globals()[_k] = getattr(_real, _k)


def _marker(path):
    path = str(path)
    if path.startswith("file:"):
        path = path[5:].split("?")[0]
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    if not lines or lines[0] != "moat-store postgres":
        return None
    kv = dict(l.split(" ", 1) for l in lines[1:] if " " in l)
    return kv.get("uri"), kv.get("id")


def _literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, bytes):
        return "'\\x%s'::bytea" % v.hex()
    return "'" + str(v).replace("'", "''") + "'"


def _bind(sql, params):
    out, k, i, q = [], 0, 0, None
    while i < len(sql):
        c = sql[i]
        if q:
            if c == q:
                q = None
        elif c in "'\"":
            q = c
        elif c == "?":
            out.append(_literal(params[k]))
            k += 1
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


class _Cursor:
    def __init__(self, rows):
        self._rows = rows

    def fetchall(self):
        r, self._rows = self._rows, []
        return r

    def fetchone(self):
        return self._rows.pop(0) if self._rows else None

    def __iter__(self):
        while self._rows:
            yield self._rows.pop(0)


class _PgConn:
    def __init__(self, uri, wid):
        self.uri, self.wid = uri, wid

    def execute(self, sql, params=()):
        sql = _bind(sql.strip().rstrip(";"), tuple(params))
        # json (not jsonb) keeps every column in order, duplicate names too
        q = "SELECT coalesce(json_agg(row_to_json(q)), '[]') FROM (%s) q" % sql
        out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", self.uri,
                              "-c", "SET search_path TO moat_%s" % self.wid, "-c", q],
                             capture_output=True, text=True)
        if out.returncode:
            raise _real.DatabaseError(out.stderr.strip())
        rows = json.loads(out.stdout, object_pairs_hook=lambda kv: tuple(v for _, v in kv))
        return _Cursor(list(rows))

    def cursor(self):
        return self

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def connect(database, *args, **kw):
    m = _marker(database)
    if m and m[0] and m[1]:
        return _PgConn(*m)
    return _real.connect(database, *args, **kw)
