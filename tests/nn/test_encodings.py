import jax.numpy as jnp
import numpy as np
import pytest

from inr.errors import InrError
from inr.nn.encodings import EncodingConfig, build_encoding


def test_identity():
    enc = build_encoding(EncodingConfig(name="identity"), 3)
    x = jnp.ones((5, 3))
    assert enc.out_dim == 3 and np.array_equal(enc(x), x)


def test_nerf_values_and_shape():
    enc = build_encoding(EncodingConfig(name="nerf", n_freqs=3), 2)
    assert enc.out_dim == 2 + 2 * 2 * 3
    x = jnp.array([[0.25, -0.5]])
    y = np.asarray(enc(x))[0]
    assert y.shape == (enc.out_dim,)
    np.testing.assert_allclose(y[:2], [0.25, -0.5])
    # sin block: axis-major, octave-minor: sin(2^k pi x_d)
    expect_sin = [np.sin(2**k * np.pi * xd) for xd in (0.25, -0.5) for k in range(3)]
    expect_cos = [np.cos(2**k * np.pi * xd) for xd in (0.25, -0.5) for k in range(3)]
    np.testing.assert_allclose(y[2:8], expect_sin, atol=1e-6)
    np.testing.assert_allclose(y[8:], expect_cos, atol=1e-6)
    no_input = build_encoding(EncodingConfig(name="nerf", n_freqs=3, include_input=False), 2)
    assert no_input.out_dim == 12


def test_gauss_rff():
    cfg = EncodingConfig(name="gauss_rff", n_features=64, sigma=10.0, seed=3)
    enc = build_encoding(cfg, 2)
    assert enc.out_dim == 128 and enc.buffers["B"].shape == (64, 2)
    np.testing.assert_allclose(np.asarray(enc.buffers["B"]).std(), 10.0, rtol=0.25)
    x = jnp.array([[0.1, -0.3], [0.7, 0.2]])
    y = np.asarray(enc(x))
    s, c = y[:, :64], y[:, 64:]
    np.testing.assert_allclose(s**2 + c**2, 1.0, atol=1e-5)
    v = (np.asarray(x) + 1) / 2
    np.testing.assert_allclose(s, np.sin(2 * np.pi * v @ np.asarray(enc.buffers["B"]).T), atol=1e-4)
    # fixed by its own seed: same matrix every build, another with another seed
    assert np.array_equal(build_encoding(cfg, 2).buffers["B"], enc.buffers["B"])
    other = build_encoding(EncodingConfig(name="gauss_rff", n_features=64, seed=4), 2)
    assert not np.array_equal(other.buffers["B"], enc.buffers["B"])


def test_unknown_encoding():
    with pytest.raises(InrError, match="unknown encoding 'fourier'; valid: gauss_rff, hash, identity, nerf, rbf"):
        build_encoding(EncodingConfig(name="fourier"), 2)
