"""Draws cut from a size class give ``jax.random``'s own arrays, bit for bit."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inr.learned import scaled_normal
from inr.nn import draws

SHAPES = [(5,), (7, 5), (65, 64), (1, 6, 8), (draws.MIN_DRAW + 1,), (0, 4)]


@pytest.mark.parametrize("shape", SHAPES)
def test_draws_are_jax_random_bits(shape):
    key = jax.random.PRNGKey(len(shape) * 31 + shape[0])
    np.testing.assert_array_equal(np.asarray(draws.normal(key, shape)), np.asarray(jax.random.normal(key, shape)))
    np.testing.assert_array_equal(np.asarray(draws.normal(key, shape, scale=0.37)),
                                  np.asarray(jax.random.normal(key, shape) * 0.37))
    bound = jnp.sqrt(6.0 / 5) / 30.0
    np.testing.assert_array_equal(np.asarray(draws.uniform(key, shape, jnp.float32, -bound, bound)),
                                  np.asarray(jax.random.uniform(key, shape, jnp.float32, -bound, bound)))
    assert draws.normal(key, shape).shape == shape and draws.zeros(shape).dtype == jnp.float32


def test_size_classes_share_one_program():
    assert {draws.size_class(n) for n in (1, 17, draws.MIN_DRAW)} == {draws.MIN_DRAW}
    assert draws.size_class(draws.MIN_DRAW + 1) == 2 * draws.MIN_DRAW


def test_traced_draws_are_the_plain_ones():
    keys = jax.random.split(jax.random.PRNGKey(2), 3)
    plain = jax.vmap(lambda k: jax.random.normal(k, (4, 5)) * 2.0)(keys)
    np.testing.assert_array_equal(np.asarray(jax.vmap(lambda k: draws.normal(k, (4, 5), scale=2.0))(keys)),
                                  np.asarray(plain))
    assert jax.eval_shape(lambda k: draws.uniform(k, (3, 2)), keys[0]).shape == (3, 2)


@pytest.mark.parametrize("scale", [1.0, 2 ** 0.5, 0.1])
def test_scaled_normal_is_jax_variance_scaling(scale):
    jax_init = jax.nn.initializers.variance_scaling(scale ** 2, "fan_in", "normal")
    for shape in [(3, 4), (784, 256), (2, 5, 6)]:
        key = jax.random.PRNGKey(shape[0])
        np.testing.assert_array_equal(np.asarray(scaled_normal(scale)(key, shape)), np.asarray(jax_init(key, shape)))
