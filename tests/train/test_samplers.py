from pathlib import Path

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree
import numpy as np
import pytest

from inr.errors import InrError
from inr.fields.model import build_field
from inr.fields.spec import ModelConfig
from inr.nn.activations import activation_config
from inr.nn.encodings import EncodingConfig
from inr.train.config import TrainConfig
from inr.train.fit import fit, restore, start_state
from inr.train.losses import mse_loss
from inr.train.optim import make_optimizer
from inr.train.samplers import (EvosSampler, IntSampler, NintSampler, SoftMiningSampler, UniformSampler,
                                make_sampling, regression_errors)


def test_int_schedule_is_the_reference_codes():
    """INT's step scheduler (10 stages from 20 %, + 8 % each) and incremental
    strategy (re-rank every step for the first quarter, then every 10 ... 50 steps)."""
    cfg = IntSampler()
    kept = cfg.kept(1000)
    assert kept[0] == pytest.approx(0.2) and kept[99] == pytest.approx(0.2)
    assert kept[100] == pytest.approx(0.28) and kept[-1] == pytest.approx(0.92)
    due = cfg.refreshed(1000)
    assert due[:250].all()
    # 750 steps after the start-up in five parts of 150: every 10, 20, 30, 40 and 50 steps
    assert (250 + np.flatnonzero(due[250:400])).tolist() == list(range(250, 400, 10))
    assert (850 + np.flatnonzero(due[850:1000])).tolist() == [850, 900, 950]


def field_problem(sampler, steps=24, n=40):
    model = ModelConfig(encoding=EncodingConfig(name="identity"), activation=activation_config("sine"), init="siren",
                        output_activation="identity", hidden_width=8, hidden_layers=1)
    field = build_field(model, 1, 1)
    x = jnp.linspace(-1, 1, n)[:, None]
    data = {"coords": x, "targets": jnp.sin(5 * x)}
    cfg = TrainConfig(steps=steps, steps_per_call=5, lr=1e-2, sampler=sampler)
    sampling = make_sampling(cfg.sampler, steps, regression_errors(field.apply, grid=(n,)), data, "image")
    return field, data, cfg, sampling


def test_each_step_trains_on_the_worst_fitted_rows():
    field, data, cfg, sampling = field_problem(IntSampler(start=0.25, stages=2))
    seen = []

    def loss(params, batch, key):  # records the batch each step trains on
        jax.debug.callback(lambda c: seen.append(np.asarray(c)), batch["coords"])
        return mse_loss(field.apply)(params, batch, key)

    params = field.init(jax.random.PRNGKey(0))
    err = np.abs(np.asarray(field.apply(params, data["coords"]) - data["targets"]))[:, 0]
    opt = make_optimizer(cfg)
    fit(loss, start_state(params, opt, cfg, sampling=sampling), data, cfg, opt, key=jax.random.PRNGKey(0),
        quiet=True, sampling=sampling)
    assert [len(c) for c in seen] == [10] * 12 + [25] * 12  # 25 %, then 25 % + 75 % / 2 of 40
    worst = np.sort(np.argsort(-err)[:10])
    np.testing.assert_array_equal(np.sort(seen[0][:, 0]), np.asarray(data["coords"])[worst, 0])


@pytest.mark.parametrize("sampler", [IntSampler(), NintSampler(keep=0.5, random=0.0, ntk=1.0)], ids=["int", "nint"])
def test_a_stack_of_fields_ranks_each_field_by_its_own_errors(sampler):
    """The vmapped ranking of a stack (NINT's NTK scores too) is each field's own, to the bit. (Whole stacked
    fits match single ones only to float rounding, which can flip near-ties in a ranking; so this is checked
    on one step.)"""
    field, data, cfg, sampling = field_problem(sampler, steps=10)
    stack = {"coords": jnp.stack([data["coords"]] * 2), "targets": jnp.stack([data["targets"], -data["targets"]])}
    stacked = make_sampling(cfg.sampler, cfg.steps, regression_errors(field.apply), {k: v[0] for k, v in stack.items()},
                            "image")
    assert stacked.n == sampling.n == 40
    params = field.init(jax.random.PRNGKey(0))
    two = jax.tree_util.tree_map(lambda a: jnp.stack([a, a]), params)
    both = jax.vmap(stacked.reorder, in_axes=(0, 0, 0, None))(two, stack, stacked.start(2), 0)
    for i in range(2):
        one = sampling.reorder(params, {k: v[i] for k, v in stack.items()}, sampling.start(), 0)
        for name in one:
            np.testing.assert_array_equal(np.asarray(both[name][i]), np.asarray(one[name]))
    assert not np.array_equal(np.asarray(both["order"][0][:8]), np.asarray(both["order"][1][:8]))


def test_a_sampler_needs_fixed_samples_to_rank():
    with pytest.raises(InrError, match="draws fresh points every step"):
        make_sampling(IntSampler(), 10, None, {}, "sdf")
    with pytest.raises(InrError, match="start must be in"):
        make_sampling(IntSampler(start=0.0), 10, None, {}, "image")


def test_verbs_without_a_signal_refuse_a_sampler(tmp_path, capsys):
    from inr.cli.main import main
    from inr.diffusion.train import DiffusionConfig, check_config as check_diffusion
    from inr.weightspace.train import WeightTrainConfig, check_config as check_weights

    int_train = TrainConfig(batch_size=8, sampler=IntSampler())
    with pytest.raises(InrError, match="which weight-space training does not have"):
        check_weights(WeightTrainConfig(train=int_train))
    with pytest.raises(InrError, match="which denoiser training does not have"):
        check_diffusion(DiffusionConfig(train=int_train))
    digits = Path(__file__).resolve().parents[2] / "assets" / "mnist-100-images-idx3-ubyte.gz"
    out = tmp_path / "meta"
    assert main(["meta-init", str(digits), "--set", "train.sampler=int", "--out", str(out), "--quiet"]) == 2
    assert "meta-init's short inner fits" in capsys.readouterr().err and not out.exists()


def test_evos_schedule_is_the_reference_codes():
    """Fitness every 100 steps at the start down to every 50 at the end; half
    of each step's samples the fittest, half drawn at random from the rest."""
    cfg = EvosSampler()
    due = cfg.refreshed(5000)
    # epoch e = step + 1 is evaluated where e % int(100 - 50 e / 5000) == 1
    assert np.flatnonzero(due)[:4].tolist() == [0, 99, 196, 291]
    assert np.flatnonzero(due)[-3:].tolist() == [4896, 4900, 4950] and due.sum() == 72
    field, data, tcfg, _ = field_problem(cfg, steps=30)
    sampling = make_sampling(cfg, 30, regression_errors(field.apply, grid=(40,)), data, "image")
    assert sampling.stage(0) == (20, 10)


def test_evos_keeps_the_least_fit_and_mutates_from_the_rest():
    field, data, cfg, _ = field_problem(EvosSampler(crossover=0.0))
    sampling = make_sampling(cfg.sampler, cfg.steps, regression_errors(field.apply), data, "image")
    params = field.init(jax.random.PRNGKey(0))
    order = sampling.rank(params, data)
    sq = np.asarray((field.apply(params, data["coords"]) - data["targets"]) ** 2)[:, 0]
    np.testing.assert_array_equal(np.asarray(order[:10]), np.argsort(-sq)[:10])
    rows = {}
    for seed in (0, 1):
        batch = sampling.select(data, order, jax.random.PRNGKey(seed), 20, 10)
        rows[seed] = [int(np.flatnonzero(np.asarray(data["coords"])[:, 0] == c)[0]) for c in np.asarray(batch["coords"])[:, 0]]
        assert len(rows[seed]) == 20 and rows[seed][:10] == np.asarray(order[:10]).tolist()
        assert not set(rows[seed][10:]) & set(rows[seed][:10])  # drawn from the rest only
    assert rows[0][10:] != rows[1][10:]  # a fresh draw for every key


def test_evos_crossover_adds_the_squared_laplacian_error():
    """The Laplacian of an image's residual: 5-point stencil, edges replicated."""
    field, data, cfg, _ = field_problem(EvosSampler())
    h, w = 5, 8
    coords = jnp.stack(jnp.meshgrid(jnp.linspace(-1, 1, h), jnp.linspace(-1, 1, w), indexing="ij"), -1).reshape(-1, 2)
    model = ModelConfig(encoding=EncodingConfig(name="identity"), activation=activation_config("sine"), init="siren",
                        output_activation="identity", hidden_width=8, hidden_layers=1)
    field = build_field(model, 2, 1)
    img = {"coords": coords, "targets": jnp.sin(3 * coords[:, :1])}
    errors = regression_errors(field.apply, grid=(h, w))
    params = field.init(jax.random.PRNGKey(0))
    r = np.asarray(errors.residuals(params, img)).reshape(h, w)
    p = np.pad(r, 1, mode="edge")
    lap = p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * r
    got = EvosSampler(crossover=0.5).fitness(errors)(params, img)
    np.testing.assert_allclose(np.asarray(got), (r**2 + 0.5 * lap**2).ravel(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("sampler", [IntSampler(start=1.0), EvosSampler(keep=1.0, mutation=0.0),
                                     SoftMiningSampler(keep=1.0, alpha=0.0), NintSampler(keep=1.0, random=0.0)],
                         ids=["int", "evos", "soft_mining", "nint"])
def test_a_sampler_keeping_everything_is_uniform_bit_for_bit(sampler):
    field, data, cfg, sampling = field_problem(sampler, steps=12)
    opt = make_optimizer(cfg)
    params = field.init(jax.random.PRNGKey(2))
    key = jax.random.PRNGKey(0)
    loss = mse_loss(field.apply)
    picked = fit(loss, start_state(params, opt, cfg, sampling=sampling), data, cfg, opt, key=key, quiet=True,
                 sampling=sampling)
    plain = fit(loss, start_state(params, opt, cfg), data, cfg, opt, key=key, quiet=True)
    for a, b in zip(jax.tree_util.tree_leaves(picked.params), jax.tree_util.tree_leaves(plain.params)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("sampler", [pytest.param(IntSampler(start=0.2, stages=3, max_interval=10),
                                                  marks=pytest.mark.slow),  # its Ranked state: evos', nint's
                                     EvosSampler(first_interval=7, last_interval=3, crossover=0.0),
                                     SoftMiningSampler(ramp=10), NintSampler(keep=0.5, random=0.0, ntk=1.0)],
                         ids=["int", "evos", "soft_mining", "nint"])
def test_an_interrupted_run_resumes_to_the_same_weights(sampler, tmp_path):
    """The samplers' ranking (soft mining's positions) rides in the checkpoint."""
    field, data, cfg, sampling = field_problem(sampler)
    loss, opt = mse_loss(field.apply), make_optimizer(cfg)
    fresh = lambda: start_state(field.init(jax.random.PRNGKey(1)), opt, cfg, sampling=sampling)  # noqa: E731
    key = jax.random.PRNGKey(0)
    full = fit(loss, fresh(), data, cfg, opt, key=key, quiet=True, sampling=sampling)
    ckpt = tmp_path / "c.safetensors"
    fit(loss, fresh(), data, cfg, opt, key=key, quiet=True, sampling=sampling, checkpoint=ckpt, stop_at=10)
    state = restore(ckpt, fresh())
    assert state.step == 10
    resumed = fit(loss, state, data, cfg, opt, key=key, quiet=True, sampling=sampling)
    for a, b in zip(jax.tree_util.tree_leaves(full.params), jax.tree_util.tree_leaves(resumed.params)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_bad_sampler_options_are_one_line_errors(tmp_path, capsys):
    from inr.cli.main import main

    image = Path(__file__).resolve().parents[2] / "assets" / "cameraman.png"
    for sets, fragment in [(["train.sampler=evos", "train.sampler.keep=1.5"], "keep must be in (0, 1]"),
                           (["train.sampler=int", "train.sampler.keep=0.5"], "keep"),
                           (["train.sampler=nint", "train.sampler.ntk=0.5"], "ntk in [0, 1 - random]"),
                           (["train.sampler=evos", "train.sampler.crossover=1e-3", "data.split=even"],
                            "needs samples on a full grid")]:
        out = tmp_path / "r"
        args = ["fit", "image", str(image), "--out", str(out), "--quiet"]
        assert main(args + [a for s in sets for a in ("--set", s)]) == 2, sets
        err = capsys.readouterr().err
        assert fragment in err and len(err.strip().splitlines()) == 1 and not out.exists(), err


def test_nint_schedule_is_the_reference_codes():
    """NINT's reference ranks every step; the NTK share 0.3 exp(-2 c // 10)
    is recomputed at the 1st, 10th and 20th ranking and stops at the 30th,
    where it would fall below 1e-3; one ranking in ``interval`` steps."""
    due, share = NintSampler().ntk_schedule(100)
    assert np.flatnonzero(due).tolist() == [0, 9, 19]
    np.testing.assert_allclose(share[[0, 8, 9, 18, 19, 28]], 0.3 * np.exp([-1, -1, -2, -2, -4, -4]))
    assert not share[29:].any()
    due, share = NintSampler(interval=5).ntk_schedule(200)
    assert np.flatnonzero(due).tolist() == [0, 45, 95] and share[144] > 0 and not share[145:].any()
    assert np.flatnonzero(NintSampler(interval=5).refreshed(20)).tolist() == [0, 5, 10, 15]
    assert not NintSampler(ntk=0.0).ntk_schedule(50)[0].any()


def test_function_space_update_is_the_ntk_times_the_residuals():
    field, data, _, _ = field_problem(NintSampler())
    params = field.init(jax.random.PRNGKey(3))
    errors = regression_errors(field.apply)
    flat, unravel = ravel_pytree(params)
    jac = jax.jacobian(lambda v: field.apply(unravel(v), data["coords"])[:, 0])(flat)  # (n, p)
    r = np.asarray(errors.residuals(params, data))[:, 0]
    expected = (np.asarray(jac, np.float64) @ np.asarray(jac, np.float64).T @ r) ** 2
    np.testing.assert_allclose(np.asarray(errors.function_space_update(params, data)), expected, rtol=2e-3)


def test_nint_trains_on_the_ntk_chosen_then_the_worst_fitted_then_random_rows():
    """At its first step: the NTK share's top rows by |K r|, then the largest
    residuals among the others, then a random draw from the rest."""
    field, data, cfg, sampling = field_problem(NintSampler(keep=0.5, random=0.4, ntk=0.3), n=80)
    params = field.init(jax.random.PRNGKey(0))
    x = sampling.reorder(params, data, sampling.start(), 0)
    errors = regression_errors(field.apply)
    k, m = sampling.stage(0)
    n_ntk = int(sampling.ntk_count[0])
    assert (k, m, n_ntk) == (40, 16, int(0.3 * np.exp(-1) * 40)) and n_ntk == 4
    ntk = np.argsort(-np.asarray(errors.function_space_update(params, data)))[:n_ntk]
    residual = np.abs(np.asarray(errors.residuals(params, data)))[:, 0]
    residual[ntk] = -1.0
    order = np.asarray(x["order"])
    assert set(order[:n_ntk]) == set(ntk)
    np.testing.assert_array_equal(order[n_ntk:k - m], np.argsort(-residual)[:k - m - n_ntk])
    assert set(order[:n_ntk]) != set(np.argsort(-np.abs(np.asarray(errors.residuals(params, data)))[:, 0])[:n_ntk])
    # later steps keep the NTK choice until it is recomputed (step 9)
    later = sampling.reorder(params, data, x, 5)
    np.testing.assert_array_equal(np.asarray(later["ntk_rank"]), np.asarray(x["ntk_rank"]))


def image_problem(sampler, h=12, w=16, steps=12):
    model = ModelConfig(encoding=EncodingConfig(name="identity"), activation=activation_config("sine"), init="siren",
                        output_activation="identity", hidden_width=8, hidden_layers=1)
    field = build_field(model, 2, 1)
    from inr.grid import grid

    coords = jnp.asarray(grid((h, w)).reshape(-1, 2))
    data = {"coords": coords, "targets": (coords[:, 1:] > 0.2).astype(jnp.float32)}  # a vertical edge
    cfg = TrainConfig(steps=steps, steps_per_call=5, lr=1e-2, sampler=sampler)
    sampling = make_sampling(cfg.sampler, steps, regression_errors(field.apply, grid=(h, w)), data, "image")
    return field, data, cfg, sampling


def test_soft_mining_weights_are_the_clamped_inverse_error_and_ramp_in():
    field, data, cfg, sampling = image_problem(SoftMiningSampler(alpha=0.6, ramp=100))
    params = field.init(jax.random.PRNGKey(0))
    r = np.asarray(field.apply(params, data["coords"]) - data["targets"])[:, 0]
    for step, exponent in [(0, 0.0), (30, 0.3), (500, 0.6)]:
        value, (per_sample, w) = sampling._weighted_loss(data, jnp.minimum(step / 100, 0.6))(params, 0.0)
        raw = np.maximum(np.abs(r), 2.0**-10) ** -exponent
        expect = np.clip(raw, 0.2, max(raw.mean() + raw.std(), 0.2))
        np.testing.assert_allclose(np.asarray(w), expect, rtol=1e-5)
        np.testing.assert_allclose(float(value), np.mean(expect * r**2), rtol=1e-5)
        np.testing.assert_allclose(np.asarray(per_sample), r**2, rtol=1e-5)
    assert np.ptp(expect) > 0  # the weights at 0.6 differ between samples


def test_soft_mining_positions_round_to_samples_and_redraw_at_edges():
    cfg = SoftMiningSampler(keep=0.5, uniform=0.1, reinit=0.5, drift=0.0, noise=0.0)
    field, data, _, sampling = image_problem(cfg)
    assert sampling.count == 96
    np.testing.assert_array_equal(np.asarray(sampling.rows(jnp.array([[0.0, 0.0], [1.0, 1.0], [0.5, 0.49]]))),
                                  [0, 12 * 16 - 1, 6 * 16 + 7])
    density = np.asarray(sampling.edge_density(data)).reshape(12, 16)
    columns = np.flatnonzero(density.max(axis=0) > 1e-3)
    assert columns.tolist() == [9, 10]  # the edge between columns 9 and 10 (x > 0.2), nothing else
    params = field.init(jax.random.PRNGKey(0))
    x = sampling.start()
    _, _, moved = sampling.field_step(params, sampling.prepare(data), x, 0, jax.random.PRNGKey(3))
    old, new = np.asarray(x["positions"]), np.asarray(moved["positions"])
    changed = np.flatnonzero(np.any(old != new, axis=1))
    # half redrawn at the edge, the last tenth uniformly; with no drift or noise the rest stay put
    assert len(changed) >= 48 and set(range(96 - 9, 96)) <= set(changed.tolist())
    edge_drawn = sorted(set(changed.tolist()) - set(range(96 - 9, 96)))
    cols = np.round(new[edge_drawn, 1] * 15).astype(int)
    assert set(cols.tolist()) <= {9, 10}


def test_soft_mining_moves_samples_up_the_log_loss():
    cfg = SoftMiningSampler(keep=0.5, uniform=0.0, reinit=0.0, drift=0.01, noise=0.0)
    field, data, _, sampling = image_problem(cfg)
    params = field.init(jax.random.PRNGKey(0))
    x = sampling.start()
    _, _, moved = sampling.field_step(params, sampling.prepare(data), x, 0, jax.random.PRNGKey(3))
    step = np.asarray(moved["positions"] - x["positions"])
    # finite differences of log((f(x) - y)^2) in pixel units at the nearest samples' coordinates
    rows = np.asarray(sampling.rows(x["positions"]))
    c = np.asarray(data["coords"])[rows]
    y = np.asarray(data["targets"])[rows]
    logl = lambda cc: np.log(np.asarray((field.apply(params, jnp.asarray(cc)) - y) ** 2)[:, 0])  # noqa: E731
    for axis, n in enumerate((12, 16)):
        e = np.zeros(2, np.float32)
        e[axis] = 1e-3
        fd = (logl(c + e) - logl(c - e)) / 2e-3 * (2.0 / n)
        inside = (np.asarray(x["positions"])[:, axis] + step[:, axis] > 0) & (np.asarray(x["positions"])[:, axis] + step[:, axis] < 1)
        np.testing.assert_allclose(step[inside, axis], 0.01 * fd[inside], rtol=2e-2, atol=1e-5)


def test_soft_mining_refuses_samples_off_a_grid():
    field, data, cfg, _ = field_problem(UniformSampler())
    with pytest.raises(InrError, match="moves samples on a full grid"):
        make_sampling(SoftMiningSampler(), 10, regression_errors(field.apply), data, "sdf")
    with pytest.raises(InrError, match="uniform \\+ reinit < 1"):
        make_sampling(SoftMiningSampler(uniform=0.5, reinit=0.5), 10, regression_errors(field.apply, grid=(40,)),
                      data, "image")


def test_soft_mining_with_a_minibatch_moves_that_many_samples():
    field, data, cfg, _ = field_problem(UniformSampler())
    sampling = make_sampling(SoftMiningSampler(keep=0.5), 10, regression_errors(field.apply, grid=(40,)), data,
                             "audio", batch_size=8)
    assert sampling.count == 8 and sampling.start()["positions"].shape == (8, 1)


@pytest.mark.slow  # with test_collections' soft-mining stack; the default suite runs the stack's INT sibling
def test_a_stack_of_fields_mines_each_field_on_its_own():
    field, data, cfg, sampling = image_problem(SoftMiningSampler())
    stack = {"coords": jnp.stack([data["coords"]] * 2), "targets": jnp.stack([data["targets"], 1 - data["targets"]])}
    params = field.init(jax.random.PRNGKey(0))
    two = jax.tree_util.tree_map(lambda a: jnp.stack([a, a]), params)
    keys = jax.random.split(jax.random.PRNGKey(5), 2)
    loss, grads, x = sampling.gradients(None, stacked=True)(two, jax.vmap(sampling.prepare)(stack), sampling.start(2),
                                                         3, keys, 0, 0)
    total = 0.0
    for i in range(2):
        one = {k: v[i] for k, v in stack.items()}
        v, g, xi = sampling.field_step(params, sampling.prepare(one), sampling.start(), 3, keys[i])
        total += v
        np.testing.assert_allclose(np.asarray(x["positions"][i]), np.asarray(xi["positions"]), rtol=1e-5, atol=1e-6)
        for a, b in zip(jax.tree_util.tree_leaves(grads), jax.tree_util.tree_leaves(g)):
            np.testing.assert_allclose(np.asarray(a[i]), np.asarray(b), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(float(loss), float(total), rtol=1e-5)
