"""inr weights train / eval end to end on a tiny collection of digits."""
import json
import os
import shutil

import jax
import numpy as np
import pytest

from inr.collections.config import CollectionRunConfig
from inr.collections.fitmany import fit_many
from inr.runs import run_config
from inr.collections.format import load_collection
from inr.collections.split import split_by_signal
from tests.conftest import interrupt_fit

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIGITS = os.path.join(ROOT, "assets", "mnist-100-images-idx3-ubyte.gz")
CONFIG = os.path.join(ROOT, "inr", "modalities", "defaults", "image-collection.yaml")


def fit_collection(out, limit, fits, *sets):
    cfg = run_config([CONFIG], ["train.steps=5", "collection.chunk_size=20", *sets],
                          {"input": DIGITS, "collection": {"limit": limit, "fits_per_signal": fits}},
                          CollectionRunConfig)
    fit_many(cfg, out, quiet=True)
    return out


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    return fit_collection(tmp_path_factory.mktemp("ws") / "c", 40, 2)


def test_split_keeps_all_fits_of_a_signal_together():
    sources = [f"s{i // 3}" for i in range(30)]
    parts = split_by_signal(sources, [0.6, 0.2, 0.2], seed=0)
    assert sorted(np.concatenate(list(parts.values())).tolist()) == list(range(30))
    for name, idx in parts.items():
        others = set().union(*(set(sources[i] for i in v) for k, v in parts.items() if k != name))
        assert not {sources[i] for i in idx} & others
    again = split_by_signal(sources, [0.6, 0.2, 0.2], seed=0)
    assert all(np.array_equal(parts[k], again[k]) for k in parts)


def cli(*args) -> int:
    """The CLI in this process (no interpreter start-up)."""
    from inr.cli.main import main

    return main([str(a) for a in args])


def test_train_and_eval_and_fields_of_other_widths_refused(collection, tmp_path, capsys):
    run = tmp_path / "run"
    assert cli("weights", "train", collection, "--model", "dws", "--out", run, "--quiet", "--set", "train.steps=4",
               "--set", "train.steps_per_call=2", "--set", "model.probes=4", "--set", "model.channels=4",
               "--set", "model.layers=1", "--set", "model.head=[16]") == 0
    for name in ("config.yaml", "model.safetensors", "model.json", "metrics.json", "confusion.png", "curve.png"):
        assert (run / name).is_file(), name
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["train_count"] + metrics["val_count"] + metrics["test_count"] == 80
    assert np.asarray(metrics["confusion_matrix"]).sum() == metrics["test_count"]
    preds = tmp_path / "p.json"
    assert cli("weights", "eval", run, collection, "--predictions", preds) == 0
    out = json.loads(preds.read_text())
    labels = load_collection(collection).labels
    assert len(out["predictions"]) == 80 and out["accuracy"] == pytest.approx(np.mean(np.asarray(out["predictions"]) == labels))
    # a format-1 run saved before model.attention and model.probes existed (neither, no keys: a DWSNet on the
    # weights alone) still loads and predicts
    old = tmp_path / "old"
    shutil.copytree(run, old)
    meta = json.loads((old / "model.json").read_text())
    del meta["config"]["model"]["attention"], meta["config"]["model"]["probes"]
    meta["format_version"], meta["standardisation"] = 1, meta.pop("standardization")  # as format 1 wrote it
    (old / "model.json").write_text(json.dumps(meta))
    assert cli("weights", "eval", old, collection, "--predictions", tmp_path / "old.json") == 0
    assert len(json.loads((tmp_path / "old.json").read_text())["predictions"]) == 80
    # a model with probes reads fields of its own widths only; a classifier edits nothing
    capsys.readouterr()
    assert cli("weights", "eval", run, collection, "--edited", tmp_path / "e") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--task classify, not edit" in err, err
    assert not (tmp_path / "e").exists()
    narrow = fit_collection(tmp_path / "narrow", 2, 1, "model.hidden_width=8")
    assert cli("weights", "eval", run, narrow) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "widths" in err and str(run) in err, err


def test_bad_inputs(collection, tmp_path, capsys):
    for args, fragment in [(["weights", "eval", tmp_path, collection], "model.json"),
                           (["weights", "train", tmp_path / "nothing", "--out", tmp_path / "r"], "collection.json"),
                           (["weights", "train", collection, "--out", tmp_path / "r2", "--set", "split=[0.5, 0.5]"],
                            "split")]:
        assert cli(*args) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and fragment in err, err


# the loop's resume is tested bit for bit in tests/train/test_fit.py, and run directories resume in
# tests/test_cli.py, tests/collections and the diffusion CLI test
@pytest.mark.slow
def test_interrupted_training_resumes_to_the_uninterrupted_model(collection, tmp_path, monkeypatch):
    """The best-validation weights, the optimizer and the history ride in the
    checkpoint, so a resumed run ends exactly where an uninterrupted one does."""
    from inr.schema import from_dict
    from inr.weightspace import train as ws_train
    from inr.weightspace.runs import load_weight_model, train_run
    from inr.weightspace.train import WeightTrainConfig

    cfg = from_dict(WeightTrainConfig, {"model": {"channels": 4, "layers": 1, "probes": 4},
                                        "train": {"steps": 8, "steps_per_call": 2, "checkpoint_every": 2}})
    full = train_run(cfg, collection, tmp_path / "full", quiet=True)
    undo = interrupt_fit(monkeypatch, ws_train, at=4)
    with pytest.raises(KeyboardInterrupt):
        train_run(cfg, collection, tmp_path / "cut", quiet=True)
    assert not (tmp_path / "cut" / "model.safetensors").exists()
    undo()
    assert cli("weights", "train", collection, "--out", tmp_path / "cut", "--resume", "--quiet") == 0
    from inr.collections.format import load_collection

    field = load_collection(collection).field
    _, a, _, _ = load_weight_model(tmp_path / "full", field)
    _, b, _, _ = load_weight_model(tmp_path / "cut", field)
    for x, y in zip(*(jax.tree_util.tree_leaves(p) for p in (a, b))):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    resumed = json.loads((tmp_path / "cut" / "metrics.json").read_text())
    assert resumed["best_step"] == full["best_step"] and resumed["test_accuracy"] == full["test_accuracy"]
    assert [r["step"] for r in json.loads((tmp_path / "cut" / "history.json").read_text())] == [2, 4, 6, 8]


def test_dilation_is_a_max_over_the_square():
    from inr.weightspace.tasks import dilate

    img = np.zeros((6, 7, 1), np.float32)
    img[2, 3], img[5, 0] = 0.8, 0.3
    out = dilate(img, 3)[..., 0]
    want = np.zeros((6, 7), np.float32)
    want[1:4, 2:5] = 0.8
    want[4:6, 0:2] = 0.3
    np.testing.assert_array_equal(out, want)


def test_edit_trains_renders_and_scores_against_the_dilated_digits(collection, tmp_path):
    """The unedited error it reports is the fitted fields' rendering against the
    source digits dilated, computed here independently."""
    from scipy import ndimage

    from inr.collections.idx import read_idx
    from inr.grid import grid

    run = tmp_path / "edit"
    # the flattened-weights MLP (it compiles fastest): the equivariant heads are tested in test_families.py
    assert cli("weights", "train", collection, "--task", "edit", "--model", "mlp", "--out", run, "--quiet",
               "--set", "train.steps=4", "--set", "train.steps_per_call=2", "--set", "train.batch_size=8",
               "--set", "model.head=[16]") == 0
    for name in ("edit.png", "metrics.json", "model.safetensors", "curve.png"):
        assert (run / name).is_file(), name
    metrics = json.loads((run / "metrics.json").read_text())
    split = json.loads((run / "model.json").read_text())["split"]["test"]
    coll = load_collection(collection)
    digits = read_idx(DIGITS)
    renders = np.stack([np.asarray(coll.field.apply(coll.params(i), grid((28, 28)).reshape(-1, 2))).reshape(28, 28)
                        for i in split])
    norm = coll.meta["normalization"]  # field value = scale * pixel + offset
    renders = (renders - norm["offset"]) / norm["scale"]
    index = [int(coll.fields[i]["source"].split("#")[1]) for i in split]
    targets = np.stack([ndimage.grey_dilation(digits[k] / 255.0, size=(3, 3)) for k in index])
    assert metrics["test_mse_unedited"] == pytest.approx(float(np.mean((renders - targets) ** 2)), rel=1e-4)
    assert np.isfinite(metrics["test_mse"]) and metrics["test_mse"] < 1.0
    out, edited = tmp_path / "edits.json", tmp_path / "edited"
    assert cli("weights", "eval", run, collection, "--predictions", out, "--edited", edited) == 0
    result = json.loads(out.read_text())
    assert np.asarray(result["predictions"]).shape == (80, 784)
    # the edited collection renders to the pictures eval scored
    again = load_collection(edited)
    assert len(again) == 80 and again.fields[5]["source"] == coll.fields[5]["source"]
    for i in (0, 41):
        render = (np.asarray(again.field.apply(again.params(i), grid((28, 28)).reshape(-1, 2)))[:, 0]
                  - norm["offset"]) / norm["scale"]
        np.testing.assert_allclose(render, result["predictions"][i], rtol=1e-4, atol=1e-4)


def test_task_and_model_mismatches_are_one_line_errors(collection, tmp_path, capsys):
    """--task edit on a collection that is not of images; a sign-invariant model
    (or sign augmentation) on fields whose activation is not odd; an unknown model;
    a negative input_augment_scale."""
    other = {}
    for name, change in [("audio", lambda m: {**m, "modality": "audio"}),
                         ("relu", lambda m: {**m, "model": {**m["model"], "activation": {"name": "relu"}}})]:
        other[name] = tmp_path / name
        shutil.copytree(collection, other[name])
        meta = json.loads((other[name] / "collection.json").read_text())
        (other[name] / "collection.json").write_text(json.dumps(change(meta)))
    capsys.readouterr()
    for args, fragment in [([other["audio"], "--task", "edit"], "needs a collection of images"),
                           ([other["relu"], "--model", "scale_gmn"], "model scale_gmn assumes"),
                           ([other["relu"], "--set", "sign_augment=true"], "sign_augment assumes"),
                           ([collection, "--model", "ng_x"], "ng_x"),
                           ([collection, "--set", "input_augment_scale=-1"], "input_augment_scale must be >= 0")]:
        assert cli("weights", "train", *args, "--out", tmp_path / "r", "--quiet") == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and fragment in err, err
        assert not (tmp_path / "r").exists()


def test_scale_gmn_gives_a_sign_flipped_collection_the_same_predictions(collection, tmp_path):
    """Every hidden neuron of every field of a collection sign-flipped at random
    (written and read back as a collection: the same functions): a ScaleGMN with
    probe features, its inputs standardized as training does, gives the same logits."""
    import jax.numpy as jnp

    from inr.collections.format import WEIGHTS
    from inr.io import save_tree
    from inr.schema import from_dict
    from inr.weightspace.data import flip_signs, from_collection, standardize, standardizer
    from inr.weightspace.models import WEIGHT_MODELS, WeightModelConfig
    from inr.weightspace.probes import make_probe

    data = from_collection(load_collection(collection), collection)
    space = data.space
    flipped = np.asarray(space.to_flat(flip_signs(space, jax.random.PRNGKey(0), data.tensors)))
    other = tmp_path / "flipped"
    shutil.copytree(collection, other)
    save_tree(other / WEIGHTS, {"weights": flipped, "buffers.encoding": dict(data.field.encoding.buffers)})
    again = from_collection(load_collection(other), other)
    assert not np.allclose(again.tensors[1], data.tensors[1])
    cfg = from_dict(WeightModelConfig, {"name": "scale_gmn", "channels": 4, "layers": 1, "probes": 4,
                                        "head": [16]}, "model")
    assert type(cfg).sign_invariant
    stats = standardizer(data.tensors, np.arange(40), center=False)
    model = WEIGHT_MODELS.get("scale_gmn")(cfg, space, 10, make_probe(data.field, space, stats))
    params, apply = model.init(jax.random.PRNGKey(1)), jax.jit(model.apply)
    logits = [apply(params, standardize([jnp.asarray(x) for x in d.tensors], stats)) for d in (data, again)]
    np.testing.assert_allclose(logits[1], logits[0], rtol=1e-4, atol=1e-4)
