#!/usr/bin/env python3
"""fake_ollama.py - a stand-in for an Ollama server in moat's tests.

Ollama cannot be installed on the test machines, so this small server (Python
standard library only) answers Ollama's native API in its documented shapes:
NDJSON streaming for /api/chat and /api/generate (one JSON object per line, a
final line with done:true and the counts and durations in nanoseconds),
/api/tags with models[].name/model/size/digest/modified_at/details (derived
from a real store directory with --store, the way Ollama derives them: the
4-level manifests glob, digest = SHA-256 of the manifest bytes, size = config
plus layers as declared), /api/show, /api/ps, /api/embed and /api/version.
A `format` (JSON schema) is answered with a value valid against it, as
Ollama's grammar-constrained sampling would.  It is a replay of the API, not
a model: the text it returns means nothing.

Behaviour for tests comes from a scenario JSON file (--scenario):
  version            "0.12.6"
  models             {"name:tag": {"size", "size_vram_fraction", "eval_tps",
                      "model_info", "template", "capabilities", "error"}}
  busy               answer 503 (Ollama's "server busy") to the first N
                     generation requests
  die_after_lines    close the connection after N streamed lines, without
                     the final done line (a server that crashed)
  delay              seconds each generation takes (to observe concurrency)
  hold_until_inflight  N: each generation waits (up to hold_timeout seconds,
                     default 30) until N generation requests have been in
                     flight at once, so that a client that sends N at a time
                     is seen doing so however the machine schedules it
  endless            generations stream pieces without end, whatever
                     num_predict says (a server that does not keep to max
                     tokens), until the client closes the connection
  piece_bytes        with endless: each piece is this many bytes (default:
                     words of a few bytes)
  format_answer      the value to answer every request that has a `format`
                     (a JSON schema) with, instead of a made-up valid one:
                     to test what a client does with a given answer
  silent             true: every request is read and never answered (the
                     connection stays open); a list of paths: only those
  reject_fields      ["logprobs", ...]: a /v1/chat/completions request that
                     has one of these fields is refused with 400, as a
                     server that does not know it would (Ollama itself
                     ignores fields it does not know)
A request with "logprobs": true gets each token's logprob (-0.5 a piece) in
its streamed lines: Ollama's logprobs[] on /api/*, OpenAI's
choices[0].logprobs.content[] on /v1/chat/completions (Ollama's
OpenAI-compatible API: /v1/models and streamed chat completions only).
Every request is appended to --log as JSON ({"path", "body"}), and the
largest number of generation requests in flight at once is written to
--log + ".inflight".  --port 0 picks a free port, written to --port-file.
"""
import argparse
import hashlib
import json
import os
import random
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
SCEN = {}
LOCK = threading.Lock()
INFLIGHT = threading.Condition(LOCK)
STATE = {"busy_left": 0, "inflight": 0, "max_inflight": 0, "loaded": {}}

DEFAULT_INFO = {
    "general.architecture": "llama",
    "general.parameter_count": 6738415616,
    "llama.block_count": 32,
    "llama.context_length": 4096,
    "llama.embedding_length": 4096,
    "llama.attention.head_count": 32,
    "llama.attention.head_count_kv": 8,
}


def display_name(host, ns, model, tag):
    if host.lower() == "registry.ollama.ai":
        if ns == "library":
            return "%s:%s" % (model, tag)
        return "%s/%s:%s" % (ns, model, tag)
    return "%s/%s/%s:%s" % (host, ns, model, tag)


def store_models(store):
    """What Ollama's /api/tags shows for a store on disk."""
    out = []
    mdir = os.path.join(store, "manifests")
    if not os.path.isdir(mdir):
        return out
    for host in sorted(os.listdir(mdir)):
        hp = os.path.join(mdir, host)
        if not os.path.isdir(hp):
            continue
        for ns in sorted(os.listdir(hp)):
            np_ = os.path.join(hp, ns)
            if not os.path.isdir(np_):
                continue
            for model in sorted(os.listdir(np_)):
                mp = os.path.join(np_, model)
                if not os.path.isdir(mp):
                    continue
                for tag in sorted(os.listdir(mp)):
                    f = os.path.join(mp, tag)
                    if os.path.isdir(f) or tag.startswith("."):
                        continue
                    raw = open(f, "rb").read()
                    try:
                        m = json.loads(raw)
                    except ValueError:
                        continue
                    cfg = m.get("config", {})
                    cpath = os.path.join(store, "blobs", cfg.get("digest", "").replace(":", "-"))
                    if not os.path.exists(cpath):
                        continue  # Ollama leaves out a model whose config blob is missing
                    size = cfg.get("size", 0) + sum(l.get("size", 0) for l in m.get("layers", []))
                    model_blob = ""
                    for l in m.get("layers", []):
                        if l.get("mediaType") == "application/vnd.ollama.image.model":
                            model_blob = os.path.join(store, "blobs", l["digest"].replace(":", "-"))
                    name = display_name(host, ns, model, tag)
                    out.append({
                        "name": name, "model": name, "size": size,
                        "digest": hashlib.sha256(raw).hexdigest(),
                        "modified_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(os.path.getmtime(f))),
                        "details": {"parent_model": "", "format": "gguf", "family": "llama",
                                    "families": ["llama"], "parameter_size": "7B",
                                    "quantization_level": "Q4_K_M"},
                        "_blob": model_blob,
                    })
    return out


def all_models():
    models = []
    if ARGS.store:
        models = store_models(ARGS.store)
    names = {m["name"] for m in models}
    for name, spec in SCEN.get("models", {}).items():
        if name in names:
            continue
        models.append({
            "name": name, "model": name, "size": spec.get("size", 4109865159),
            "digest": hashlib.sha256(name.encode()).hexdigest(),
            "modified_at": "2025-01-01T00:00:00Z",
            "details": {"format": "gguf", "family": "llama", "parameter_size": "7B",
                        "quantization_level": "Q4_K_M"},
            "_blob": "/nonexistent/blobs/sha256-" + hashlib.sha256(b"w" + name.encode()).hexdigest(),
        })
    return models


def find_model(name):
    if name and ":" not in name.split("/")[-1]:
        name += ":latest"
    for m in all_models():
        if m["name"] == name:
            return m
    return None


def spec_of(name):
    s = SCEN.get("models", {})
    if name in s:
        return s[name]
    if name and name + ":latest" in s:
        return s[name + ":latest"]
    return {}


def instance(schema, rnd):
    """A value valid against the JSON-schema subset moat sends as format."""
    if not isinstance(schema, dict):
        return "ok"
    if "enum" in schema:
        return rnd.choice(schema["enum"])
    t = schema.get("type", "string")
    if isinstance(t, list):
        t = t[0]
    if t == "object":
        return {k: instance(v, rnd) for k, v in schema.get("properties", {}).items()}
    if t == "array":
        n = max(schema.get("minItems", 0), min(schema.get("maxItems", 2), 2))
        return [instance(schema.get("items", {}), rnd) for _ in range(n)]
    if t == "integer":
        return rnd.randint(-5, 100)
    if t == "number":
        return round(rnd.random() * 10, 3)
    if t == "boolean":
        return rnd.random() < 0.5
    if t == "null":
        return None
    return "ok"


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-ollama"

    def log_message(self, fmt, *a):  # quiet
        pass

    def send_json(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def record(self, body):
        if ARGS.log:
            with LOCK:
                with open(ARGS.log, "a") as f:
                    f.write(json.dumps({"path": self.path, "body": body}) + "\n")

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return "<not json>"

    def silent(self):
        """Holds the request unanswered when the scenario says so; True when it did."""
        s = SCEN.get("silent")
        if s is True or (isinstance(s, list) and self.path in s):
            while True:
                time.sleep(3600)  # until the test kills the server
        return False

    def do_HEAD(self):
        self.send_response(200)
        self.end_headers()

    def do_GET(self):
        self.record(None)
        self.silent()
        if self.path == "/":
            data = b"Ollama is running"
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif self.path == "/api/version":
            self.send_json(200, {"version": SCEN.get("version", "0.12.6")})
        elif self.path == "/api/tags":
            ms = [{k: v for k, v in m.items() if not k.startswith("_")} for m in all_models()]
            self.send_json(200, {"models": ms})
        elif self.path == "/api/ps":
            out = []
            with LOCK:
                loaded = dict(STATE["loaded"])
            for name in loaded:
                m = find_model(name)
                if not m:
                    continue
                frac = spec_of(m["name"]).get("size_vram_fraction", 0.0)
                out.append({"name": m["name"], "model": m["name"], "size": m["size"],
                            "digest": m["digest"], "details": m["details"],
                            "expires_at": "2099-01-01T00:00:00Z",
                            "size_vram": int(m["size"] * frac),
                            "context_length": spec_of(m["name"]).get("context_length", 4096)})
            self.send_json(200, {"models": out})
        elif self.path == "/v1/models":
            self.send_json(200, {"object": "list", "data": [
                {"id": m["name"], "object": "model", "created": 1735689600, "owned_by": "library"}
                for m in all_models()]})
        else:
            self.send_json(404, {"error": "404 page not found"})

    def openai_chat(self, body):
        """Ollama's /v1/chat/completions, streamed (the SSE chunks), or a 400
        for a field the scenario rejects."""
        for f in SCEN.get("reject_fields", []):
            if f in body:
                return self.send_json(400, {"error": {"message": "unknown field \"%s\"" % f,
                                                      "type": "invalid_request_error"}})
        m = find_model(body.get("model"))
        if not m:
            return self.send_json(404, {"error": {"message": "model '%s' not found" % body.get("model")}})
        words = ["ready", " set", " go", " and", " more"]
        n = body.get("max_tokens")
        pieces = words[:n] if isinstance(n, int) and n >= 0 else words
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()

        def chunk(delta, finish, extra=None):
            c = {"index": 0, "delta": delta, "finish_reason": finish}
            if extra:
                c.update(extra)
            ev = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1735689600,
                  "model": m["name"], "system_fingerprint": "fp_ollama", "choices": [c]}
            self.wfile.write(("data: %s\n\n" % json.dumps(ev)).encode())

        for p in pieces:
            lp = None
            if body.get("logprobs"):
                lp = {"logprobs": {"content": [{"token": p, "logprob": -0.5,
                                                "bytes": list(p.encode()), "top_logprobs": []}]}}
            chunk({"role": "assistant", "content": p}, None, lp)
        chunk({"role": "assistant", "content": ""}, "length" if len(pieces) < len(words) else "stop")
        usage = {"prompt_tokens": 3, "completion_tokens": len(pieces), "total_tokens": 3 + len(pieces)}
        self.wfile.write(("data: %s\n\n" % json.dumps({"id": "chatcmpl-1", "object": "chat.completion.chunk",
                                                       "choices": [], "usage": usage})).encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def do_POST(self):
        body = self.read_body()
        self.record(body)
        self.silent()
        if not isinstance(body, dict):
            return self.send_json(400, {"error": "invalid request body"})
        if self.path == "/api/show":
            m = find_model(body.get("model") or body.get("name"))
            if not m:
                return self.send_json(404, {"error": "model '%s' not found" % body.get("model")})
            spec = spec_of(m["name"])
            self.send_json(200, {
                "license": "", "parameters": "",
                "modelfile": "# Modelfile generated by \"ollama show\"\nFROM %s\n" % m["_blob"],
                "template": spec.get("template", "{{ .Prompt }}"),
                "details": m["details"],
                "model_info": spec.get("model_info", DEFAULT_INFO),
                "capabilities": spec.get("capabilities", ["completion"]),
                "modified_at": m["modified_at"],
            })
        elif self.path in ("/api/chat", "/api/generate"):
            self.generate(body)
        elif self.path == "/v1/chat/completions":
            self.openai_chat(body)
        elif self.path == "/api/embed":
            m = find_model(body.get("model"))
            if not m:
                return self.send_json(404, {"error": "model '%s' not found" % body.get("model")})
            inp = body.get("input")
            texts = [inp] if isinstance(inp, str) else list(inp or [])
            embs = []
            for t in texts:
                h = hashlib.sha256(t.encode()).digest()
                v = [(b - 128) / 128.0 for b in h[:8]]
                n = sum(x * x for x in v) ** 0.5 or 1.0
                embs.append([x / n for x in v])
            self.send_json(200, {"model": m["name"], "embeddings": embs, "total_duration": 1000000,
                                 "load_duration": 1000, "prompt_eval_count": sum(len(t.split()) for t in texts)})
        else:
            self.send_json(404, {"error": "404 page not found"})

    def generate(self, body):
        name = body.get("model")
        m = find_model(name)
        if not m:
            return self.send_json(404, {"error": "model '%s' not found" % name})
        spec = spec_of(m["name"])
        with LOCK:
            if STATE["busy_left"] > 0:
                STATE["busy_left"] -= 1
                busy = True
            else:
                busy = False
        if busy:
            return self.send_json(503, {"error": "server busy, please try again.  maximum pending requests exceeded"})
        if spec.get("error"):
            return self.send_json(500, {"error": spec["error"]})
        with LOCK:
            STATE["inflight"] += 1
            STATE["max_inflight"] = max(STATE["max_inflight"], STATE["inflight"])
            if ARGS.log:
                with open(ARGS.log + ".inflight", "w") as f:
                    f.write("%d\n" % STATE["max_inflight"])
            STATE["loaded"][m["name"]] = True
            INFLIGHT.notify_all()
            hold = SCEN.get("hold_until_inflight")
            if hold:
                end = time.monotonic() + SCEN.get("hold_timeout", 30)
                while STATE["max_inflight"] < hold and time.monotonic() < end:
                    INFLIGHT.wait(max(0.0, end - time.monotonic()))
        try:
            self.answer(body, spec)
        finally:
            with LOCK:
                STATE["inflight"] -= 1

    def answer(self, body, spec):
        opts = body.get("options") or {}
        rnd = random.Random(opts.get("seed", 0))
        fmt = body.get("format")
        if isinstance(fmt, dict):
            value = SCEN["format_answer"] if "format_answer" in SCEN else instance(fmt, rnd)
            text = json.dumps(value, separators=(",", ":"))
            pieces = [text[i:i + 3] for i in range(0, len(text), 3)]
        elif fmt == "json":
            pieces = ['{"answer":', '"ok"}']
        else:
            words = ["ready", " set", " go", " and", " more", " words", " here"]
            n = opts.get("num_predict", -1)
            n = len(words) if n is None or n < 0 else min(n, len(words))
            pieces = words[:n]
        if "messages" in body:
            prompt = " ".join(str(x.get("content", "")) for x in body.get("messages") or [])
        else:
            prompt = str(body.get("prompt", ""))
        if SCEN.get("delay"):
            time.sleep(SCEN["delay"])
        tps = spec.get("eval_tps", 50.0)
        chat = self.path == "/api/chat"
        stream = body.get("stream", True)
        final = {
            "model": body["model"], "created_at": "2025-01-01T00:00:00Z", "done": True,
            "done_reason": "stop", "total_duration": 250000000, "load_duration": 150000000,
            "prompt_eval_count": max(1, len(prompt.split())), "prompt_eval_duration": 20000000,
            "eval_count": len(pieces), "eval_duration": int(len(pieces) / tps * 1e9) or 1,
        }
        if not stream:
            text = "".join(pieces)
            if chat:
                final["message"] = {"role": "assistant", "content": text}
            else:
                final["response"] = text
            return self.send_json(200, final)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.end_headers()
        if SCEN.get("endless"):
            return self.endless(body, chat)
        die = SCEN.get("die_after_lines")
        for i, p in enumerate(pieces):
            if die is not None and i >= die:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.send_piece(body, chat, p)
        if chat:
            final["message"] = {"role": "assistant", "content": ""}
        else:
            final["response"] = ""
        self.wfile.write((json.dumps(final) + "\n").encode())

    def send_piece(self, body, chat, p, logprobs=True):
        """One streamed line of the answer, not the last."""
        line = {"model": body["model"], "created_at": "2025-01-01T00:00:00Z", "done": False}
        if chat:
            line["message"] = {"role": "assistant", "content": p}
        else:
            line["response"] = p
        if logprobs and body.get("logprobs"):
            line["logprobs"] = [{"token": p, "logprob": -0.5, "bytes": list(p.encode())}]
        self.wfile.write((json.dumps(line) + "\n").encode())
        self.wfile.flush()

    def endless(self, body, chat):
        size = SCEN.get("piece_bytes")
        words = ["x" * size] if size else ["on", " and", " on"]
        i = 0
        try:
            while True:
                # no logprobs: as fast as the lines can go (a 64 MiB answer)
                self.send_piece(body, chat, words[i % len(words)], False)
                i += 1
        except OSError:
            pass  # the client closed the connection


def main():
    global ARGS, SCEN
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--store")
    ap.add_argument("--scenario")
    ap.add_argument("--log")
    ARGS = ap.parse_args()
    if ARGS.scenario:
        with open(ARGS.scenario) as f:
            SCEN = json.load(f)
    STATE["busy_left"] = SCEN.get("busy", 0)
    srv = ThreadingHTTPServer((ARGS.host, ARGS.port), Handler)
    srv.daemon_threads = True
    if ARGS.port_file:
        tmp = ARGS.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(tmp, ARGS.port_file)
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
