import jax
import pytest
import jax.numpy as jnp
import numpy as np

from inr.fields.io import load_field, save_field
from inr.fields.layout import flatten, from_mlp_layers, layout, mlp_layers, unflatten
from inr.io import tree_entries
from inr.fields.model import build_field
from inr.fields.spec import ModelConfig
from inr.nn.encodings import EncodingConfig, encoding_config
from inr.nn.activations import activation_config


def make(enc="identity"):
    model = ModelConfig(hidden_width=16, hidden_layers=3, encoding=encoding_config(enc, **({"n_features": 8} if enc in ("gauss_rff", "sape") else {})))
    field = build_field(model, 2, 3)
    return field, field.init(jax.random.PRNGKey(0))


def test_layers_in_depth_order():
    field, params = make()
    layers = mlp_layers(params)
    assert [w.shape for w, _ in layers] == [(2, 16), (16, 16), (16, 16), (16, 3)]
    assert [b.shape for _, b in layers] == [(16,), (16,), (16,), (3,)]
    assert [n for n, _ in tree_entries(params)] == [f"mlp.{i}.{k}" for i in range(4) for k in "Wb"]


def test_round_trips():
    field, params = make()
    back = from_mlp_layers(mlp_layers(params))
    vec = flatten(params)
    assert vec.shape == (field.param_count(),)
    again = unflatten(vec, params)
    for a, b, c in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(back),
                       jax.tree_util.tree_leaves(again)):
        assert np.array_equal(a, b) and np.array_equal(a, c)


def test_layout_offsets_slice_the_flat_vector():
    _, params = make()
    vec = np.asarray(flatten(params))
    for entry, (w, b) in zip(layout(params)[::2], mlp_layers(params)):
        n = int(np.prod(entry["shape"]))
        np.testing.assert_array_equal(vec[entry["offset"]:entry["offset"] + n].reshape(entry["shape"]), w)
    last = layout(params)[-1]
    assert last["offset"] + int(np.prod(last["shape"])) == vec.size


def test_apply_one_point_or_batch():
    field, params = make("gauss_rff")
    pts = jax.random.uniform(jax.random.PRNGKey(1), (4, 5, 2), minval=-1, maxval=1)
    batch = field.apply(params, pts)
    assert batch.shape == (4, 5, 3)
    single = field.apply(params, pts[2, 3])
    np.testing.assert_allclose(single, batch[2, 3], rtol=1e-5, atol=1e-6)


def test_activations_are_every_layer_in_order():
    field, params = make("gauss_rff")
    pts = jax.random.uniform(jax.random.PRNGKey(1), (4, 5, 2), minval=-1, maxval=1)
    acts = field.activations(params, pts)
    assert [a.shape for a in acts] == [(4, 5, 16)] * 3 + [(4, 5, 3)]
    np.testing.assert_array_equal(acts[-1], field.apply(params, pts))
    x = field.encoding(pts.reshape(-1, 2), None)
    first = params["mlp"][0]
    np.testing.assert_allclose(acts[0].reshape(-1, 16), jax.nn.relu(x @ first["W"] + first["b"]), rtol=1e-5,
                               atol=1e-6)


def test_vmap_over_stacked_fields():
    field, _ = make()
    keys = jax.random.split(jax.random.PRNGKey(0), 4)
    stacked = jax.vmap(field.init)(keys)
    x = jnp.zeros((7, 2))
    out = jax.vmap(field.apply, in_axes=(0, None))(stacked, x)
    assert out.shape == (4, 7, 3)
    one = field.apply(jax.tree_util.tree_map(lambda a: a[2], stacked), x)
    np.testing.assert_allclose(out[2], one, rtol=1e-6)


def test_saved_field_renders_back_identically(tmp_path):
    field, params = make("gauss_rff")
    save_field(tmp_path, field, params, {"modality": "image"})
    field2, params2, meta = load_field(tmp_path)
    assert meta["layout"] == layout(params) and meta["in_dim"] == 2 and meta["out_dim"] == 3
    x = jax.random.uniform(jax.random.PRNGKey(2), (100, 2), minval=-1, maxval=1)
    assert np.array_equal(np.asarray(field.apply(params, x)), np.asarray(field2.apply(params2, x)))


def test_fields_with_trained_encodings_and_modulation_round_trip(tmp_path):
    model = ModelConfig(hidden_width=8, hidden_layers=2, modulation="cam", modulation_resolution=4,
                        encoding=encoding_config("hash", levels=3, log2_table_size=8, base_resolution=4,
                                                max_resolution=32))
    field = build_field(model, 2, 1)
    params = field.init(jax.random.PRNGKey(3))
    names = [e["name"] for e in layout(params)]
    assert names[:3] == ["encoding.tables.0", "encoding.tables.1", "encoding.tables.2"]
    assert [n for n in names if n.startswith("mlp.")] == [f"mlp.{i}.{k}" for i in range(3) for k in "Wb"]
    assert "modulation.gamma" in names and "modulation.beta" in names
    assert [w.shape for w, _ in mlp_layers(params)] == [(6, 8), (8, 8), (8, 1)]
    save_field(tmp_path, field, params, {})
    field2, params2, _ = load_field(tmp_path)
    x = jax.random.uniform(jax.random.PRNGKey(2), (64, 2), minval=-1, maxval=1)
    assert np.array_equal(np.asarray(field.apply(params, x)), np.asarray(field2.apply(params2, x)))


def test_wire_complex_layers_round_trip(tmp_path):
    model = ModelConfig(activation=activation_config("wire", omega0=20.0, first_omega0=20.0), init="wire", output_activation="real",
                        hidden_width=8, hidden_layers=2, encoding=EncodingConfig(name="identity"))
    field = build_field(model, 2, 1)
    params = field.init(jax.random.PRNGKey(0))
    dtypes = [w.dtype for w, _ in mlp_layers(params)]
    assert dtypes == [jnp.float32, jnp.complex64, jnp.complex64]
    x = jax.random.uniform(jax.random.PRNGKey(2), (32, 2), minval=-1, maxval=1)
    y = field.apply(params, x)
    assert y.dtype == jnp.float32 and y.shape == (32, 1)
    save_field(tmp_path, field, params, {})
    field2, params2, _ = load_field(tmp_path)
    assert np.array_equal(np.asarray(y), np.asarray(field2.apply(params2, x)))


def test_field_file_written_before_inr_io_loads(tmp_path):
    # version 1 field.safetensors as the old save_field wrote it: names by hand, no metadata
    from safetensors.numpy import save_file

    field, params = make("gauss_rff")
    save_field(tmp_path, field, params, {})
    arrays = {f"params.{n}": np.asarray(a) for n, a in tree_entries(params)}
    arrays.update({f"buffers.encoding.{k}": np.asarray(v) for k, v in field.encoding.buffers.items()})
    save_file(arrays, str(tmp_path / "field.safetensors"))
    field2, params2, _ = load_field(tmp_path)
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(tree_entries(params), tree_entries(params2)))
    assert all(np.array_equal(field.encoding.buffers[k], field2.encoding.buffers[k]) for k in field.encoding.buffers)


def test_params_template_is_built_once_per_spec():
    from inr.fields.io import params_template

    field, params = make()
    assert params_template(field) is params_template(make()[0])
    assert [(n, a.shape) for n, a in tree_entries(params_template(field))] == \
        [(n, a.shape) for n, a in tree_entries(params)]


def test_version_1_field_with_flat_encoding_loads_and_renders_the_same(tmp_path):
    import json
    from inr.fields.io import load_field
    field, params = make("gauss_rff")
    save_field(tmp_path, field, params, {"modality": "image"})
    meta = json.loads((tmp_path / "field.json").read_text())
    flat = {"name": "gauss_rff", "n_freqs": 6, "include_input": True, "n_features": 8, "sigma": 10.0, "seed": 0,
            "n_centers": 500, "levels": 16, "features_per_level": 2, "log2_table_size": 19, "base_resolution": 16,
            "max_resolution": 512, "sape_resolution": 128, "sape_epsilon": 1e-3}
    meta["model"]["encoding"], meta["format_version"] = flat, 1
    (tmp_path / "field.json").write_text(json.dumps(meta))
    loaded, loaded_params, _ = load_field(tmp_path)
    assert loaded.model == field.model
    x = jnp.linspace(-1, 1, 14).reshape(7, 2)
    np.testing.assert_array_equal(np.asarray(loaded.apply(loaded_params, x)), np.asarray(field.apply(params, x)))


@pytest.mark.parametrize("activation,old,new", [
    ("sine", {"omega0": 25.0, "first_omega0": 3000.0, "activation_width": 10.0}, {"omega0": 25.0, "first_omega0": 3000.0}),
    ("gauss", {"omega0": 7.0, "first_omega0": 5.0, "activation_width": 10.0}, {"scale": 7.0, "first_scale": 5.0}),
    ("wire", {"omega0": 20.0, "first_omega0": 15.0, "activation_width": 4.0},
     {"omega0": 20.0, "first_omega0": 15.0, "s0": 4.0}),
])
def test_version_2_field_with_the_activation_keys_beside_its_name_loads_the_same(tmp_path, activation, old, new):
    import json
    from inr.fields.io import load_field
    init, out = ("wire", "real") if activation == "wire" else ("siren", "identity")
    model = ModelConfig(activation=activation_config(activation, **new), init=init, output_activation=out,
                        hidden_width=8, hidden_layers=2, encoding=encoding_config("identity"))
    field = build_field(model, 2, 1)
    params = field.init(jax.random.PRNGKey(0))
    save_field(tmp_path, field, params, {"modality": "image"})
    meta = json.loads((tmp_path / "field.json").read_text())
    meta["model"] = {**{k: v for k, v in meta["model"].items() if k != "activation"}, "activation": activation, **old}
    meta["format_version"] = 2
    (tmp_path / "field.json").write_text(json.dumps(meta))
    loaded, loaded_params, _ = load_field(tmp_path)
    assert loaded.model == field.model and loaded.scales == [old["first_omega0"], old["omega0"]]
    x = jnp.linspace(-1, 1, 14).reshape(7, 2)
    np.testing.assert_array_equal(np.asarray(loaded.apply(loaded_params, x)), np.asarray(field.apply(params, x)))
