"""Every shipped config loads and runs a few steps on a tiny image."""
import glob
import os
import shutil

import numpy as np
import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
from inr.collections.config import CollectionRunConfig
from inr.collections.fitmany import fit_many
from inr.collections.format import load_collection
from inr.diffusion.train import DiffusionConfig, check_config
from inr.runs import fit_run, run_config
from inr.schema import to_dict
from inr.weightspace.train import WeightTrainConfig, check_config as check_weights

DIGITS = os.path.join(ROOT, "assets", "mnist-100-images-idx3-ubyte.gz")
# the folder under configs/ names the modality; a tiny input and settings for each
SIGNALS = {
    "audio": (os.path.join(ROOT, "assets", "bach-1s.wav"), ["data.duration=0.02", "train.batch_size=256",
                                                           "model.encoding.hash.levels=4",
                                                           "model.encoding.hash.log2_table_size=10"]),
    "sdf": (os.path.join(ROOT, "assets", "suzanne.obj"),
            ["data.samples=2000", "data.surface_points=2000", "data.eval_points=1000", "data.resolution=16",
             "data.metric_points=1000", "data.iou_resolution=16", "data.preview=16", "train.batch_size=256",
             "model.encoding.hash.log2_table_size=10", "model.encoding.hash.levels=4", "model.hidden_width=32"]),
}

def assert_applied(raw: dict, resolved: dict, where: str = "") -> None:
    """Every key the file sets has its value in the resolved config (no key dropped or renamed)."""
    for key, value in raw.items():
        assert key in resolved, f"{where}{key} is not in the resolved config"
        if isinstance(value, dict):
            assert_applied(value, resolved[key], f"{where}{key}.")
        else:
            assert resolved[key] == value, f"{where}{key}: file {value!r}, resolved {resolved[key]!r}"


RESOLVED_ONLY = {"diffusion": (DiffusionConfig, check_config), "weights": (WeightTrainConfig, check_weights)}
"""configs/ folders whose runs other tests train: their configs are resolved and checked here"""

CONFIGS = sorted(glob.glob(os.path.join(ROOT, "configs", "**", "*.yaml"), recursive=True))


def test_configs_exist():
    names = {os.path.relpath(c, ROOT) for c in CONFIGS}
    assert {"configs/image/siren.yaml", "configs/image/ffn_gauss.yaml", "configs/image/ffn_pe.yaml",
            "configs/smoke.yaml"} <= names


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: os.path.relpath(c, ROOT))
def test_config_runs_a_few_steps(config, small_image, tmp_path):
    folder = os.path.basename(os.path.dirname(config))
    if folder in RESOLVED_ONLY:  # trained by tests/diffusion and tests/weightspace; here: it resolves
        cls, check = RESOLVED_ONLY[folder]
        cfg = run_config([config], [], {}, cls)
        check(cfg)  # a setting the run cannot use raises
        assert_applied(yaml.safe_load(open(config)), to_dict(cfg))
        return
    if os.sep + "collections" + os.sep in config:
        sets = ["train.steps=4", "train.steps_per_call=2", "collection.limit=2"]
        modality = yaml.safe_load(open(config)).get("modality", "image")
        if modality == "sdf":  # a folder of two meshes
            folder = tmp_path / "meshes"
            folder.mkdir()
            for name in ("a.obj", "b.obj"):
                shutil.copy(SIGNALS["sdf"][0], folder / name)
            signal, sets = str(folder), sets + [s for s in SIGNALS["sdf"][1] if "encoding" not in s]
        else:
            signal = DIGITS
        cfg = run_config([config], sets, {"input": signal}, CollectionRunConfig)
        fit_many(cfg, tmp_path / "coll", quiet=True)
        assert len(load_collection(tmp_path / "coll")) == 2
        return
    modality = os.path.basename(os.path.dirname(config))
    files = [config]
    sets = ["train.steps=4", "train.steps_per_call=2"]
    if modality in SIGNALS:
        signal, extra = SIGNALS[modality]
        sets += extra
    else:  # image configs, and smoke.yaml on the default (image) model
        modality, signal = "image", str(small_image)
        files.append(os.path.join(ROOT, "configs", "smoke.yaml"))
        sets.append("data.resize=[16, 16]")
    cfg = run_config(files, sets, {"modality": modality, "input": signal})
    metrics = fit_run(cfg, tmp_path / "run", quiet=True)
    assert metrics["steps"] == 4
    metric = {"image": "psnr", "audio": "snr", "sdf": "iou"}[modality]
    assert np.isfinite(metrics[metric])


def test_smoke_config_shrinks_a_run_of_every_kind():
    """One file for every verb: its kind-named sections apply to that kind of run only."""
    smoke = [os.path.join(ROOT, "configs", "smoke.yaml")]
    fit = run_config(smoke, [], {"modality": "image", "input": "x.png"})
    assert (fit.model.hidden_width, fit.train.steps, fit.model.encoding.levels) == (64, 200, 4)
    many = run_config(smoke, [], {"input": DIGITS}, CollectionRunConfig)
    assert (many.model.hidden_width, many.train.steps, many.collection.meta.train.steps) == (64, 20, 20)
    weights = run_config(smoke, ["model.name=mlp"], {}, WeightTrainConfig)
    assert (weights.model.head, weights.train.steps) == ([32], 60)
    for name in ("nfn_np", "ng_gnn", "ng_t", "scale_gmn"):
        assert run_config(smoke, [f"model.name={name}"], {}, WeightTrainConfig).model.channels == 4
    assert run_config(smoke, ["model.name=ng_t"], {}, WeightTrainConfig).model.heads == 2
    diffusion = run_config(smoke, ["model.name=dws"], {}, DiffusionConfig)
    assert (diffusion.model.channels, diffusion.timesteps, diffusion.train.steps) == (4, 100, 200)
    assert run_config(smoke, [], {}, DiffusionConfig).model.width == 32  # the transformer's own keys


def test_a_kind_section_applies_to_its_kind_only(tmp_path):
    from inr.config import for_kind
    from inr.errors import InrError

    raw = {"train": {"steps": 5, "lr": 1.0}, "weights": {"train": {"steps": 7}}, "diffusion": {"timesteps": 3}}
    assert for_kind(raw, "weights") == {"train": {"steps": 7, "lr": 1.0}}
    assert for_kind(raw, "fit") == {"train": {"steps": 5, "lr": 1.0}}
    (tmp_path / "bad.yaml").write_text("weights: 3\n")
    with pytest.raises(InrError, match="'weights'.*must be a mapping"):
        run_config([tmp_path / "bad.yaml"], [], {}, DiffusionConfig)
