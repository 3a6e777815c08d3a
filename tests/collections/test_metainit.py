"""meta-init: the learned init fits better in the collection's own few steps,
fit-many from its collection.yaml runs exactly the inner loop it learned
through, the lr moves only when asked, resume, and user errors."""
import os

import jax
import numpy as np
import pytest

from inr.collections.config import CollectionRunConfig
from inr.collections.fitmany import fit_many
from inr.collections.format import load_collection
from inr.collections import metainit
from inr.collections.metainit import COLLECTION_CONFIG, make_adapt, meta_init
from inr.collections.sources import list_items
from inr.runs import run_config
from inr.fields.io import load_field
from inr.fields.layout import flatten
from inr.modalities import MODALITIES
from tests.conftest import interrupt_fit

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIGITS = os.path.join(ROOT, "assets", "mnist-100-images-idx3-ubyte.gz")
CONFIG = os.path.join(ROOT, "configs", "collections", "mnist_meta.yaml")
SMALL = ["train.steps=3", "train.steps_per_call=3", "collection.meta.train.steps=60", "collection.meta.batch_size=8",
         "collection.meta.train.steps_per_call=20", "collection.meta.train.checkpoint_every=20", "collection.meta.train.lr=3e-3"]


def config(*sets, limit=64) -> CollectionRunConfig:
    return run_config([CONFIG], [*SMALL, *sets], {"input": DIGITS, "collection": {"limit": limit}}, CollectionRunConfig)


@pytest.fixture(scope="module")
def learned(tmp_path_factory):
    out = tmp_path_factory.mktemp("meta") / "init"
    return out, meta_init(config(), out, quiet=True)


def test_learned_init_fits_better_in_the_same_steps(learned):
    _, summary = learned
    assert summary["outer_steps"] == 60
    assert summary["learned_init"]["psnr_fitted"] > summary["random_init"]["psnr_fitted"] + 1.0
    assert summary["lr"] != pytest.approx(3e-4, rel=1e-6)  # learned beside the init


def test_fit_many_from_its_config_runs_the_inner_loop_it_learned_through(learned, tmp_path):
    out, summary = learned
    cfg = run_config([out / COLLECTION_CONFIG], [], {"collection": {"limit": 3}},
                          CollectionRunConfig)
    assert cfg.collection.init == "field" and cfg.train.lr == pytest.approx(summary["lr"])
    fit_many(cfg, tmp_path / "coll", quiet=True)
    coll = load_collection(tmp_path / "coll")
    field, init, _ = load_field(out)
    modality = MODALITIES.get("image")
    item = list_items(DIGITS, modality, cfg.data, 1)[0]
    data = modality.training_data(item.load(), cfg.data)
    adapt = make_adapt(modality.loss(field.apply, cfg.data, cfg.train), cfg.train)
    alone = adapt(init, np.log(np.float32(cfg.train.lr)), data, jax.random.PRNGKey(0))
    np.testing.assert_allclose(coll.weights[0], np.asarray(flatten(alone)), atol=2e-5)
    assert coll.fields[0]["metrics"]["psnr"] > summary["random_init"]["psnr_fitted"]


def test_lr_stays_unless_learned(tmp_path):
    summary = meta_init(config("collection.meta.learn_lr=false", "collection.meta.train.steps=20", limit=16),
                        tmp_path / "m", quiet=True)
    assert summary["lr"] == pytest.approx(3e-4, rel=1e-6)


# the outer loop is the one training loop, whose resume is tested bit for bit in tests/train/test_fit.py and
# through fit-many's run directories in tests/collections/test_collections.py
@pytest.mark.slow
def test_interrupted_meta_init_resumes_to_the_uninterrupted_init(tmp_path, monkeypatch):
    cfg = config("collection.meta.train.steps=40", limit=16)
    meta_init(cfg, tmp_path / "full", quiet=True)
    undo = interrupt_fit(monkeypatch, metainit, at=20)
    with pytest.raises(KeyboardInterrupt):
        meta_init(cfg, tmp_path / "cut", quiet=True)
    assert not (tmp_path / "cut" / "field.safetensors").exists()
    undo()
    meta_init(cfg, tmp_path / "cut", resume=True, quiet=True)
    _, a, _ = load_field(tmp_path / "full")
    _, b, _ = load_field(tmp_path / "cut")
    np.testing.assert_array_equal(np.asarray(flatten(a)), np.asarray(flatten(b)))


def test_user_errors_exit_2_without_an_output(tmp_path, capsys):
    from inr.cli.main import main

    def run(*args):
        try:
            return main([str(a) for a in args])
        except SystemExit as exit_:
            return exit_.code

    for sets, message in ((["train.steps=500"], "at most 100 steps"),
                          (["collection.meta.batch_size=0"], "batch_size"),
                          (["collection.meta.batch_size=64"], "fewer than collection.meta.batch_size")):
        out = tmp_path / "o"
        args = ["meta-init", DIGITS, "--config", CONFIG, "--limit", "10", "--out", out, "--quiet"]
        assert run(*args, *[a for s in sets for a in ("--set", s)]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
        assert not out.exists()
    assert run("meta-init", DIGITS, "--out", tmp_path / "none", "--resume") == 2
    assert "nothing to resume" in capsys.readouterr().err
