import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from inr.errors import DivergedError, InrError
from inr.fields.model import build_field
from inr.fields.spec import ModelConfig
from inr.nn.encodings import EncodingConfig
from inr.train.checkpoint import FitState, load_checkpoint
from inr.train.config import TrainConfig
from inr.train.fit import fit
from inr.train.losses import mse_loss
from inr.train.optim import SCHEDULES, make_optimizer, make_schedule
from inr.nn.activations import activation_config


def problem(seed=0, **train):
    model = ModelConfig(encoding=EncodingConfig(name="identity"), activation=activation_config("sine"), init="siren",
                        output_activation="identity", hidden_width=16, hidden_layers=2)
    field = build_field(model, 1, 1)
    x = jnp.linspace(-1, 1, 64)[:, None]
    data = {"coords": x, "targets": jnp.sin(4 * x)}
    cfg = TrainConfig(**{"steps": 30, "steps_per_call": 7, "lr": 3e-3, "checkpoint_every": 7, **train})
    opt = make_optimizer(cfg)
    params = field.init(jax.random.PRNGKey(seed))
    loss = mse_loss(field.apply, cfg.batch_size)
    return loss, FitState(params, opt.init(params)), data, cfg, opt


def run(seed=0, checkpoint=None, state=None, **train):
    loss, fresh, data, cfg, opt = problem(seed, **train)
    return fit(loss, state or fresh, data, cfg, opt, key=jax.random.PRNGKey(seed), checkpoint=checkpoint, quiet=True)


def leaves(state):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(state.params)]


def test_loss_goes_down_and_history_is_logged():
    out = run()
    assert out.step == 30
    assert [r["step"] for r in out.history] == [7, 14, 21, 28, 30]
    assert out.history[-1]["loss"] < 0.5 * out.history[0]["loss"]


def test_deterministic_for_a_seed_minibatch():
    a, b, c = run(batch_size=16), run(batch_size=16), run(seed=1, batch_size=16)
    assert all(np.array_equal(x, y) for x, y in zip(leaves(a), leaves(b)))
    assert not all(np.array_equal(x, y) for x, y in zip(leaves(a), leaves(c)))


def test_resume_ends_where_uninterrupted_run_does(tmp_path):
    full = run(batch_size=16)
    ckpt = tmp_path / "ckpt.safetensors"
    loss, fresh, data, cfg, opt = problem(batch_size=16)
    fit(loss, fresh, data, cfg, opt, key=jax.random.PRNGKey(0), checkpoint=ckpt, quiet=True, stop_at=14)
    loss, fresh, data, cfg, opt = problem(batch_size=16)
    state = load_checkpoint(ckpt, fresh.params, fresh.opt_state)
    assert state.step == 14
    resumed = fit(loss, state, data, cfg, opt, key=jax.random.PRNGKey(0), quiet=True)
    assert all(np.array_equal(x, y) for x, y in zip(leaves(full), leaves(resumed)))
    assert [r["step"] for r in resumed.history] == [r["step"] for r in full.history]


def test_nan_stops_and_keeps_last_good_checkpoint(tmp_path):
    ckpt = tmp_path / "ckpt.safetensors"
    with pytest.raises(DivergedError, match="diverged.*last good checkpoint, step 0"):
        run(lr=1e12, checkpoint=ckpt)
    loss, fresh, *_ = problem()
    state = load_checkpoint(ckpt, fresh.params, fresh.opt_state)
    assert state.step == 0
    assert all(np.all(np.isfinite(x)) for x in leaves(state))


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    ckpt = tmp_path / "ckpt.safetensors"
    ckpt.write_bytes(b"not a safetensors file")
    _, fresh, *_ = problem()
    with pytest.raises(InrError, match="corrupt checkpoint"):
        load_checkpoint(ckpt, fresh.params, fresh.opt_state)


@pytest.mark.parametrize("name", SCHEDULES.names())
def test_schedules_start_at_lr_and_never_grow(name):
    cfg = TrainConfig(lr=1e-2, steps=100, schedule=name, decay_rate=0.1)
    sched = make_schedule(cfg)
    values = np.array([float(sched(i)) for i in range(101)])
    assert values[0] == pytest.approx(1e-2)
    assert np.all(np.diff(values) <= 1e-12)
    final = {"constant": 1e-2, "step": 1e-2 * 0.1 ** len(cfg.boundaries)}.get(name, 1e-3)
    assert values[-1] == pytest.approx(final, rel=1e-3)


@pytest.mark.parametrize("name", SCHEDULES.names())
def test_every_schedule_takes_the_same_warm_up_then_decays_over_the_rest(name):
    cfg = TrainConfig(lr=1e-2, steps=110, schedule=name, decay_rate=0.1, warmup=10)
    values = np.array([float(make_schedule(cfg)(i)) for i in range(111)])
    np.testing.assert_allclose(values[:11], np.linspace(0, 1e-2, 11), rtol=1e-5, atol=1e-12)
    plain = make_schedule(TrainConfig(lr=1e-2, steps=100, schedule=name, decay_rate=0.1))
    np.testing.assert_allclose(values[10:], [float(plain(i)) for i in range(101)], rtol=1e-5)
    if name == "cosine":  # optax's own warm-up + cosine decay
        ref = optax.warmup_cosine_decay_schedule(0.0, 1e-2, 10, 110, end_value=1e-3)
        np.testing.assert_allclose(values, [float(ref(i)) for i in range(111)], rtol=1e-5, atol=1e-12)


def test_step_schedule_boundaries():
    sched = make_schedule(TrainConfig(lr=1.0, steps=100, schedule="step", boundaries=[0.5, 0.75], decay_rate=0.1))
    assert [float(sched(s)) for s in (49, 50, 74, 75)] == pytest.approx([1.0, 0.1, 0.1, 0.01])


def test_grad_clip_is_applied():
    opt = make_optimizer(TrainConfig(optimizer="sgd", lr=1.0, grad_clip=1.0))
    params = {"w": jnp.zeros(3)}
    updates, _ = opt.update({"w": jnp.array([30.0, 40.0, 0.0])}, opt.init(params), params)
    assert float(optax.tree.norm(updates)) == pytest.approx(1.0, rel=1e-5)


def test_lr_multipliers_scale_one_group():
    cfg = TrainConfig(optimizer="sgd", lr=0.1, schedule="constant", lr_multipliers={"modulation": 10.0})
    opt = make_optimizer(cfg)
    params = {"mlp": [{"W": jnp.zeros(2), "b": jnp.zeros(1)}], "modulation": {"gamma": jnp.zeros(2)}}
    grads = jax.tree_util.tree_map(jnp.ones_like, params)
    updates, _ = opt.update(grads, opt.init(params), params)
    np.testing.assert_allclose(updates["mlp"][0]["W"], -0.1)
    np.testing.assert_allclose(updates["modulation"]["gamma"], -1.0)


def test_time_budget_stops_early_at_a_chunk_end():
    out = run(steps=100000, steps_per_call=5, max_seconds=1e-9)
    assert out.step == 5 and len(out.history) == 1


def test_complex_parameters_descend():
    # WIRE's complex weights: jax.grad returns the conjugate direction, which fit() corrects.
    def loss(params, data, key):
        return jnp.sum(jnp.abs(params["z"] - data["a"]) ** 2)

    cfg = TrainConfig(steps=300, steps_per_call=100, lr=0.1, schedule="constant")
    opt = make_optimizer(cfg)
    params = {"z": jnp.zeros(2, jnp.complex64)}
    data = {"a": jnp.array([1 + 2j, -3 + 0.5j], jnp.complex64)}
    out = fit(loss, FitState(params, opt.init(params)), data, cfg, opt, key=jax.random.PRNGKey(0), quiet=True)
    np.testing.assert_allclose(np.asarray(out.params["z"]), np.asarray(data["a"]), atol=1e-2)


def test_hooks_run_inside_the_steps_on_absolute_step_counts():
    def loss(params, data, key):
        return jnp.sum(params["w"] ** 2)

    def count(params, data):
        return {**params, "count": params["count"] + 1.0}

    cfg = TrainConfig(steps=20, steps_per_call=7, lr=0.1, schedule="constant")
    opt = make_optimizer(cfg)
    params = {"w": jnp.ones(2), "count": jnp.zeros(())}
    state = FitState(params, opt.init(params))
    out = fit(loss, state, {}, cfg, opt, key=jax.random.PRNGKey(0), quiet=True, hooks=[(3, count)])
    assert float(out.params["count"]) == 6  # after steps 3, 6, ..., 18; chunks end at 7, 14, 20
    assert [r["step"] for r in out.history] == [7, 14, 20]


def test_checkpoint_with_extras_round_trips(tmp_path):
    from inr.train.checkpoint import save_checkpoint

    _, fresh, *_ = problem()
    ema = jax.tree_util.tree_map(lambda x: x + 1.0, fresh.params)
    state = FitState(fresh.params, fresh.opt_state, step=5, seconds=1.5, history=[{"step": 5, "loss": 0.25}],
                     extra={"ema": ema, "best_score": 0.125})
    ckpt = tmp_path / "ckpt.safetensors"
    save_checkpoint(ckpt, state)
    template = {"ema": fresh.params, "best_score": 0.0}
    got = load_checkpoint(ckpt, fresh.params, fresh.opt_state, template)
    assert (got.step, got.seconds, got.history) == (5, 1.5, [{"step": 5, "loss": 0.25}])
    assert got.extra["best_score"] == 0.125
    assert all(np.array_equal(x, y) for x, y in zip(jax.tree_util.tree_leaves(got.extra["ema"]), jax.tree_util.tree_leaves(ema)))
    assert all(np.array_equal(x, y) for x, y in zip(jax.tree_util.tree_leaves(got.opt_state), jax.tree_util.tree_leaves(fresh.opt_state)))
    with pytest.raises(InrError, match="ckpt.safetensors: incompatible checkpoint: no array extra.best"):
        load_checkpoint(ckpt, fresh.params, fresh.opt_state, {**template, "best": fresh.params})


def test_version_1_checkpoint_loads(tmp_path):
    # written the way checkpoints were before extras: string metadata, no format entry
    import json

    from safetensors.numpy import save_file

    from inr.io import tree_entries

    _, fresh, *_ = problem()
    arrays = {f"params.{n}": np.asarray(a) for n, a in tree_entries(fresh.params)}
    arrays.update({f"opt.{i}": np.asarray(x) for i, x in enumerate(jax.tree_util.tree_leaves(fresh.opt_state))})
    ckpt = tmp_path / "old.safetensors"
    save_file(arrays, str(ckpt), metadata={"step": "3", "seconds": repr(0.5), "history": json.dumps([{"step": 3}])})
    got = load_checkpoint(ckpt, fresh.params, fresh.opt_state, {})
    assert (got.step, got.seconds, got.history, got.extra) == (3, 0.5, [{"step": 3}], {})
    assert all(np.array_equal(x, y) for x, y in zip(leaves(got), leaves(fresh)))
    with pytest.raises(InrError, match="old.safetensors.missing: no checkpoint"):
        load_checkpoint(tmp_path / "old.safetensors.missing", fresh.params, fresh.opt_state)
