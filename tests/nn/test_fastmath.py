import jax
import jax.numpy as jnp
import numpy as np

from inr.nn import fastmath


def test_sin_matches_xla_over_siren_arguments():
    # omega0 * (W x + b) in SIREN reaches a few hundred; audio SIREN a few thousand.
    x = jnp.concatenate([jnp.linspace(-4000.0, 4000.0, 200_001), jnp.linspace(-10, 10, 10_001)])
    err = np.abs(np.asarray(fastmath.sin(x)) - np.asarray(jnp.sin(x)))
    assert err.max() < 2e-4
    small = np.abs(x) < 100
    assert err[small].max() < 1e-5


def test_sin_gradient_is_cos():
    x = jnp.linspace(-300.0, 300.0, 50_001)
    g = jax.vmap(jax.grad(fastmath.sin))(x)
    assert np.abs(np.asarray(g) - np.asarray(jnp.cos(x))).max() < 1e-4
    assert np.abs(np.asarray(fastmath.cos(x)) - np.asarray(jnp.cos(x))).max() < 1e-4


def test_second_derivative_is_minus_sin():
    x = jnp.linspace(-50.0, 50.0, 1001)
    g2 = jax.vmap(jax.grad(jax.grad(fastmath.sin)))(x)
    assert np.abs(np.asarray(g2) + np.asarray(jnp.sin(x))).max() < 1e-4
