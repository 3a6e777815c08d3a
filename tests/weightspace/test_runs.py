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
    # a model with probes reads fields of its own widths only
    capsys.readouterr()
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
    _, a, _ = load_weight_model(tmp_path / "full", field)
    _, b, _ = load_weight_model(tmp_path / "cut", field)
    for x, y in zip(*(jax.tree_util.tree_leaves(p) for p in (a, b))):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    resumed = json.loads((tmp_path / "cut" / "metrics.json").read_text())
    assert resumed["best_step"] == full["best_step"] and resumed["test_accuracy"] == full["test_accuracy"]
    assert [r["step"] for r in json.loads((tmp_path / "cut" / "history.json").read_text())] == [2, 4, 6, 8]
