#!/usr/bin/env python3
"""gen.py - writes N megabytes of English-like text with realistic PII density
(about one identifier per 400 bytes: names, e-mails, phones, cards, SSNs, IBANs,
dates, addresses, IPs, URLs), deterministic for a seed.  Used by run.sh."""
import random, sys

def luhn_fill(prefix, n):
    d = [int(c) for c in prefix]
    while len(d) < n - 1:
        d.append(random.randrange(10))
    s = 0
    for i, v in enumerate(reversed(d)):
        if i % 2 == 0:
            v *= 2
            if v > 9: v -= 9
        s += v
    d.append((10 - s % 10) % 10)
    return ''.join(map(str, d))

def iban():
    bban = ''.join(random.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ') for _ in range(4)) + ''.join(str(random.randrange(10)) for _ in range(14))
    num = ''.join(str(int(c, 36)) for c in bban + 'GB00')
    return 'GB%02d%s' % (98 - int(num) % 97, bban)

FIRST = "James Mary Robert Linda Michael Sarah David Emma Thomas Anna Lukas Sofia Pierre Marta Kenji Aisha".split()
LAST = "Smith Garcia Müller Rossi Nowak Jensen Tanaka Kowalski Dubois Silva Novak Berg Hughes Patel".split()
WORDS = ("the of and to in a is that for it as was with be by on not he I this are or his from at "
         "which but have an they you were her she there been one all we their has would when if so "
         "what up out them about more other into than its time could some only new two may then do "
         "first any my now such like our over man me even most made after also did many before must "
         "through back years where much your way well down should because each just those people how "
         "too little state good very make world still own see men work long get here between both life "
         "being under never day same another know while last might us great old year off come since "
         "against go came right used take three patient report invoice account meeting office team").split()

def sentence():
    return ' '.join(random.choice(WORDS) for _ in range(random.randint(8, 20))).capitalize() + '.'

def pii():
    k = random.randrange(12)
    f, l = random.choice(FIRST), random.choice(LAST)
    if k == 0: return f"Please contact {f} {l} at {f.lower()}.{l.lower()}@example.com."
    if k == 1: return f"Call me on +1 {random.randint(201,989)}-{random.randint(200,999)}-{random.randint(1000,9999)} tomorrow."
    if k == 2: return f"My credit card is {luhn_fill('4', 16)} and it expires soon."
    if k == 3: return f"His SSN is {random.randint(100,665)}-{random.randint(10,99)}-{random.randint(1000,9999)}."
    if k == 4: return f"Wire the money to {iban()} please."
    if k == 5: return f"She was born on {random.randint(1,28)}/{random.randint(1,12)}/{random.randint(1940,2005)}."
    if k == 6: return f"Mr. {l} lives at {random.randint(1,9999)} Oak Street in Boston."
    if k == 7: return f"The server at {random.randint(1,254)}.{random.randint(0,255)}.{random.randint(0,255)}.{random.randint(1,254)} is down."
    if k == 8: return f"See https://www.example.org/users/{random.randint(1,99999)} for details."
    if k == 9: return f"Dear {f}, thanks for the report."
    if k == 10: return f"The meeting is on March {random.randint(1,28)}, 2023 at 10:30 am."
    return f"Patient {f} {l}, age {random.randint(18,90)}, was seen today."

def main():
    mb = float(sys.argv[1]) if len(sys.argv) > 1 else 100
    random.seed(int(sys.argv[2]) if len(sys.argv) > 2 else 42)
    out = sys.stdout
    total, target = 0, int(mb * 1e6)
    buf = []
    while total < target:
        para = ' '.join(pii() if random.random() < 0.10 else sentence() for _ in range(random.randint(3, 8)))
        buf.append(para + '\n\n')
        total += len(para.encode()) + 2
        if len(buf) > 1000:
            out.write(''.join(buf)); buf = []
    out.write(''.join(buf))

main()
