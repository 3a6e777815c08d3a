import jax
import jax.numpy as jnp
import numpy as np

from inr.fields.model import build_field
from inr.fields.spec import ModelConfig
from inr.nn.encodings import encoding_config
from inr.nn.interp import grid_sample
from inr.nn.modulation import layer_norm
from inr.nn.activations import activation_config


def cam_field(modulation="cam"):
    model = ModelConfig(encoding=encoding_config("gauss_rff", n_features=16), activation=activation_config("relu"),
                        init="glorot_normal", hidden_width=32, hidden_layers=3, modulation=modulation,
                        modulation_resolution=8, output_activation="identity")
    return build_field(model, 2, 1)


def test_cam_with_identity_grids_is_the_plain_layer_normalised_mlp():
    field = cam_field()
    params = field.init(jax.random.PRNGKey(0))
    assert params["modulation"]["gamma"].shape == (3, 8, 8)
    assert np.all(params["modulation"]["gamma"] == 1) and np.all(params["modulation"]["beta"] == 0)
    x = jax.random.uniform(jax.random.PRNGKey(1), (50, 2), minval=-1, maxval=1)
    h = field.encoding(x)
    for layer in params["mlp"][:-1]:
        h = jnp.maximum(layer_norm(h @ layer["W"] + layer["b"]), 0.0)
    expect = h @ params["mlp"][-1]["W"] + params["mlp"][-1]["b"]
    np.testing.assert_allclose(field.apply(params, x), expect, rtol=1e-5, atol=1e-6)


def test_cam_modulation_changes_output_where_the_grid_changes():
    field = cam_field()
    params = field.init(jax.random.PRNGKey(0))
    beta = params["modulation"]["beta"].at[:, 0, 0].set(5.0)  # the (-1, -1) corner only
    mod = {**params, "modulation": {**params["modulation"], "beta": beta}}
    near, far = jnp.array([[-1.0, -1.0]]), jnp.array([[0.9, 0.9]])
    assert not np.allclose(field.apply(mod, near), field.apply(params, near))
    np.testing.assert_allclose(field.apply(mod, far), field.apply(params, far), rtol=1e-6)


def test_grid_sample_corners_border_and_bilinear():
    g = jnp.arange(6.0).reshape(2, 3)  # res (2, 3), vertices on the corners
    pts = jnp.array([[-1.0, -1.0], [1.0, 1.0], [5.0, -7.0], [0.0, 0.0]])
    np.testing.assert_allclose(grid_sample(g, pts), [0.0, 5.0, 3.0, 2.5], atol=1e-6)
