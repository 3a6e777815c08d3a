import jax.numpy as jnp
import numpy as np
import pytest

from inr.errors import InrError
from inr.nn.encodings import build_encoding, encoding_config


def test_identity():
    enc = build_encoding(encoding_config("identity"), 3)
    x = jnp.ones((5, 3))
    assert enc.out_dim == 3 and np.array_equal(enc(x), x)


def test_nerf_values_and_shape():
    enc = build_encoding(encoding_config("nerf", n_freqs=3), 2)
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
    no_input = build_encoding(encoding_config("nerf", n_freqs=3, include_input=False), 2)
    assert no_input.out_dim == 12


def test_gauss_rff():
    cfg = encoding_config("gauss_rff", n_features=64, sigma=10.0, seed=3)
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
    other = build_encoding(encoding_config("gauss_rff", n_features=64, seed=4), 2)
    assert not np.array_equal(other.buffers["B"], enc.buffers["B"])


def test_unknown_encoding():
    with pytest.raises(InrError, match="encoding.name: unknown encoding 'fourier'; valid: gauss_rff, hash, identity, nerf, rbf, sape"):
        build_encoding(encoding_config("fourier"), 2)


def test_encoding_section_is_typed_by_name():
    from inr.fields.spec import ModelConfig
    from inr.schema import from_dict, to_dict
    with pytest.raises(InrError, match=r"model.encoding: unknown key 'levels'; valid: name, n_freqs, include_input$"):
        from_dict(ModelConfig, {"encoding": {"name": "nerf", "levels": 8}}, "model")
    # another name starts from that encoding's defaults, with the keys given beside it
    cfg = from_dict(ModelConfig, {"encoding": {"name": "gauss_rff", "sigma": 3.0}}, "model")
    assert cfg.encoding == encoding_config("gauss_rff", sigma=3.0)
    # the same name merges over the current section
    again = from_dict(ModelConfig, {"encoding": {"seed": 5}}, "model", base=cfg)
    assert (again.encoding.sigma, again.encoding.seed) == (3.0, 5)
    assert from_dict(ModelConfig, to_dict(again), "model") == again
    # keys under an encoding's name apply only when it is chosen
    picked = from_dict(ModelConfig, {"encoding": {"name": "nerf", "nerf": {"n_freqs": 2}, "hash": {"levels": 1}}})
    assert picked.encoding == encoding_config("nerf", n_freqs=2)


def test_renamed_key_names_the_new_one(monkeypatch):
    from inr.fields.spec import ModelConfig
    from inr import schema
    monkeypatch.setitem(schema.RENAMED, "ModelConfig.width", "model.hidden_width")
    with pytest.raises(InrError, match=r"^model: key 'width' is now 'model.hidden_width'$"):
        schema.from_dict(ModelConfig, {"width": 3}, "model")
