#!/usr/bin/env python3
"""gen.py STORE N GB - builds an Ollama store for the model-kit benchmark:
N models bench/m1:latest ... bench/mN:latest, each with a synthetic GGUF model
blob of about GB gigabytes (a valid header and one F32 tensor of incompressible
bytes), a template, params and config blob, and a compact manifest as a
registry sends it.  Deterministic for a given N and GB."""
import hashlib
import json
import os
import random
import struct
import sys


def gguf_header(n_elems):
    def s(x):
        b = x.encode()
        return struct.pack('<Q', len(b)) + b
    kv = [(b'general.architecture', 8, s('llama')),
          (b'llama.context_length', 4, struct.pack('<I', 4096)),
          (b'general.file_type', 4, struct.pack('<I', 0))]
    h = b'GGUF' + struct.pack('<IQQ', 3, 1, len(kv))
    for k, t, v in kv:
        h += struct.pack('<Q', len(k)) + k + struct.pack('<I', t) + v
    h += s('w') + struct.pack('<I', 1) + struct.pack('<Q', n_elems) + struct.pack('<IQ', 0, 0)
    return h + b'\0' * ((32 - len(h) % 32) % 32)


def put(store, data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(store, 'blobs', 'sha256-' + d), 'wb') as f:
        f.write(data)
    return {'digest': 'sha256:' + d, 'size': len(data)}


def main():
    store, n, gb = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    os.makedirs(os.path.join(store, 'blobs'), exist_ok=True)
    chunk = 1 << 26
    for i in range(1, n + 1):
        rnd = random.Random(i)
        block = rnd.randbytes(chunk)
        n_elems = int(gb * 1e9 / 4) // 32 * 32
        tmp = os.path.join(store, 'blobs', 'gen.tmp')
        h = hashlib.sha256()
        with open(tmp, 'wb') as f:
            hdr = gguf_header(n_elems)
            f.write(hdr)
            h.update(hdr)
            left = n_elems * 4
            k = 0
            while left:
                # vary each chunk a little so no two are the same
                part = block[:min(left, chunk)]
                part = struct.pack('<Q', k) + part[8:]
                f.write(part)
                h.update(part)
                left -= len(part)
                k += 1
            size = f.tell()
        d = h.hexdigest()
        os.rename(tmp, os.path.join(store, 'blobs', 'sha256-' + d))
        layers = [dict(mediaType='application/vnd.ollama.image.model', digest='sha256:' + d, size=size)]
        for mt, data in [('template', b'{{ .Prompt }}'), ('params', ('{"seed":%d}' % i).encode())]:
            layers.append(dict(mediaType='application/vnd.ollama.image.' + mt, **put(store, data)))
        cfg = put(store, json.dumps({'model_format': 'gguf', 'model_family': 'llama', 'n': i}).encode())
        man = {'schemaVersion': 2, 'mediaType': 'application/vnd.docker.distribution.manifest.v2+json',
               'config': dict(mediaType='application/vnd.docker.container.image.v1+json', **cfg),
               'layers': layers}
        p = os.path.join(store, 'manifests', 'registry.ollama.ai', 'bench', 'm%d' % i, 'latest')
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, 'w') as f:
            f.write(json.dumps(man, separators=(',', ':')))


if __name__ == '__main__':
    main()
