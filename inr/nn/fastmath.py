"""A range-reduced polynomial sine for SIREN-style networks.

XLA's CPU ``sin`` is a general, slow kernel and dominates a SIREN step on CPU.
Sine networks feed it arguments of moderate size (|x| up to a few thousand),
so a Cody-Waite reduction to [-pi/2, pi/2] plus a short odd/even Taylor
polynomial is accurate to ~1e-6 there and fuses into the surrounding
elementwise work. Its derivative is the matching polynomial cosine, sharing the
same reduction, so the backward pass is just as cheap.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

_INV_PI = 0.31830988618379067
# pi split so that n * _PI_HI is exact in float32 for |n| < 2**12.
_PI_HI = 3.140625
_PI_MID = 9.67502593994140625e-4
_PI_LO = 1.509957990978376432e-7



def _factorial(n: int) -> float:
    out = 1.0
    for i in range(2, n + 1):
        out *= i
    return out


# Taylor coefficients of sin(r)/r and cos(r) in r**2, highest power first
# (Horner order). Truncation error on |r| <= pi/2 is below 6e-8.
_SIN_C = tuple((-1.0) ** k / _factorial(2 * k + 1) for k in range(5, -1, -1))
_COS_C = tuple((-1.0) ** k / _factorial(2 * k) for k in range(6, -1, -1))


def _reduce(x):
    n = jnp.floor(x * _INV_PI + 0.5)
    r = ((x - n * _PI_HI) - n * _PI_MID) - n * _PI_LO
    # (-1)**n without integer ops: 1 for even n, -1 for odd n.
    sign = 1.0 - 2.0 * (n - 2.0 * jnp.floor(0.5 * n))
    return r, sign


def _horner(coeffs, r2):
    acc = jnp.asarray(coeffs[0], r2.dtype)
    for c in coeffs[1:]:
        acc = acc * r2 + c
    return acc


def _sin_cos(x):
    r, sign = _reduce(x)
    r2 = r * r
    return sign * r * _horner(_SIN_C, r2), sign * _horner(_COS_C, r2)


@jax.custom_jvp
def sin(x):
    """sin(x) for float32 arrays with |x| up to ~1e4 (abs. error ~1e-6)."""
    r, sign = _reduce(x)
    return sign * r * _horner(_SIN_C, r * r)


@sin.defjvp
def _sin_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    s, c = _sin_cos(x)
    return s, c * t


def cos(x):
    """cos(x) with the same reduction (no custom derivative needed here)."""
    return _sin_cos(x)[1]
