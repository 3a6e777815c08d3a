"""The CLI end to end (fit -> render -> info) and every bad input."""
import contextlib
import io
import json
import os
import subprocess
import sys
import types

import imageio.v3 as iio
import numpy as np
import pytest

from inr.cli.main import main
from inr.rundir import partial_path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SMOKE = os.path.join(ROOT, "configs", "smoke.yaml")
FAST = ["--set", "train.steps=20", "--set", "train.steps_per_call=10"]


def inr(*args, cwd=None):
    """``inr ARGS`` in this process (no JAX start-up per call): its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(cwd or ROOT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in args])
            except SystemExit as exit_:  # argparse's usage errors and --help
                code = exit_.code or 0
    finally:
        os.chdir(here)
    return types.SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


def assert_user_error(proc, *fragments):
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for frag in fragments:
        assert frag in lines[0], lines[0]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    img = np.zeros((12, 16, 3), np.uint8)
    img[:, :8, 0] = 255
    img[4:, :, 2] = 128
    src = tmp / "img.png"
    iio.imwrite(src, img)
    run = tmp / "run"
    proc = inr("fit", "image", src, "--config", SMOKE, *FAST, "--out", run, "--quiet")
    assert proc.returncode == 0, proc.stderr
    return src, run


def test_fit_writes_all_outputs(fitted):
    _, run = fitted
    for name in ("config.yaml", "field.safetensors", "field.json", "reconstruction.png", "metrics.json",
                 "curve.png", "checkpoint.safetensors"):
        assert (run / name).is_file(), name
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics) >= {"psnr", "ssim", "steps", "wall_seconds", "seconds_per_step"}
    assert metrics["params_per_sample"] == pytest.approx(metrics["param_count"] / (12 * 16))  # per pixel
    assert metrics["bits_per_sample"] == pytest.approx(32 * metrics["param_count"] / (12 * 16))
    assert iio.imread(run / "reconstruction.png").shape == (12, 16, 3)
    assert not [p for p in run.iterdir() if ".tmp" in p.name]
    meta = json.loads((run / "field.json").read_text())
    assert meta["normalization"] == {"scale": 1.0, "offset": 0.0} and meta["format_version"] == 3


def test_render_any_size_and_info(fitted, tmp_path):
    _, run = fitted
    out = tmp_path / "big.png"
    proc = inr("render", run, "--size", "40x30", "--out", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert iio.imread(out).shape == (30, 40, 3)
    same = tmp_path / "same.png"
    assert inr("render", run, "--out", same, "--quiet").returncode == 0
    assert np.array_equal(iio.imread(same), iio.imread(run / "reconstruction.png"))
    info = inr("info", run)
    assert info.returncode == 0, info.stderr
    desc = json.loads(info.stdout)
    assert desc["param_count"] > 0 and desc["metrics"]["steps"] == 20 and desc["model"]["activation"] == {"name": "relu"}


@pytest.mark.slow  # about 20 s; resuming is also covered by tests/train/test_fit.py
def test_resume_continues_to_more_steps(fitted, tmp_path):
    src, _ = fitted
    run = tmp_path / "r"
    assert inr("fit", "image", src, "--config", SMOKE, *FAST, "--out", run, "--quiet").returncode == 0
    # a finished run resumes to the same place
    proc = inr("fit", "image", src, "--out", run, "--resume", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((run / "metrics.json").read_text())["steps"] == 20


def test_existing_rundir_needs_a_flag(fitted):
    src, run = fitted
    before = sorted(p.name for p in run.iterdir())
    assert_user_error(inr("fit", "image", src, "--out", run), str(run), "--overwrite")
    assert sorted(p.name for p in run.iterdir()) == before


def test_missing_file(tmp_path):
    assert_user_error(inr("fit", "image", tmp_path / "nope.png", "--out", tmp_path / "r"), "nope.png", "not found")
    assert not (tmp_path / "r").exists()


def test_not_an_image(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_text("hello")
    assert_user_error(inr("fit", "image", bad, "--out", tmp_path / "r"), "bad.png", "cannot read as an image")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("shape", [(1, 1), (0, 5)])
def test_empty_or_1x1_image(tmp_path, shape):
    path = tmp_path / "tiny.png"
    if shape[0] == 0:
        path.write_bytes(b"")
    else:
        iio.imwrite(path, np.zeros(shape, np.uint8))
    assert_user_error(inr("fit", "image", path, "--out", tmp_path / "r"), "tiny.png")
    assert not (tmp_path / "r").exists()


def test_unknown_config_key_and_model_name(fitted, tmp_path):
    src, _ = fitted
    assert_user_error(inr("fit", "image", src, "--set", "train.learnrate=1", "--out", tmp_path / "r"),
                      "unknown key 'learnrate'", "valid:")
    assert_user_error(inr("fit", "image", src, "--set", "model.activation=swish", "--out", tmp_path / "r"),
                      "unknown activation 'swish'", "relu")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: {encoding: {name: fourier}}\n")
    assert_user_error(inr("fit", "image", src, "--config", cfg, "--out", tmp_path / "r"), "unknown encoding 'fourier'")
    assert not (tmp_path / "r").exists()


def test_malformed_set(fitted, tmp_path):
    src, _ = fitted
    assert_user_error(inr("fit", "image", src, "--set", "train.lr", "--out", tmp_path / "r"), "train.lr",
                      "expected key=value")


def test_corrupt_weight_file(fitted, tmp_path):
    _, run = fitted
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("field.json", "config.yaml"):
        (broken / name).write_text((run / name).read_text())
    (broken / "field.safetensors").write_bytes((run / "field.safetensors").read_bytes()[:100])
    out = tmp_path / "out.png"
    assert_user_error(inr("render", broken, "--out", out), "field.safetensors", "corrupt")
    assert not out.exists() and not list(tmp_path.glob(".out*"))


def test_render_not_a_run_dir(tmp_path):
    assert_user_error(inr("render", tmp_path, "--out", tmp_path / "x.png"), "field.json", "not found")


def test_bad_size(fitted, tmp_path):
    _, run = fitted
    assert_user_error(inr("render", run, "--size", "big", "--out", tmp_path / "x.png"), "--size")


def test_unknown_modality_is_a_usage_error_from_the_installed_command(tmp_path):
    """Through ``python -m inr`` in its own process (the other CLI tests call ``main`` in this one);
    both commands start at once, since each spends seconds importing JAX."""
    procs = [subprocess.Popen([sys.executable, "-m", "inr", "fit", *args, "--out", str(tmp_path / "r")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
             for args in (["video", "x.mp4"], ["image", str(tmp_path / "none.png")])]
    (proc, (_, err)), (missing, (_, missing_err)) = [(p, p.communicate()) for p in procs]
    assert proc.returncode == 2 and "invalid choice: 'video'" in err and "Traceback" not in err
    assert missing.returncode == 2 and missing_err.count("\n") == 1 and "none.png" in missing_err
    assert not (tmp_path / "r").exists()


def checkpoint_step(path):
    from safetensors import safe_open

    try:
        with safe_open(str(path), "np") as f:
            return int(f.metadata()["step"])
    except Exception:
        return -1


@pytest.mark.slow  # about 35 s; resume is also checked in-process by tests/train/test_fit.py
def test_killed_run_resumes_to_the_uninterrupted_result(fitted, tmp_path):
    import time

    from safetensors.numpy import load_file

    src, _ = fitted
    args = ["--config", SMOKE, "--set", "train.steps=3000", "--set", "train.batch_size=64",
            "--set", "train.checkpoint_every=50", "--quiet"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "inr", "fit", "image", str(src), *args, "--out", str(killed)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    building = partial_path(killed)  # an unfinished run is built under a temporary name
    while checkpoint_step(building / "checkpoint.safetensors") <= 0 and time.time() < deadline:
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    step = checkpoint_step(building / "checkpoint.safetensors")
    assert 0 < step < 3000, "the run was not interrupted mid-way"
    assert not killed.exists() and not (building / "field.safetensors").exists()
    resumed = inr("fit", "image", src, "--out", killed, "--resume", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    full = tmp_path / "full"
    assert inr("fit", "image", src, *args, "--out", full).returncode == 0
    a, b = load_file(str(killed / "field.safetensors")), load_file(str(full / "field.safetensors"))
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_divergence_stops_with_exit_3_and_keeps_a_checkpoint(fitted, tmp_path):
    src, _ = fitted
    run = tmp_path / "nan"
    proc = inr("fit", "image", src, "--config", SMOKE, "--set", "train.lr=1e30", "--set", "model.encoding.name=identity",
               "--set", "model.output_activation=identity", *FAST, "--out", run, "--quiet")
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "diverged" in lines[0] and "last good checkpoint" in lines[0]
    kept = partial_path(run)  # the unfinished run stays under its temporary name, resumable
    assert not run.exists() and str(kept / "checkpoint.safetensors") in lines[0]
    assert checkpoint_step(kept / "checkpoint.safetensors") == 0
    assert not (kept / "field.safetensors").exists()


@pytest.mark.slow  # about 30 s; run with pytest -m slow
def test_compare_two_configs(fitted, tmp_path):
    src, _ = fitted
    out = tmp_path / "cmp"
    proc = inr("compare", "image", src, "--config", os.path.join(ROOT, "configs", "image", "siren.yaml"),
               "--config", os.path.join(ROOT, "configs", "image", "hash.yaml"), "--set", "train.steps=10",
               "--set", "train.steps_per_call=5", "--set", "data.resize=null", "--out", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    table = (out / "compare.md").read_text().splitlines()
    assert len(table) == 4 and table[2].startswith("| siren | img.png |") and table[3].startswith("| hash |")
    assert "| param_count | params_per_sample | bits_per_sample |" in table[0]
    assert (out / "compare.png").is_file() and (out / "hash" / "img" / "field.json").is_file()
    assert_user_error(inr("compare", "image", src, "--config", tmp_path / "nope.yaml", "--out", tmp_path / "cmp2"),
                      "nope.yaml")


def test_model_flag_picks_the_variant_that_set_keys_then_tune(tmp_path, monkeypatch):
    """``--model NAME --set model.KEY=V``: the keys tune the model named, in
    either order, and a config file's other model gives way to the flag."""
    seen = []
    monkeypatch.setattr("inr.weightspace.runs.train_run", lambda cfg, *a, **k: seen.append(cfg.model) or {})
    other = tmp_path / "other.yaml"
    other.write_text("model:\n  name: ng_gnn\n  channels: 8\n")
    for args in (["--model", "dws", "--set", "model.probes=0"], ["--set", "model.probes=0", "--model", "dws"],
                 ["--config", str(other), "--model", "dws", "--set", "model.probes=0"]):
        assert inr("weights", "train", str(tmp_path), *args, "--out", str(tmp_path / "r"), "--quiet").returncode == 0
        assert (seen[-1].name, seen[-1].probes, seen[-1].channels) == ("dws", 0, 16), (args, seen[-1])
