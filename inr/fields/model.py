"""A field is a spec plus a params pytree; ``apply(params, coords)`` is pure."""
from __future__ import annotations

from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp

from inr.errors import InrError
from inr.fields.spec import ModelConfig
from inr.nn.activations import OUTPUT_ACTIVATIONS
from inr.nn.encodings import Encoding, build_encoding
from inr.nn.initializers import INITIALIZERS
from inr.nn.mlp import init_mlp, mlp_activations
from inr.nn.modulation import MODULATIONS, Modulation


@dataclass(frozen=True)
class Field:
    """A built field model. Parameters live outside it, in a pytree
    ``{"mlp": [{"W", "b"}, ...]}`` (plus ``"encoding"`` for trained encodings
    such as hash grids and ``"modulation"`` for CAM's grids); fixed buffers (random encoding matrices) are held
    here and saved with the field."""

    model: ModelConfig
    in_dim: int
    out_dim: int
    encoding: Encoding
    modulation: Modulation

    @property
    def widths(self) -> list[int]:
        m = self.model
        return [self.encoding.out_dim] + [m.hidden_width] * m.hidden_layers + [self.out_dim]

    @property
    def scales(self) -> list[float]:
        return self.model.activation.scales(self.model.hidden_layers)

    def init(self, key) -> dict:
        mlp_key, enc_key, mod_key = jax.random.split(key, 3)
        params = {"mlp": init_mlp(mlp_key, self.widths, self.model.init, self.scales, self.model.first_bias)}
        if self.encoding.init is not None:
            params["encoding"] = self.encoding.init(enc_key)
        if self.modulation.init is not None:
            params["modulation"] = self.modulation.init(mod_key)
        return params

    def apply(self, params: dict, coords):
        """Evaluate at ``coords`` of shape ``(..., in_dim)`` -> ``(..., out_dim)``."""
        return self.activations(params, coords)[-1]

    def activations(self, params: dict, coords) -> list:
        """Every MLP layer's output at ``coords`` ``(..., in_dim)``: each hidden
        layer's activations ``(..., width)``, then the field's value ``(..., out_dim)``."""
        coords = jnp.asarray(coords, jnp.float32)
        lead = coords.shape[:-1]
        flat = coords.reshape(-1, self.in_dim)
        x = self.encoding(flat, params.get("encoding"))
        outs = mlp_activations(
            params["mlp"], x,
            self.model.activation.function(),
            self.scales,
            OUTPUT_ACTIVATIONS.get(self.model.output_activation),
            self.modulation.make(params.get("modulation"), flat),
        )
        return [y.reshape(*lead, y.shape[-1]) for y in outs]

    def training_hooks(self, total_steps: int) -> list:
        """``[(every, fn(params, data) -> params)]`` run between optimizer steps:
        the encoding's progression (SAPE) from per-sample errors on ``data``."""
        enc = self.encoding
        if enc.update is None:
            return []

        def progress(params, data):
            errors = jnp.mean((self.apply(params, data["coords"]) - data["targets"]) ** 2, axis=-1)
            return {**params, "encoding": enc.update(params["encoding"], data["coords"], errors)}

        return [(enc.update_every(total_steps), progress)]

    def param_count(self) -> int:
        shapes = jax.eval_shape(self.init, jax.random.PRNGKey(0))
        return sum(int(x.size) for x in jax.tree_util.tree_leaves(shapes))


def build_field(model: ModelConfig, in_dim: int, out_dim: int) -> Field:
    """Check the config's names and sizes, then build the field."""
    model.activation.function()
    OUTPUT_ACTIVATIONS.get(model.output_activation)
    INITIALIZERS.get(model.init)
    if model.hidden_layers < 1 or model.hidden_width < 1:
        raise InrError(
            f"model.hidden_layers and model.hidden_width must be >= 1 "
            f"(got {model.hidden_layers}, {model.hidden_width})"
        )
    modulation = MODULATIONS.get(model.modulation)(model.hidden_layers, in_dim, model.modulation_resolution)
    return Field(model, in_dim, out_dim, build_encoding(model.encoding, in_dim), modulation)


MIN_LOG2_TABLE = 6


def sized_for(model: ModelConfig, in_dim: int, out_dim: int, samples: int) -> ModelConfig:
    """``model`` with its hash tables cut to ``model.encoding.max_params_per_sample``:
    the largest power of two that keeps the field within it (2^6 where none
    does), then the largest T below the next power of two that still does
    (``encoding.table_size``); as it is for other encodings or no budget."""
    budget = getattr(model.encoding, "max_params_per_sample", 0.0)
    if budget < 0:
        raise InrError(f"model.encoding.max_params_per_sample must be >= 0 (got {budget})")
    if budget == 0:
        return model

    def with_rows(rows: int) -> ModelConfig:
        return replace(model, encoding=replace(model.encoding, table_size=rows))

    def fits(rows: int) -> bool:
        return build_field(with_rows(rows), in_dim, out_dim).param_count() <= budget * samples

    cap = model.encoding.log2_table_size
    log2 = next((b for b in range(cap, MIN_LOG2_TABLE - 1, -1) if fits(2**b)), MIN_LOG2_TABLE)
    fitting, too_big = 2**log2, 2 ** (log2 + 1)
    if log2 == cap or not fits(fitting):  # the cap itself fits, or nothing does
        return with_rows(fitting)
    while too_big - fitting > 1:
        mid = (fitting + too_big) // 2
        fitting, too_big = (mid, too_big) if fits(mid) else (fitting, mid)
    return with_rows(fitting)
