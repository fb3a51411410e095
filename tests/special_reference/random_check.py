#!/usr/bin/env python3
"""lgamma, digamma and trigamma at random positive arguments against mpmath (60 digits).

Run from the crate root (python3 with mpmath 1.3):

    cargo build --release --example special_values
    python3 tests/special_reference/random_check.py [seed] [per_range]

Draws `per_range` (default 8000) arguments in each of ten ranges from 1e-300 to 1e300 (uniform
in the narrow ones, log-uniform in the wide ones) and three more within 1e-6 of the zeros of
ln Γ (1, 2) and ψ (1.4616…), and prints the worst relative error of each function per group, in
units of 2⁻⁵² and absolute.
"""

import math
import random
import subprocess
import sys

import mpmath as mp

mp.mp.dps = 60
EPS = 2.0**-52
BINARY = "target/release/examples/special_values"
RANGES = [(1e-300, 1e-8), (1e-8, 0.5), (0.5, 1), (1, 1.5), (1.5, 2), (2, 3), (3, 4), (4, 10),
          (10, 1e10), (1e10, 1e300)]
ZEROS = [1.0, 1.4616321449683623, 2.0]


def arguments(rng, n):
    xs = []
    for lo, hi in RANGES:
        if hi / lo > 100:
            xs += [math.exp(rng.uniform(math.log(lo), math.log(hi))) for _ in range(n)]
        else:
            xs += [rng.uniform(lo, hi) for _ in range(n)]
    for z in ZEROS:
        xs += [z + rng.uniform(-1e-6, 1e-6) for _ in range(n)]
    return xs


def group(x):
    if x < 1e-8:
        return "x < 1e-8"
    if any(abs(x - z) < 2e-6 for z in ZEROS):
        return "near zeros"
    return "x >= 1e-8"


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 2026
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 8000
    xs = arguments(random.Random(seed), n)
    run = subprocess.run([BINARY], input="\n".join(repr(x) for x in xs), capture_output=True,
                         text=True, check=True)
    rows = [[float(v) for v in line.split()] for line in run.stdout.splitlines()]
    worst = {}
    for x, got in zip(xs, rows):
        m = mp.mpf(x)
        for name, value, true in zip(["lgamma", "digamma", "trigamma"], got,
                                     [mp.loggamma(m), mp.digamma(m), mp.psi(1, m)]):
            if true == 0 or abs(true) > 1.7e308:
                continue  # ln Γ(1) = 0; ψ₁ overflows below 1e-154
            err = float(abs((mp.mpf(value) - true) / true))
            key = (name, group(x))
            if err > worst.get(key, (-1.0,))[0]:
                worst[key] = (err, x)
    print("%d arguments, seed %d" % (len(xs), seed))
    for (name, grp), (err, x) in sorted(worst.items()):
        print("%-9s %-10s max %.2f eps (%.2e) at x = %r" % (name, grp, err / EPS, err, x))


if __name__ == "__main__":
    main()
