"""Philox4x32-10 and HOOMD-blue's seed/counter keying against the reference test vectors."""

import math

import numpy as np

from hoomd_adjoint import _core


def test_philox_known_answer():
    out = _core._testing.philox4x32_10([0, 0, 0, 0], [0, 0])
    assert [f"{x:08x}" for x in out] == ["6627e8d5", "e169c58d", "bc57ac4c", "9b00dbd8"]


def test_hoomd_keying_and_distributions():
    g = _core._testing.RandomGenerator(24, 123456789012, 42, 7)
    assert g.key == (0x18002A1C, 0xBE991A14)
    u = [g.uniform(-1.0, 1.0) for _ in range(3)]
    assert u == [-0.60609910285952351, 0.96379115062389298, 0.97333757099970208]
    n = [g.normal(1.5) for _ in range(3)]
    assert n == [-0.084670631978459837, 1.0575658447000245, -0.71168016618368346]


def _py_philox(ctr, key):
    """An independent 20-line Philox, to check the generator on many inputs."""
    c = list(ctr)
    k0, k1 = key
    M = 0xFFFFFFFF
    for r in range(10):
        if r:
            k0, k1 = (k0 + 0x9E3779B9) & M, (k1 + 0xBB67AE85) & M
        p0, p1 = 0xD2511F53 * c[0], 0xCD9E8D57 * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k0, p1 & M, (p0 >> 32) ^ c[3] ^ k1, p0 & M]
    return c


def test_philox_against_python(rng):
    for _ in range(200):
        ctr = [int(x) for x in rng.integers(0, 2**32, 4)]
        key = [int(x) for x in rng.integers(0, 2**32, 2)]
        assert list(_core._testing.philox4x32_10(ctr, key)) == _py_philox(ctr, key)


def test_seed_uses_low_40_bits_of_timestep():
    a = _core._testing.RandomGenerator(24, 5, 3, 1).uniform(-1, 1)
    b = _core._testing.RandomGenerator(24, 5 + (1 << 40), 3, 1).uniform(-1, 1)
    c = _core._testing.RandomGenerator(24, 5 + (1 << 32), 3, 1).uniform(-1, 1)
    assert a == b and a != c


def test_uniform_range_and_moments():
    vals = np.array([_core._testing.RandomGenerator(24, t, 9, 0).uniform(-1, 1) for t in range(20000)])
    assert vals.min() > -1 and vals.max() <= 1
    assert abs(vals.mean()) < 4 * math.sqrt(1 / 3 / len(vals))
    assert abs(vals.var() - 1 / 3) < 0.02
