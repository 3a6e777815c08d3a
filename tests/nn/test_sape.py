import jax
import jax.numpy as jnp
import numpy as np

from inr.fields.model import build_field
from inr.fields.spec import ModelConfig
from inr.nn.encodings import build_encoding, encoding_config
from inr.nn.sape import block_masks, box_blur, sorted_frequencies, splat_mean
from inr.train.config import TrainConfig
from inr.train.optim import make_optimizer

CFG = encoding_config("sape", n_features=8, sigma=20.0, resolution=6, epsilon=1e-3)


def test_frequencies_sorted_by_magnitude():
    b = np.asarray(sorted_frequencies(CFG, 2))
    norms = np.linalg.norm(b, axis=1)
    assert b.shape == (8, 2) and np.all(np.diff(norms) >= 0)


def test_starts_with_only_the_identity_block():
    enc = build_encoding(CFG, 2)
    params = enc.init(jax.random.PRNGKey(0))
    x = jax.random.uniform(jax.random.PRNGKey(1), (50, 2), minval=-1, maxval=1)
    y = np.asarray(enc(x, params))
    assert y.shape == (50, 2 + 16)
    np.testing.assert_allclose(y[:, :2], x)
    assert np.all(y[:, 2:] == 0)


def test_masks_only_grow_and_frozen_cells_never_unfreeze():
    enc = build_encoding(CFG, 2)
    params = enc.init(jax.random.PRNGKey(0))
    x = jax.random.uniform(jax.random.PRNGKey(1), (400, 2), minval=-1, maxval=1)
    # error is low on the left: those cells freeze at once, the rest progress
    err = jnp.where(x[:, 1] < 0.2, 1e-5, 1.0)
    prev = params
    for step in range(5):
        nxt = enc.update(prev, x, err if step < 3 else jnp.ones(400))  # error rises later
        assert np.all(np.asarray(nxt["state"]["level"]) >= np.asarray(prev["state"]["level"]))
        assert np.all(np.asarray(nxt["state"]["frozen"]) >= np.asarray(prev["state"]["frozen"]))
        prev = nxt
    level, frozen = np.asarray(prev["state"]["level"]), np.asarray(prev["state"]["frozen"])
    assert frozen[:, 0].all() and not frozen[:, -1].any()
    assert np.all(level[:, 0] == 0) and np.all(level[:, -1] == 5)


def test_blurred_interpolated_mask_in_unit_interval():
    levels = jnp.array(np.random.default_rng(0).integers(0, 9, (6, 6)), jnp.float32)
    masks = np.asarray(block_masks(levels, 8, 3))
    assert masks.shape == (6, 6, 8) and masks.min() >= 0 and masks.max() <= 1
    enc = build_encoding(CFG, 2)
    params = {"state": {"level": levels, "frozen": jnp.zeros((6, 6))}}
    x = jax.random.uniform(jax.random.PRNGKey(2), (300, 2), minval=-1.2, maxval=1.2)
    y = np.asarray(enc(x, params))
    proj = 2 * np.pi * ((np.asarray(x) + 1) / 2) @ np.asarray(enc.buffers["B"]).T
    m = y[:, 2:10] / np.where(np.abs(np.sin(proj)) > 1e-3, np.sin(proj), np.nan)
    m = m[np.isfinite(m)]
    assert m.min() >= -1e-4 and m.max() <= 1 + 1e-4


def test_splat_mean_fills_unvisited_cells_from_neighbours():
    coords = jnp.array([[-1.0, -1.0]] * 3)  # all samples in the corner cell
    grid = np.asarray(splat_mean(jnp.array([2.0, 2.0, 2.0]), coords, 4, 2))
    assert grid[0, 0] == 2.0 and grid[1, 1] == 2.0 and grid[3, 3] == 0.0
    assert np.allclose(np.asarray(box_blur(jnp.ones((5, 5, 1)), 3)), 1.0)


def test_state_is_never_touched_by_the_optimizer():
    model = ModelConfig(encoding=CFG, hidden_width=8, hidden_layers=2)
    field = build_field(model, 2, 1)
    params = field.init(jax.random.PRNGKey(0))
    params["encoding"]["state"]["level"] = params["encoding"]["state"]["level"] + 3.0
    opt = make_optimizer(TrainConfig(lr=1.0, optimizer="adamw", weight_decay=0.5))
    grads = jax.tree_util.tree_map(jnp.ones_like, params)
    updates, _ = opt.update(grads, opt.init(params), params)
    assert np.all(np.asarray(updates["encoding"]["state"]["level"]) == 0)
    assert np.any(np.asarray(updates["mlp"][0]["W"]) != 0)


def test_training_hook_period():
    field = build_field(ModelConfig(encoding=encoding_config("sape", n_features=256)), 2, 1)
    [(every, _)] = field.training_hooks(5000)
    assert every == 5000 // 512
