"""DWS layers commute with hidden-neuron permutations; the head is invariant."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inr.learned import functional
from inr.weightspace import dws
from inr.weightspace.models import WEIGHT_MODELS, DWSNetConfig, FlatMLPConfig
from inr.weightspace.space import WeightSpace
from inr.nn.activations import activation_config
from tests.conftest import outputs_and_grads

SPACES = [(2, 5, 1), (2, 4, 6, 3), (3, 5, 4, 6, 2)]


def dws_layer(space, c_in, c_out, attention=False, pool="mean", heads=8, seed=2):
    """A DWS layer as ``(params, jitted apply(params, xs))``."""
    layer = functional(lambda rngs: dws.DWSLinear(space, c_in, c_out, attention=attention, pool=pool, heads=heads,
                                                  rngs=rngs))
    return layer.init(jax.random.PRNGKey(seed)), jax.jit(layer.apply)


# test data in numpy: eager JAX would compile every small op of the helpers
def random_layers(seed, widths, batch=3, channels=1):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(batch, a, b, channels)).astype(np.float32),
             rng.normal(size=(batch, b, channels)).astype(np.float32))
            for a, b in zip(widths[:-1], widths[1:])]


def random_perms(seed, widths):
    rng = np.random.default_rng(seed)
    return {a: rng.permutation(widths[a]) for a in range(1, len(widths) - 1)}


def permute_layers(layers, perms):
    """Permute hidden neurons: rows of W_{a+1}, columns of W_a, entries of b_a."""
    out = []
    for i, (w, b) in enumerate(layers, start=1):
        if i - 1 in perms:
            w = w[:, perms[i - 1]]
        if i in perms:
            w, b = w[:, :, perms[i]], b[:, perms[i]]
        out.append((w, b))
    return out


def permute_tensors(space, xs, perms):
    out = []
    for x, t in zip(xs, space.tensors):
        x = np.asarray(x)
        for pos, a in enumerate(t.hidden):
            x = np.take(x, perms[a], axis=1 + pos)
        out.append(x)
    return out


@pytest.mark.parametrize("widths", SPACES)
def test_layout_round_trip(widths):
    space = WeightSpace(widths)
    layers = random_layers(0, widths, channels=2)
    back = space.to_layers(space.from_layers(layers), channels=2)
    for (w, b), (w2, b2) in zip(layers, back):
        assert np.array_equal(w, w2) and np.array_equal(b, b2)
    perms = random_perms(4, widths)
    for x, y in zip(space.from_layers(permute_layers(layers, perms)),
                    permute_tensors(space, space.from_layers(layers), perms)):
        assert np.array_equal(x, y)


@pytest.mark.parametrize("widths,pool,attention", [(SPACES[0], "mean", False), (SPACES[1], "max", False),
                                                   (SPACES[2], "mean", False), (SPACES[1], "mean", True),
                                                   (SPACES[2], "max", True)])
def test_linear_layer_is_equivariant(widths, pool, attention):
    space = WeightSpace(widths)
    c_in, c_out = 2, 3
    xs = space.from_layers(random_layers(1, widths, channels=c_in))
    params, layer = dws_layer(space, c_in, c_out, attention, pool, heads=2)
    params["bias"] = {i: b + 0.1 for i, b in params["bias"].items()}
    perms = random_perms(3, widths)
    a = layer(params, permute_tensors(space, xs, perms))
    b = permute_tensors(space, layer(params, xs), perms)
    for x, y, t in zip(a, b, space.tensors):
        assert x.shape == (3, *space.shape(t, c_out))
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-5)


def test_each_block_alone_is_equivariant_and_not_constant():
    widths = (2, 4, 6, 3)
    space = WeightSpace(widths)
    xs = space.from_layers(random_layers(1, widths))
    xs2 = space.from_layers(random_layers(9, widths))
    perms = random_perms(3, widths)
    full, layer = dws_layer(space, 1, 2)
    for k in range(len(dws.terms(space))):
        params = {"blocks": {i: w if i == k else jnp.zeros_like(w) for i, w in full["blocks"].items()},
                  "bias": {i: jnp.zeros_like(b) for i, b in full["bias"].items()}}
        a = layer(params, permute_tensors(space, xs, perms))
        b = permute_tensors(space, layer(params, xs), perms)
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-5)
        changed = [not np.allclose(p, q) for p, q in zip(layer(params, xs), layer(params, xs2))]
        assert any(changed), f"block {dws.terms(space)[k]} ignores its input"


def test_block_families_of_an_internal_weight():
    """W2 -> W2 in a 3-layer MLP has the four terms (identity, two single pools, both pooled)."""
    space = WeightSpace((2, 4, 6, 3))
    w2 = [i for i, t in enumerate(space.tensors) if t.name == "W2"][0]
    matched = sorted(m for ti, ui, m in dws.terms(space) if ti == ui == w2)
    assert matched == [(), (1,), (1, 2), (2,)]


# with attention under -m slow: the attention maps' equivariance is tested per layer above
@pytest.mark.parametrize("attention", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_dwsnet_is_invariant_and_trains_every_block(attention):
    widths = (2, 4, 6, 1)
    space = WeightSpace(widths)
    model = WEIGHT_MODELS.get("dws")(DWSNetConfig(channels=4, layers=2, head=[8], attention=attention, heads=2,
                                                       probes=0),
                                     space, 10)
    params = model.init(jax.random.PRNGKey(0))
    xs = space.from_layers(random_layers(1, widths))
    perms = random_perms(2, widths)
    run = outputs_and_grads(model.apply)
    (_, out), grads = run(params, xs)
    np.testing.assert_allclose(out, run(params, permute_tensors(space, xs, perms))[0][1], rtol=1e-4, atol=1e-5)
    for layer in grads["layers"].values():
        assert all(float(jnp.abs(g).max()) > 0 for g in layer["blocks"].values())
        # keys and values always get gradients (a map's output ReLU can be dead at init)
        assert all(float(jnp.abs(g[k]["kernel"]).max()) > 0 for g in layer.get("attention", {}).values()
                   for k in ("K", "V"))
    assert ("attention" in params["layers"][0]) == attention


def test_attention_acts_on_the_set_maps_only():
    """Attention changes every tensor written by a set-layer map (one shared
    neuron axis) and leaves the output bias (no neuron axis) as the plain layer."""
    widths = (2, 4, 6, 3)
    space = WeightSpace(widths)
    xs = space.from_layers(random_layers(1, widths, channels=2))
    params, layer = dws_layer(space, 2, 3, attention=True, heads=3)
    plain, plain_layer = dws_layer(space, 2, 3, heads=3)
    with_att = layer(params, xs)
    without = plain_layer({k: v for k, v in params.items() if k != "attention"}, xs)
    written = {ui for ui, _ in dws.set_groups(space)}
    assert written == {i for i, t in enumerate(space.tensors) if t.hidden}
    for i, (a, b) in enumerate(zip(with_att, without)):
        assert a.shape == b.shape
        assert np.allclose(a, b) == (i not in written), space.tensors[i].name


def test_a_permuted_field_renders_the_same_image():
    from inr.fields.layout import from_mlp_layers, mlp_layers
    from inr.fields.model import build_field
    from inr.fields.spec import ModelConfig
    from inr.grid import grid
    from inr.nn.encodings import EncodingConfig

    model = ModelConfig(encoding=EncodingConfig(name="identity"), activation=activation_config("sine"), hidden_width=8,
                        hidden_layers=2, init="siren", output_activation="identity")
    field = build_field(model, 2, 1)
    params = field.init(jax.random.PRNGKey(0))
    layers = [(w[None, ..., None], b[None, ..., None]) for w, b in mlp_layers(params)]
    perms = random_perms(5, (2, 8, 8, 1))
    permuted = from_mlp_layers([(w[0, ..., 0], b[0, ..., 0]) for w, b in permute_layers(layers, perms)], params)
    coords = grid((16, 16)).reshape(-1, 2)
    assert not np.allclose(params["mlp"][1]["W"], permuted["mlp"][1]["W"])
    np.testing.assert_allclose(field.apply(params, coords), field.apply(permuted, coords), rtol=1e-4, atol=1e-5)


def test_mlp_baseline_is_not_invariant():
    widths = (2, 4, 6, 1)
    space = WeightSpace(widths)
    model = WEIGHT_MODELS.get("mlp")(FlatMLPConfig(head=[16]), space, 10)
    params = model.init(jax.random.PRNGKey(0))
    xs = space.from_layers(random_layers(1, widths))
    perms = random_perms(2, widths)
    assert not np.allclose(model.apply(params, xs), model.apply(params, permute_tensors(space, xs, perms)))


def test_permutation_augmentation_keeps_each_function():
    from inr.weightspace.data import permute_batch

    widths = (2, 8, 8, 1)
    space = WeightSpace(widths)
    layers = random_layers(0, widths, batch=4)
    xs = space.from_layers(layers)
    aug = space.to_layers(permute_batch(space, jax.random.PRNGKey(1), xs))
    coords = jax.random.uniform(jax.random.PRNGKey(2), (32, 2), minval=-1, maxval=1)

    def mlp(ls, n):
        h = coords
        for i, (w, b) in enumerate(ls):
            h = h @ w[n, ..., 0] + b[n, ..., 0]
            h = jnp.sin(h) if i < len(ls) - 1 else h
        return h

    assert not np.allclose(aug[1][0], layers[1][0])
    for n in range(4):
        np.testing.assert_allclose(mlp(aug, n), mlp(layers, n), rtol=1e-4, atol=1e-5)


def test_input_transform_moves_the_picture():
    from inr.weightspace.data import augment_inputs, transform_inputs

    widths = (2, 8, 8, 1)
    space = WeightSpace(widths)
    layers = random_layers(0, widths, batch=2)
    xs = space.from_layers(layers)
    coords = jax.random.uniform(jax.random.PRNGKey(2), (32, 2), minval=-1, maxval=1)

    def mlp(ls, n, x):
        h = x
        for i, (w, b) in enumerate(ls):
            h = h @ w[n, ..., 0] + b[n, ..., 0]
            h = jnp.sin(h) if i < len(ls) - 1 else h
        return h

    a = np.radians([30.0, -10.0])
    rot = jnp.asarray([[[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]] for t in a], jnp.float32)
    zoom, shift = jnp.asarray([1.1, 0.9]), jnp.asarray([[0.2, -0.1], [0.0, 0.25]])
    moved = space.to_layers(transform_inputs(space, xs, rot, zoom, shift))
    for n in range(2):
        expected = mlp(layers, n, ((coords + shift[n]) @ rot[n]) * zoom[n])
        np.testing.assert_allclose(mlp(moved, n, coords), expected, rtol=1e-4, atol=1e-5)
    aug = augment_inputs(space, jax.random.PRNGKey(3), xs, dropout=0.0)
    assert [x.shape for x in aug] == [x.shape for x in xs] and not np.allclose(aug[0], xs[0])
    np.testing.assert_array_equal(aug[1], xs[1])  # only the first layer changes


def test_input_augment_strength_scales_the_ranges():
    from inr.weightspace.data import augment_inputs

    widths = (2, 8, 8, 1)
    space = WeightSpace(widths)
    layers = random_layers(0, widths, batch=64)
    w1 = np.array(layers[0][0])
    w1[:, :, :2, 0] = np.eye(2)  # two first-layer neurons read x itself: their weights show R * zoom
    layers[0] = (jnp.asarray(w1), layers[0][1])
    xs = space.from_layers(layers)

    def angles(strength):
        w = space.to_layers(augment_inputs(space, jax.random.PRNGKey(5), xs, dropout=0.0, strength=strength))[0][0]
        return np.degrees(np.arctan2(w[:, 1, 0, 0], w[:, 0, 0, 0]))

    full, quarter = angles(1.0), angles(0.25)
    assert np.abs(full).max() > 30.0 and np.abs(full).max() <= 45.0 + 1e-3
    np.testing.assert_allclose(quarter, 0.25 * full, atol=1e-3)
    still = augment_inputs(space, jax.random.PRNGKey(5), xs, dropout=0.0, strength=0.0)
    for a, b in zip(still, xs):
        np.testing.assert_allclose(a, b, atol=1e-6)


def siren_field(width, out=1):
    from inr.fields.model import build_field
    from inr.fields.spec import ModelConfig
    from inr.nn.encodings import EncodingConfig

    model = ModelConfig(encoding=EncodingConfig(name="identity"), activation=activation_config("sine"), hidden_width=width,
                        hidden_layers=2, init="siren", output_activation="identity")
    return build_field(model, 2, out)


def test_probe_features_are_the_fields_activations_and_permute_with_its_neurons():
    from inr.weightspace.probes import make_probe

    widths = (2, 6, 6, 3)
    space, field = WeightSpace(widths), siren_field(6, 3)
    layers = [(w / 10, b / 10) for w, b in random_layers(1, widths)]  # sin(30 z) stays well-conditioned
    stats = [(0.5, 2.0)] * len(space.tensors)
    xs = [(x - 0.5) / 2.0 for x in space.from_layers(layers)]
    probe = make_probe(field, space, stats)
    coords = np.random.default_rng(0).uniform(-1, 1, (7, 2)).astype(np.float32)
    feats = probe.run(coords, xs)
    assert [f.shape for f in feats] == [(3, 6, 7), (3, 6, 7), (3, 3, 7)]
    one = {"mlp": [{"W": w[1, ..., 0], "b": b[1, ..., 0]} for w, b in layers]}
    np.testing.assert_allclose(feats[-1][1].T, field.apply(one, coords), rtol=1e-4, atol=1e-4)
    perms = random_perms(2, widths)
    moved = probe.run(coords, permute_tensors(space, xs, perms))
    for a, f, g in zip((1, 2, None), feats, moved):
        np.testing.assert_allclose(g, f[:, perms[a]] if a else f, rtol=1e-4, atol=1e-4)


def test_dwsnet_with_probes_is_invariant_and_learns_its_probes():
    from inr.weightspace.probes import make_probe

    widths = (2, 6, 6, 1)
    space = WeightSpace(widths)
    xs = space.from_layers(random_layers(1, widths))
    stats = [(0.0, 1.0)] * len(space.tensors)
    cfg = DWSNetConfig(channels=4, layers=2, head=[8], heads=2, probes=5)
    model = WEIGHT_MODELS.get("dws")(cfg, space, 10, make_probe(siren_field(6), space, stats))
    params = model.init(jax.random.PRNGKey(0))
    assert params["probe"]["coords"].shape == (5, 2)
    run = outputs_and_grads(model.apply)
    (_, out), grads = run(params, xs)
    np.testing.assert_allclose(out, run(params, permute_tensors(space, xs, random_perms(2, widths)))[0][1],
                               rtol=1e-4, atol=1e-5)
    moved = {**params, "probe": {**params["probe"], "coords": params["probe"]["coords"] + 0.1}}
    assert not np.allclose(out, run(moved, xs)[0][1])
    assert float(jnp.abs(grads["probe"]["coords"]).max()) > 0
    assert all(float(jnp.abs(p["kernel"]).max()) > 0 for p in grads["probe"]["proj"].values())


def test_probes_need_the_fields():
    from inr.errors import InrError

    with pytest.raises(InrError, match="probes"):
        WEIGHT_MODELS.get("dws")(DWSNetConfig(probes=4), WeightSpace((2, 6, 6, 1)), 10)


def test_each_weight_model_has_only_its_own_keys():
    from inr.errors import InrError
    from inr.schema import from_dict
    from inr.weightspace.models import upgrade_v1
    from inr.weightspace.train import WeightTrainConfig

    with pytest.raises(InrError, match=r"model: unknown key 'channels'; valid: name, head$"):
        from_dict(WeightTrainConfig, {"model": {"name": "mlp", "channels": 4}})
    flat = {"name": "mlp", "channels": 16, "layers": 4, "pool": "max", "heads": 8, "norm": True, "head": [32]}
    assert from_dict(WeightTrainConfig, {"model": upgrade_v1(flat)}).model == FlatMLPConfig(head=[32])
    assert from_dict(WeightTrainConfig, {"model": upgrade_v1({**flat, "name": "dws"})}).model == \
        DWSNetConfig(head=[32], attention=False, probes=0)  # format 1 had neither
