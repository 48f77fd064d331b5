#!/usr/bin/env python3
"""unique_shapes.py MB SEED: text dense in numbers whose shapes do not repeat
(lines of 3 to 9 parts, each a word of 1 to 9 letters or a cluster of 1 to 5
digit groups of 1 to 6 digits joined by one of ` -./:()+_,` or a letter): the
case where the PII scanner's memo of shapes (src/clean/pii_shape.c) misses.
bench/pii/RESULTS.md measures `moat pii scan --json` on `unique_shapes.py 20 7`."""
import random
import sys

mb, seed = int(sys.argv[1]), int(sys.argv[2])
random.seed(seed)
seps = [' ', '-', '.', '/', ':', '(', ')', '+', '_', ',']
letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
n = 0
out = sys.stdout
while n < mb * 1000000:
    parts = []
    for _ in range(random.randint(3, 9)):
        if random.random() < 0.5:
            parts.append(''.join(random.choice(letters) for _ in range(random.randint(1, 9))))
        else:
            g = []
            for _ in range(random.randint(1, 5)):
                g.append(''.join(random.choice('0123456789') for _ in range(random.randint(1, 6))))
                g.append(random.choice(seps) if random.random() < 0.7 else random.choice(letters))
            parts.append(''.join(g[:-1]))
    line = ' '.join(parts) + '.\n'
    out.write(line)
    n += len(line)
