import jax
import numpy as np
import pytest

from inr.nn.initializers import INITIALIZERS, LayerContext


def draw(name, n_in, n_out, index, omega0=30.0):
    ctx = LayerContext(index=index, n_layers=4, omega0=omega0)
    return INITIALIZERS.get(name)(jax.random.PRNGKey(index), n_in, n_out, ctx)


def uniform_check(w, bound):
    w = np.asarray(w)
    assert np.abs(w).max() <= bound * (1 + 1e-6)
    assert np.abs(w).max() > 0.95 * bound
    np.testing.assert_allclose(w.std(), bound / np.sqrt(3), rtol=0.03)
    assert abs(w.mean()) < 0.03 * bound


def test_siren_first_layer():
    w, b = draw("siren", 2, 4096, 0)
    assert w.shape == (2, 4096) and b.shape == (4096,)
    uniform_check(w, 1 / 2)


def test_siren_hidden_layer():
    w, b = draw("siren", 256, 256, 1, omega0=30.0)
    uniform_check(w, np.sqrt(6 / 256) / 30)
    uniform_check(b, 1 / np.sqrt(256))


def test_dwsnets_sine_layers_share_the_hidden_init_and_the_output_is_torch_default():
    w, b = draw("dwsnets", 2, 4096, 0)  # first layer: the hidden-layer bound, not 1/n
    uniform_check(w, np.sqrt(6 / 2) / 30)
    assert not np.any(np.asarray(b))
    w, b = draw("dwsnets", 256, 256, 1)
    uniform_check(w, np.sqrt(6 / 256) / 30)
    assert not np.any(np.asarray(b))
    w, b = draw("dwsnets", 256, 4096, 3)  # the last of 4 layers: nn.Linear's default
    uniform_check(w, 1 / np.sqrt(256))
    uniform_check(b, 1 / np.sqrt(256))


def test_siren_preactivations_are_unit_scale():
    # The point of SIREN's init: omega0 * W x stays ~ N(0, 1)-ish, layer after layer.
    w, _ = draw("siren", 256, 256, 1)
    x = np.asarray(jax.random.uniform(jax.random.PRNGKey(9), (4096, 256), minval=-1, maxval=1))
    z = 30.0 * x @ np.asarray(w)
    assert 0.7 < z.std() < 1.3


def test_glorot_normal():
    w, b = draw("glorot_normal", 256, 256, 1)
    np.testing.assert_allclose(np.asarray(w).std(), np.sqrt(2 / 512), rtol=0.03)
    assert np.all(np.asarray(b) == 0)


@pytest.mark.parametrize("name", INITIALIZERS.names())
def test_deterministic(name):
    a = draw(name, 8, 8, 2)
    b = draw(name, 8, 8, 2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_first_bias_range_finer():
    from inr.nn.mlp import init_mlp

    layers = init_mlp(jax.random.PRNGKey(0), [2, 512, 512, 1], "siren", [30.0, 30.0], first_bias=20.0)
    b0 = np.asarray(layers[0]["b"])
    assert np.abs(b0).max() <= 20.0 and np.abs(b0).max() > 19.0
    np.testing.assert_allclose(b0.std(), 20 / np.sqrt(3), rtol=0.1)
    plain = init_mlp(jax.random.PRNGKey(0), [2, 512, 512, 1], "siren", [30.0, 30.0])
    assert np.array_equal(layers[1]["W"], plain[1]["W"]) and np.array_equal(layers[1]["b"], plain[1]["b"])
