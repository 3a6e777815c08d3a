"""Every shipped config loads and runs a few steps on a tiny image."""
import glob
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
from inr.collections.config import CollectionRunConfig
from inr.collections.fitmany import fit_many
from inr.collections.format import load_collection
from inr.config import load_run_config
from inr.runs import data_config_for, fit_run

DIGITS = os.path.join(ROOT, "assets", "mnist-100-images-idx3-ubyte.gz")

CONFIGS = sorted(glob.glob(os.path.join(ROOT, "configs", "**", "*.yaml"), recursive=True))


def test_configs_exist():
    names = {os.path.relpath(c, ROOT) for c in CONFIGS}
    assert {"configs/image/siren.yaml", "configs/image/ffn_gauss.yaml", "configs/image/ffn_pe.yaml",
            "configs/smoke.yaml"} <= names


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: os.path.relpath(c, ROOT))
def test_config_runs_a_few_steps(config, small_image, tmp_path):
    if os.sep + "collections" + os.sep in config:
        sets = ["train.steps=4", "train.steps_per_call=2", "collection.limit=3"]
        cfg = load_run_config([config], sets, {"input": DIGITS}, data_config_for, CollectionRunConfig)
        fit_many(cfg, tmp_path / "coll", quiet=True)
        assert len(load_collection(tmp_path / "coll")) == 3
        return
    files = [config, os.path.join(ROOT, "configs", "smoke.yaml")]
    sets = ["train.steps=4", "train.steps_per_call=2", "data.resize=[16, 16]"]
    cfg = load_run_config(files, sets, {"modality": "image", "input": str(small_image)}, data_config_for)
    metrics = fit_run(cfg, tmp_path / "run", quiet=True)
    assert metrics["steps"] == 4
    assert metrics["psnr"] > 0
