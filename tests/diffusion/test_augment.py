import dataclasses

import jax
import numpy as np
import pytest

from inr.diffusion.augment import AugmentConfig, make_augment
from inr.diffusion.standardize import Standardizer
from inr.diffusion.tokens import Tokenizer
from inr.errors import InrError
from inr.fields.layout import flatten, layout
from inr.fields.model import build_field
from inr.fields.spec import ModelConfig
from inr.nn.encodings import EncodingConfig
from inr.nn.activations import activation_config

HIDDEN = 8


def fields(encoding="identity", n=6):
    """Flat weights of n SIRENs 2 -> 8 -> 8 -> 1, and their collection-style metadata."""
    model = ModelConfig(encoding=EncodingConfig(name=encoding), activation=activation_config("sine"), hidden_width=HIDDEN,
                        hidden_layers=2, init="siren", output_activation="identity")
    field = build_field(model, 2, 1)
    weights = np.stack([np.asarray(flatten(field.init(jax.random.PRNGKey(i)))) for i in range(n)])
    return weights, {"model": dataclasses.asdict(model), "in_dim": 2,
                     "layout": layout(field.init(jax.random.PRNGKey(0)))}


def augmented(cfg, by="parameter"):
    weights, meta = fields()
    tok = Tokenizer.from_layout(meta["layout"])
    std = Standardizer.fit(weights, True, by, tok)
    moved = np.asarray(std.inverse(make_augment(cfg, meta, tok, std)(jax.random.PRNGKey(5), std.forward(weights))))
    first = 2 * HIDDEN + HIDDEN  # W0 (2, 8) and b0 (8) lead the canonical layout
    np.testing.assert_allclose(moved[:, first:], weights[:, first:], rtol=1e-4, atol=1e-5)  # hidden layers kept
    w0, b0 = weights[:, :2 * HIDDEN].reshape(-1, 2, HIDDEN), weights[:, 2 * HIDDEN:first]
    return w0, b0, moved[:, :2 * HIDDEN].reshape(-1, 2, HIDDEN), moved[:, 2 * HIDDEN:first]


@pytest.mark.parametrize("by", ["parameter", "pca"])
def test_a_shift_moves_only_the_first_bias_by_a_bounded_offset(by):
    w0, b0, w1, b1 = augmented(AugmentConfig(shift=0.3), by)
    np.testing.assert_allclose(w1, w0, rtol=1e-4, atol=1e-5)
    for w, db in zip(w0, b1 - b0):  # b0' = b0 + t @ W0 for one t per field, |t_k| <= 0.3
        t, *_ = np.linalg.lstsq(w.T, db, rcond=None)
        np.testing.assert_allclose(t @ w, db, atol=1e-4)
        assert np.all(np.abs(t) <= 0.3 + 1e-4) and np.any(np.abs(t) > 1e-3)


def test_a_rotation_and_zoom_move_the_first_weights_by_a_scaled_rotation():
    w0, b0, w1, b1 = augmented(AugmentConfig(rotate=30, scale=0.2))
    np.testing.assert_allclose(b1, b0, rtol=1e-4, atol=1e-5)
    for w, moved in zip(w0, w1):  # W0' = s R W0
        m = moved @ np.linalg.pinv(w)
        np.testing.assert_allclose(m @ w, moved, atol=1e-4)
        s = np.sqrt(abs(np.linalg.det(m)))
        assert 0.8 - 1e-4 <= s <= 1.2 + 1e-4
        np.testing.assert_allclose((m / s) @ (m / s).T, np.eye(2), atol=1e-4)
        assert abs(np.degrees(np.arctan2(m[1, 0], m[0, 0]))) <= 30 + 1e-3


def test_augment_off_and_bad_settings():
    weights, meta = fields()
    tok = Tokenizer.from_layout(meta["layout"])
    std = Standardizer.fit(weights, True, "parameter", tok)
    assert make_augment(AugmentConfig(), meta, tok, std) is None
    with pytest.raises(InrError, match="need rotate"):
        make_augment(AugmentConfig(scale=1.5), meta, tok, std)
    weights, nerf = fields("nerf")
    tok = Tokenizer.from_layout(nerf["layout"])
    with pytest.raises(InrError, match="identity"):
        make_augment(AugmentConfig(shift=0.1), nerf, tok, Standardizer.fit(weights, True, "parameter", tok))
