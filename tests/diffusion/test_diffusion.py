import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from inr.cli.main import main
from inr.collections.format import load_collection
from inr.diffusion.metrics import coverage, memorization, mmd, one_nna, set_metrics
from inr.metrics import pairwise_l2
from inr.diffusion.sample import ddim_timesteps, sample
from inr.diffusion.schedule import PREDICTIONS, ddim_step, linear_schedule, posterior, q_sample, x0_predictor
from inr.diffusion.denoiser import (DENOISERS, DWSDenoiserConfig, MLPDenoiserConfig, TransformerDenoiserConfig,
                                    upgrade_v1)
from inr.diffusion.tokens import Tokenizer
from inr.diffusion.standardize import Standardizer
from inr.diffusion.train import DiffusionConfig, check_config
from inr.schema import from_dict
from inr.errors import InrError
from tests.conftest import interrupt_fit, outputs_and_grads

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIGITS = os.path.join(ROOT, "assets", "mnist-100-images-idx3-ubyte.gz")


def test_forward_noising_has_the_closed_form_marginals():
    s = linear_schedule(500, 1e-4, 2e-2)
    abar = np.cumprod(1 - np.linspace(1e-4, 2e-2, 500))
    np.testing.assert_allclose(s.abar, abar, rtol=1e-5)
    x0 = jnp.full((20000, 1), 2.0)
    for t in (0, 100, 499):
        xt = q_sample(s, x0, jnp.full((20000,), t), jax.random.normal(jax.random.PRNGKey(t), x0.shape))
        assert float(jnp.mean(xt)) == pytest.approx(2 * np.sqrt(abar[t]), abs=0.03)
        assert float(jnp.var(xt)) == pytest.approx(1 - abar[t], abs=0.03 + 0.03 * (1 - abar[t]))


def test_posterior_matches_bayes():
    s = linear_schedule(50, 1e-3, 0.2)
    abar = np.cumprod(1 - np.linspace(1e-3, 0.2, 50))
    x0, xt = jnp.array([[0.7]]), jnp.array([[-0.3]])
    for t in (1, 10, 49):
        beta, a_prev = 1 - abar[t] / abar[t - 1], abar[t - 1]
        # q(x_{t-1} | x0) = N(sqrt(a_prev) x0, 1 - a_prev); q(x_t | x_{t-1}) = N(sqrt(1 - beta) x_{t-1}, beta)
        precision = 1 / (1 - a_prev) + (1 - beta) / beta
        mean = (np.sqrt(a_prev) * 0.7 / (1 - a_prev) + np.sqrt(1 - beta) * -0.3 / beta) / precision
        got_mean, got_var = posterior(s, x0, xt, jnp.array([t]))
        assert float(got_mean[0, 0]) == pytest.approx(mean, rel=1e-4)
        assert float(got_var[0, 0]) == pytest.approx(1 / precision, rel=1e-4)
    mean0, var0 = posterior(s, x0, xt, jnp.array([0]))  # the last step lands on x0
    assert float(mean0[0, 0]) == pytest.approx(0.7, rel=1e-5) and float(var0[0, 0]) == pytest.approx(0, abs=1e-7)


def test_samplers_with_an_oracle_denoiser_return_its_x0():
    s = linear_schedule(100)
    target = jnp.linspace(-1, 1, 8)[None]
    oracle = (lambda params, x, t: jnp.broadcast_to(target, x.shape))
    for method, steps in (("ddpm", 0), ("ddim", 10)):
        x = sample(oracle, None, s, jax.random.PRNGKey(0), 3, 8, method, steps, batch=4)
        np.testing.assert_allclose(x, np.broadcast_to(target, (3, 8)), atol=1e-4)
    assert ddim_timesteps(100, 10)[0] == 99 and ddim_timesteps(100, 10)[-1] == 0
    a = ddim_step(s, target, target * 0 + 5.0, jnp.array([10]), jnp.array([-1]))
    np.testing.assert_allclose(a, target, atol=1e-6)


def test_v_prediction_gives_back_x0():
    s = linear_schedule(100)
    x0 = jax.random.normal(jax.random.PRNGKey(0), (6, 8))
    noise = jax.random.normal(jax.random.PRNGKey(1), (6, 8))
    t = jnp.array([0, 1, 10, 50, 98, 99])
    xt = q_sample(s, x0, t, noise)
    v = PREDICTIONS.get("v")
    np.testing.assert_allclose(v.to_x0(s, v.target(s, x0, t, noise), xt, t), x0, atol=1e-5)
    a = np.sqrt(np.asarray(s.abar))[np.asarray(t)][:, None]
    np.testing.assert_allclose(v.target(s, x0, t, noise), a * noise - np.sqrt(1 - a ** 2) * x0, atol=1e-5)
    np.testing.assert_allclose(v.to_x0(s, jnp.zeros_like(xt), xt, t), a * xt, atol=1e-6)  # zero output: pass x_t
    # the samplers see x0 through x0_predictor: a v-oracle for a fixed target lands on it
    target = jnp.linspace(-1, 1, 8)[None]

    def v_oracle(params, x, tt):
        sa, sr = jnp.sqrt(s.abar_at(tt))[:, None], jnp.sqrt(s.one_minus_abar_at(tt))[:, None]
        return (sa * x - target) / sr

    for method, steps in (("ddpm", 0), ("ddim", 10)):
        got = sample(x0_predictor(v_oracle, s, "v"), None, s, jax.random.PRNGKey(0), 3, 8, method, steps, batch=4)
        np.testing.assert_allclose(got, np.broadcast_to(target, (3, 8)), atol=1e-3)


def test_tokenizer_round_trip_is_exact():
    layout = [{"name": "mlp.0.W", "shape": [2, 3], "offset": 0}, {"name": "mlp.0.b", "shape": [3], "offset": 6},
              {"name": "mlp.1.W", "shape": [3, 1], "offset": 9}, {"name": "mlp.1.b", "shape": [1], "offset": 12}]
    tok = Tokenizer.from_layout(layout)
    flat = jax.random.normal(jax.random.PRNGKey(0), (5, 13))
    parts = tok.split(flat)
    assert [p.shape[1] for p in parts] == [6, 3, 3, 1]
    np.testing.assert_array_equal(tok.join(parts), flat)
    assert tok.pieces() == [(0, 6), (6, 3), (9, 3), (12, 1)]
    assert tok.pieces(4) == [(0, 3), (3, 3), (6, 3), (9, 3), (12, 1)]  # 6 -> 3 + 3, never more than 4
    assert tok.pieces(2) == [(0, 2), (2, 2), (4, 2), (6, 1), (7, 2), (9, 1), (10, 2), (12, 1)]


# about 15 s, most of it compiling a dozen token encoders and decoders: under -m slow. model.token_size is an
# option no shipped config sets; the cut itself (Tokenizer.pieces) is tested above
@pytest.mark.slow
def test_transformer_token_size_cuts_big_tensors_into_tokens():
    tok = Tokenizer.from_layout(mlp_layout((2, 6, 6, 1)))
    whole = DENOISERS.get("transformer")(TransformerDenoiserConfig(width=8, depth=1, heads=2), tok)
    cut = DENOISERS.get("transformer")(TransformerDenoiserConfig(width=8, depth=1, heads=2, token_size=8), tok)
    p_whole, p_cut = whole.template, cut.init(jax.random.PRNGKey(0))  # the whole one's shapes are enough
    assert len(p_whole["enc"]) == 6 and len(p_cut["enc"]) == len(tok.pieces(8)) > 6
    assert all(e["kernel"].shape[0] <= 8 for e in p_cut["enc"].values())
    xt = jax.random.normal(jax.random.PRNGKey(1), (3, tok.size))
    # each token's decoder writes its own slice of the weights: only those under the mask get gradients
    mask = jnp.zeros(tok.size).at[12:20].set(1.0)
    (_, out), grads = outputs_and_grads(lambda p, x, t: cut.apply(p, x, t) * mask)(p_cut, xt, jnp.array([0, 10, 499]))
    assert out.shape == xt.shape and bool(jnp.all(jnp.isfinite(out))) and bool(jnp.any(out[:, 12:20] != 0))
    hit = [i for i, d in grads["dec"].items() if float(jnp.abs(d["kernel"]).max()) > 0]
    assert [tok.pieces(8)[i] for i in hit] == [(12, 6), (18, 7)]  # b1, then the first of W2's five pieces


def mlp_layout(widths):
    layout, offset = [], 0
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layout += [{"name": f"mlp.{i}.W", "shape": [a, b], "offset": offset},
                   {"name": f"mlp.{i}.b", "shape": [b], "offset": offset + a * b}]
        offset += a * b + b
    return layout


def permute_flat(flat, widths, perms):
    """Permute the hidden neurons of flat MLP weights (numpy, canonical layout)."""
    out, offset = [], 0
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        w = flat[:, offset:offset + a * b].reshape(-1, a, b)
        bias = flat[:, offset + a * b:offset + a * b + b]
        offset += a * b + b
        if i - 1 in perms:
            w = w[:, perms[i - 1]]
        if i in perms:
            w, bias = w[:, :, perms[i]], bias[:, perms[i]]
        out += [w.reshape(len(flat), -1), bias]
    return np.concatenate(out, axis=1)


# attention's equivariance in a DWS layer: tests/weightspace/test_dws.py
@pytest.mark.parametrize("attention", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_dws_denoiser_is_permutation_equivariant(attention):
    widths = (2, 5, 4, 1)
    tok = Tokenizer.from_layout(mlp_layout(widths))
    net = DENOISERS.get("dws")(DWSDenoiserConfig(channels=4, layers=3, heads=2, attention=attention), tok)
    init, apply = net.init, net.apply
    params = init(jax.random.PRNGKey(0))
    rng = np.random.default_rng(1)
    xt = rng.normal(size=(3, tok.size)).astype(np.float32)
    t = jnp.array([0, 100, 499])
    perms = {1: rng.permutation(5), 2: rng.permutation(4)}
    apply = jax.jit(apply)
    out = np.asarray(apply(params, xt, t))
    assert out.shape == xt.shape and np.all(np.isfinite(out))
    np.testing.assert_allclose(apply(params, permute_flat(xt, widths, perms), t), permute_flat(out, widths, perms),
                               rtol=1e-4, atol=1e-5)
    assert not np.allclose(apply(params, xt, t + 7), out)  # the timestep matters


@pytest.mark.parametrize("name", ["transformer", "mlp"])  # dws: test_dws_denoiser_is_permutation_equivariant
def test_denoiser_maps_weights_to_weights_and_reads_the_timestep(name):
    tok = Tokenizer.from_layout(mlp_layout((2, 5, 4, 1)))
    cfg = TransformerDenoiserConfig(width=8, depth=2, heads=2, mlp_ratio=2) if name == "transformer" else \
        MLPDenoiserConfig(width=8, depth=2, mlp_ratio=2)
    net = DENOISERS.get(name)(cfg, tok)
    init, apply = net.init, net.apply
    params = init(jax.random.PRNGKey(0))
    xt = jax.random.normal(jax.random.PRNGKey(1), (3, tok.size))
    t = jnp.array([0, 100, 499])
    run = outputs_and_grads(apply)
    (_, out), grads = run(params, xt, t)
    assert out.shape == xt.shape and np.all(np.isfinite(out))
    assert not np.allclose(run(params, xt, t + 7)[0][1], out)
    assert np.any(grads["time"][0]["kernel"] != 0)  # the timestep's embedding is trained from the first step


def test_each_denoiser_has_only_its_own_keys():
    """``model.width`` meant three things; now each denoiser names its own, and old runs' flat sections upgrade."""
    with pytest.raises(InrError, match=r"key 'width' is now 'model.channels'"):
        from_dict(DiffusionConfig, {"model": {"name": "dws", "width": 8}})
    with pytest.raises(InrError, match=r"unknown key 'token_size'; valid: name, width, depth, mlp_ratio$"):
        from_dict(DiffusionConfig, {"model": {"name": "mlp", "token_size": 8}})
    flat = {"name": "dws", "width": 8, "depth": 3, "heads": 2, "mlp_ratio": 4, "attention": False, "token_size": 0}
    assert from_dict(DiffusionConfig, {"model": upgrade_v1(flat)}).model == \
        DWSDenoiserConfig(channels=8, layers=3, heads=2, attention=False)
    with pytest.raises(InrError, match="model.layers must be >= 2"):
        check_config(from_dict(DiffusionConfig, {"model": {"name": "dws", "layers": 1}}))


def test_dws_denoiser_needs_plain_mlp_fields():
    layout = mlp_layout((2, 4, 1)) + [{"name": "grid.table", "shape": [8], "offset": 17}]
    with pytest.raises(InrError, match="plain MLPs"):
        DENOISERS.get("dws")(DWSDenoiserConfig(channels=4, layers=2), Tokenizer.from_layout(layout))


def test_standardizer_per_tensor():
    tok = Tokenizer.from_layout(mlp_layout((2, 3, 1)))
    w = np.random.default_rng(0).normal(size=(50, tok.size)).astype(np.float32) * np.arange(1, tok.size + 1)
    std = Standardizer.fit(w, True, "tensor", tok)
    for o, n in zip(tok.offsets, tok.sizes):
        assert np.ptp(std.mean[o:o + n]) == 0 and np.ptp(std.std[o:o + n]) == 0
        z = std.forward(w)[:, o:o + n]
        assert abs(z.mean()) < 1e-4 and abs(z.std() - 1) < 1e-3
    np.testing.assert_allclose(std.inverse(std.forward(w)), w, rtol=1e-5, atol=1e-4)


def test_standardizer_pca_whitens_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    mix = rng.normal(size=(6, 6)) * np.array([3.0, 1.0, 0.5, 0.1, 0.03, 0.01])[:, None]
    w = (rng.normal(size=(400, 6)) @ mix + 2.0).astype(np.float32)
    std = Standardizer.fit(w, True, "pca")
    z = std.forward(w)
    np.testing.assert_allclose(np.cov(z, rowvar=False), np.eye(6), atol=2e-3)
    assert np.all(np.diff(std.std) <= 0)  # principal axes, largest variance first
    np.testing.assert_allclose(std.inverse(z), w, rtol=1e-5, atol=1e-5)
    save_file(std.arrays(), str(tmp_path / "s.safetensors"))  # as a run stores it
    again = Standardizer.from_arrays(load_file(str(tmp_path / "s.safetensors")))
    np.testing.assert_array_equal(again.forward(w), z)
    assert "standardize.basis" not in Standardizer.fit(w, True, "parameter").arrays()
    few = w[:4]  # fewer fields than weights: the unused axes stay finite
    std = Standardizer.fit(few, True, "pca")
    assert np.all(np.isfinite(std.forward(few))) and np.all(std.std > 0)
    np.testing.assert_allclose(std.inverse(std.forward(few)), few, rtol=1e-4, atol=1e-4)


def test_set_metrics_known_answers():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(400, 4)), rng.normal(size=(400, 4))
    assert set_metrics(a, b)["1nna"] == pytest.approx(0.5, abs=0.07)
    far = set_metrics(a, b + 100.0)
    assert far["1nna"] == 1.0
    same = pairwise_l2(a, a)
    assert mmd(same) == pytest.approx(0, abs=1e-6) and coverage(same) == 1.0
    assert one_nna(pairwise_l2(a, a), pairwise_l2(b, b), pairwise_l2(a, b)) == set_metrics(a, b)["1nna"]
    copies = memorization(a[:50] + 1e-3, a, b)
    assert copies["closer_than_any_test"] == 1.0
    fresh = memorization(rng.normal(size=(200, 4)), a, b)
    assert fresh["closer_than_any_test"] < 0.1
    # the subset ratio: about 1 for fresh draws, also when they are more typical (shrunk
    # toward the middle, which lowers every nearest distance), and far below 1 for copies
    assert fresh["train_test_ratio_median"] == pytest.approx(1.0, abs=0.15)
    typical = memorization(0.5 * rng.normal(size=(200, 4)), a, b)
    assert typical["sample_to_train_median"] < 0.8 * fresh["sample_to_train_median"]
    assert typical["train_test_ratio_median"] == pytest.approx(1.0, abs=0.15)
    copied = memorization(a + 1e-3, a, b)  # copies of the training items (the subset is all of them here)
    assert copied["train_test_ratio_median"] < 0.5


def test_train_sample_eval_cli(tmp_path):
    coll = tmp_path / "coll"
    assert main(["fit-many", DIGITS, "--config", os.path.join(ROOT, "inr", "modalities", "defaults", "image-collection.yaml"),
                 "--set", "train.steps=10", "--set", "train.steps_per_call=10", "--set", "collection.chunk_size=20",
                 "--limit", "40", "--out", str(coll), "--quiet"]) == 0
    run = tmp_path / "run"
    sets = ["train.steps=20", "train.steps_per_call=10", "model.width=32", "model.depth=1", "model.heads=2", "timesteps=50",
            "train.warmup=5", "seed=3"]
    args = ["diffusion", "train", str(coll), "--config", os.path.join(ROOT, "configs", "diffusion", "mnist.yaml"),
            "--out", str(run), "--quiet"]
    assert main(args + [a for s in sets for a in ("--set", s)]) == 0
    assert main(["diffusion", "sample", str(run), "--n", "5", "--steps", "5", "--out", str(tmp_path / "s")]) == 0
    samples = load_collection(tmp_path / "s")
    assert samples.weights.shape == (5, load_collection(coll).weights.shape[1])
    assert np.all(np.isfinite(samples.weights))
    assert (tmp_path / "s" / "samples.png").is_file()
    assert sorted(p.name for p in (tmp_path / "s" / "decoded").iterdir()) == [f"sample-{i:03d}.png" for i in range(5)]
    assert main(["render-collection", str(tmp_path / "s"), "--out", str(tmp_path / "g.png"), "--quiet"]) == 0
    assert main(["diffusion", "eval", str(tmp_path / "s"), "--out", str(tmp_path / "m.json")]) == 0
    metrics = json.loads((tmp_path / "m.json").read_text())
    # scored against the run's test split: COV counts covered references, 1-NNA classifies samples + references
    n_ref = len(json.loads((run / "diffusion.json").read_text())["split"]["test"])
    assert metrics["samples"] == 5 and metrics["references"] == n_ref > 0
    assert metrics["cov"] * n_ref == pytest.approx(round(metrics["cov"] * n_ref))
    assert metrics["1nna"] * (5 + n_ref) == pytest.approx(round(metrics["1nna"] * (5 + n_ref)))
    closer = metrics["memorization"]["closer_than_any_test"] * 5  # a count of the 5 samples
    assert closer == pytest.approx(round(closer))
    # an interrupted run (checkpoint and config.yaml, no diffusion.json yet) resumes with its own config
    before = json.loads((run / "diffusion.json").read_text())
    (run / "diffusion.json").unlink()
    assert main(["diffusion", "train", str(coll), "--out", str(run), "--resume", "--quiet"]) == 0
    after = json.loads((run / "diffusion.json").read_text())
    assert after["split"] == before["split"] and after["config"] == before["config"] and after["steps"] == 20
    # settings the denoiser cannot use are one-line errors
    bad = ["diffusion", "train", str(coll), "--out", str(tmp_path / "bad"), "--set", "model.width=30",
           "--set", "model.heads=4"]
    assert main(bad) == 2 and not (tmp_path / "bad").exists()
    for setting in ("prediction=eps", "standardize_by=layer"):
        assert main(bad[:5] + ["--set", setting]) == 2 and not (tmp_path / "bad").exists()
    assert main(bad[:5] + ["--set", "model.name=dws", "--set", "standardize_by=pca"]) == 2
    assert main(bad[:5] + ["--set", "augment.scale=1.5"]) == 2 and not (tmp_path / "bad").exists()


@pytest.mark.slow  # about 20 s; the dws denoiser's equivariance and its format-1 file have fast tests
def test_the_equivariant_denoiser_trains_and_samples_through_the_same_commands(tmp_path):
    coll = tmp_path / "coll"
    assert main(["fit-many", DIGITS, "--config", os.path.join(ROOT, "inr", "modalities", "defaults", "image-collection.yaml"),
                 "--set", "train.steps=2", "--set", "train.steps_per_call=2", "--set", "model.hidden_width=8",
                 "--limit", "12", "--out", str(coll), "--quiet"]) == 0
    dws_run = ["diffusion", "train", str(coll), "--out", str(tmp_path / "dws"), "--quiet"]
    dws_sets = ["train.steps=4", "train.steps_per_call=2", "model.name=dws", "model.channels=4", "model.layers=2",
                "model.heads=2", "timesteps=20", "train.warmup=1", "standardize_by=tensor"]
    assert main(dws_run + [a for s in dws_sets for a in ("--set", s)]) == 0
    assert main(["diffusion", "sample", str(tmp_path / "dws"), "--n", "2", "--steps", "3",
                 "--out", str(tmp_path / "s_dws")]) == 0
    assert np.all(np.isfinite(load_collection(tmp_path / "s_dws").weights))


@pytest.mark.slow  # about 25 s; the point clouds and metrics have fast tests in test_clouds.py
def test_shapes_train_sample_eval_cli(tmp_path):
    """The 3-D path end to end on four tiny occupancy fields: samples are a
    collection with shaded renders and meshes, and eval scores point clouds."""
    import shutil

    import trimesh

    data = tmp_path / "meshes"
    data.mkdir()
    for i in range(4):
        shutil.copy(os.path.join(ROOT, "assets", "suzanne.obj"), data / f"s{i}.obj")
    coll = tmp_path / "coll"
    fit_sets = ["model.hidden_width=16", "train.steps=4", "train.steps_per_call=2", "train.batch_size=256",
                "data.samples=2000", "data.eval_points=512", "data.resolution=16", "data.metric_points=500",
                "data.iou_resolution=16", "train.checkpoint_every=4"]
    assert main(["fit-many", str(data), "--config", os.path.join(ROOT, "inr", "modalities", "defaults", "sdf-collection.yaml"),
                 "--out", str(coll), "--quiet"] + [a for s in fit_sets for a in ("--set", s)]) == 0
    run = tmp_path / "run"
    sets = ["train.steps=4", "train.steps_per_call=2", "model.width=16", "model.depth=1", "model.heads=2", "timesteps=20",
            "train.warmup=1", "split=[0.5, 0.25, 0.25]"]
    assert main(["diffusion", "train", str(coll), "--config", os.path.join(ROOT, "configs", "diffusion", "shapes.yaml"),
                 "--out", str(run), "--quiet"] + [a for s in sets for a in ("--set", s)]) == 0
    assert main(["diffusion", "sample", str(run), "--n", "2", "--steps", "2", "--out", str(tmp_path / "s")]) == 0
    assert (tmp_path / "s" / "samples.png").is_file()
    for i in range(2):
        trimesh.load(tmp_path / "s" / "decoded" / f"sample-{i:03d}.ply")  # a mesh file (possibly empty)
    assert main(["diffusion", "eval", str(tmp_path / "s"), "--out", str(tmp_path / "m.json")]) == 0
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["samples"] == 2 and metrics["references"] == 1 and metrics["empty_fraction"] in (0.0, 0.5, 1.0)
    assert "memorization" in metrics and "classifier" not in metrics  # shapes are not classified


# the one loop's resume is tested bit for bit in tests/train/test_fit.py, extras such as the EMA weights
# round-trip in its checkpoint test, and test_train_sample_eval_cli resumes a diffusion run directory
@pytest.mark.slow
def test_interrupted_training_resumes_to_the_uninterrupted_denoiser(tmp_path, monkeypatch):
    """The EMA weights ride in the checkpoint beside the model and optimizer."""
    from inr.diffusion import train as diff_train
    from inr.diffusion.runs import load_denoiser, train_run
    from inr.schema import from_dict

    coll = tmp_path / "coll"
    assert main(["fit-many", DIGITS, "--config", os.path.join(ROOT, "inr", "modalities", "defaults", "image-collection.yaml"),
                 "--set", "train.steps=2", "--set", "train.steps_per_call=2", "--set", "model.hidden_width=8",
                 "--limit", "12", "--out", str(coll), "--quiet"]) == 0
    cfg = from_dict(DiffusionConfig, {"timesteps": 20, "model": {"width": 16, "depth": 1, "heads": 2},
                                      "train": {"steps": 8, "steps_per_call": 2, "warmup": 2, "checkpoint_every": 2}})
    train_run(cfg, coll, tmp_path / "full", quiet=True)
    undo = interrupt_fit(monkeypatch, diff_train, at=4)
    with pytest.raises(KeyboardInterrupt):
        train_run(cfg, coll, tmp_path / "cut", quiet=True)
    undo()
    train_run(cfg, coll, tmp_path / "cut", resume=True, quiet=True)
    a, b = load_denoiser(tmp_path / "full")[3], load_denoiser(tmp_path / "cut")[3]
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
