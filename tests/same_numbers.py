"""same_numbers.py A B: the two text outputs have the same words and
numbers equal to a relative 1e-9 (nan equal to nan); exit 1 otherwise."""
import re
import sys

import numpy as np

NUM = r"-?[0-9.]+(?:e[-+]?[0-9]+)?|nan"
a, b = open(sys.argv[1]).read(), open(sys.argv[2]).read()
assert re.sub(NUM, "#", a) == re.sub(NUM, "#", b), (a, b)
x = np.array([float(v) for v in re.findall(NUM, a)])
y = np.array([float(v) for v in re.findall(NUM, b)])
assert np.allclose(x, y, rtol=1e-9, atol=1e-15, equal_nan=True), np.c_[x, y]
