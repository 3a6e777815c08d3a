"""Collections: vmap fitting equals single fits, sharding and processes do not
change the weights, the format round-trips and decodes, resume after a kill."""
import json
import os
import socket
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

import inr as inr_api
from safetensors.numpy import load_file

from inr.collections.config import CollectionRunConfig
from inr.collections.fitmany import INITS, fit_many
from inr.collections.format import load_collection, part_path
from inr.collections.idx import read_idx
from inr.rundir import partial_path
from inr.runs import run_config, sampling_for
from inr.errors import InrError
from inr.fields.evaluate import evaluate_grid
from inr.fields.model import build_field
from inr.metrics import psnr
from inr.modalities import MODALITIES
from inr.train.checkpoint import FitState
from inr.train.fit import fit, start_state
from inr.train.optim import make_optimizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIGITS = os.path.join(ROOT, "assets", "mnist-100-images-idx3-ubyte.gz")
CONFIG = os.path.join(ROOT, "inr", "modalities", "defaults", "image-collection.yaml")
SMALL = ["train.steps=10", "train.steps_per_call=5", "collection.chunk_size=4"]


def config(*sets, limit=10) -> CollectionRunConfig:
    return run_config([CONFIG], [*SMALL, *sets], {"input": DIGITS, "collection": {"limit": limit}}, CollectionRunConfig)


def inr(*args, env=None):
    return subprocess.run([sys.executable, "-m", "inr", *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})})


def cli(capsys, *args):
    """Run the CLI in this process (no interpreter start-up): (exit code, stderr)."""
    from inr.cli.main import main

    try:
        code = main([str(a) for a in args])
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr().err


def weights(path):
    return load_file(str(path / "weights.safetensors"))["weights"]


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    out = tmp_path_factory.mktemp("coll") / "c"
    fit_many(config("collection.init=random"), out, quiet=True)
    return out


def test_idx_reader_and_labels():
    images = read_idx(DIGITS)
    assert images.shape == (100, 28, 28) and images.dtype == np.uint8
    labels = read_idx(DIGITS.replace("images-idx3", "labels-idx1"))
    assert labels[:5].tolist() == [7, 2, 1, 0, 4]


def test_vmap_fit_equals_fitting_each_field_alone(collection):
    cfg = config("collection.init=random")
    coll = load_collection(collection)
    image = MODALITIES.get("image")
    field = build_field(cfg.model, 2, 1)
    opt = make_optimizer(cfg.train)
    raw = read_idx(DIGITS)
    for j in (0, 7):
        signal = image.from_array(raw[j], f"digit {j}", cfg.data)
        init_key, train_key = jax.random.split(jax.random.PRNGKey(cfg.seed + j))
        params = field.init(init_key)
        state = fit(image.loss(field.apply, cfg.data, cfg.train), FitState(params, opt.init(params)),
                    image.training_data(signal, cfg.data), cfg.train, opt, key=train_key, quiet=True)
        alone = np.asarray(jax.flatten_util.ravel_pytree(state.params)[0])
        np.testing.assert_allclose(coll.weights[j], alone, rtol=1e-4, atol=1e-5)
        assert coll.fields[j]["seed"] == cfg.seed + j


@pytest.mark.parametrize("sampler", [["train.sampler=int", "train.sampler.stages=2"],
                                     pytest.param(["train.sampler=soft_mining", "train.sampler.ramp=5"],
                                                  marks=pytest.mark.slow)], ids=["int", "soft_mining"])
def test_a_sampler_in_a_stack_equals_each_field_fitted_alone(tmp_path, sampler):
    """INT ranks, soft mining moves the samples of, every field of a chunk by its own errors, as one fit would."""
    cfg = config("collection.init=random", *sampler, "train.batch_size=0", limit=4)
    fit_many(cfg, tmp_path / "c", quiet=True)
    coll = load_collection(tmp_path / "c")
    image, field = MODALITIES.get("image"), build_field(cfg.model, 2, 1)
    opt = make_optimizer(cfg.train)
    signal = image.from_array(read_idx(DIGITS)[3], "digit 3", cfg.data)
    data = image.training_data(signal, cfg.data)
    sampling = sampling_for(image, field, cfg, signal, data)
    init_key, train_key = jax.random.split(jax.random.PRNGKey(cfg.seed + 3))
    state = fit(image.loss(field.apply, cfg.data, cfg.train),
                start_state(field.init(init_key), opt, cfg.train, sampling=sampling), data, cfg.train, opt,
                key=train_key, quiet=True, sampling=sampling)
    alone = np.asarray(jax.flatten_util.ravel_pytree(state.params)[0])
    np.testing.assert_allclose(coll.weights[3], alone, rtol=1e-4, atol=1e-5)
    assert not np.allclose(coll.weights[3], weights_without_sampler(cfg, field, image, signal, opt), atol=1e-3)


def weights_without_sampler(cfg, field, image, signal, opt):
    init_key, train_key = jax.random.split(jax.random.PRNGKey(cfg.seed + 3))
    params = field.init(init_key)
    state = fit(image.loss(field.apply, cfg.data, cfg.train), FitState(params, opt.init(params)),
                image.training_data(signal, cfg.data), cfg.train, opt, key=train_key, quiet=True)
    return np.asarray(jax.flatten_util.ravel_pytree(state.params)[0])


def test_manifest_layout_and_records(collection):
    coll = inr_api.load_collection(collection)
    meta = coll.meta
    assert len(coll) == 10 and coll.weights.shape == (10, 1185)
    assert [e["name"] for e in meta["layout"]] == ["mlp.0.W", "mlp.0.b", "mlp.1.W", "mlp.1.b", "mlp.2.W", "mlp.2.b"]
    assert meta["layout"][1] == {"name": "mlp.0.b", "shape": [32], "offset": 64}
    assert meta["normalization"] == {"scale": 2.0, "offset": -1.0}
    assert meta["model"]["activation"] == {"name": "sine", "omega0": 30.0, "first_omega0": 30.0} and meta["signal"]["shape"] == [28, 28]
    assert [f["index"] for f in coll.fields] == list(range(10))
    assert coll.labels.tolist() == read_idx(DIGITS.replace("images-idx3", "labels-idx1"))[:10].tolist()


def test_decoded_fields_match_the_reported_metrics(collection):
    coll = load_collection(collection)
    raw = read_idx(DIGITS)
    norm = coll.meta["normalization"]
    for i in (0, 3, 9):
        out = evaluate_grid(coll.field.apply, coll.params(i), (28, 28))
        recon = (out - norm["offset"]) / norm["scale"]
        assert abs(psnr(recon, raw[i][..., None] / 255.0) - coll.fields[i]["metrics"]["psnr"]) < 1e-2
    stacked = coll.stacked_params([2, 5])
    np.testing.assert_array_equal(np.asarray(stacked["mlp"][1]["W"][1]), np.asarray(coll.params(5)["mlp"][1]["W"]))


def test_init_modes():
    cfg = config()
    field = build_field(cfg.model, 2, 1)
    leaf = lambda p, i: np.asarray(p["mlp"][1]["W"][i])  # noqa: E731
    shared = INITS.get("shared")(field, cfg)([0, 1, 2, 3], [0, 0, 0, 1])
    assert np.array_equal(leaf(shared, 0), leaf(shared, 2))
    assert not np.array_equal(leaf(shared, 0), leaf(shared, 3))
    rand = INITS.get("random")(field, cfg)([0, 1], [0, 0])
    assert not np.array_equal(leaf(rand, 0), leaf(rand, 1))
    alone = field.init(jax.random.split(jax.random.PRNGKey(cfg.seed + 1))[0])
    assert np.array_equal(leaf(rand, 1), np.asarray(alone["mlp"][1]["W"]))
    with pytest.raises(InrError, match="init_field"):
        INITS.get("field")(field, cfg)


def test_init_from_a_fitted_field_and_k_fits(tmp_path):
    run = tmp_path / "run"
    from inr.fields.io import save_field

    cfg = config()
    field = build_field(cfg.model, 2, 1)
    start = field.init(jax.random.PRNGKey(42))
    run.mkdir()
    save_field(run, field, start, {"modality": "image"})
    out = tmp_path / "c"
    fit_many(config("collection.init=field", f"collection.init_field={run}", "collection.fits_per_signal=2",
                    "train.steps=1", "train.lr=1e-9"), out, quiet=True)
    coll = load_collection(out)
    assert len(coll) == 20 and [f["fit"] for f in coll.fields[:4]] == [0, 1, 0, 1]
    assert coll.fields[0]["source"] == coll.fields[1]["source"]
    flat = np.asarray(jax.flatten_util.ravel_pytree(start)[0])
    np.testing.assert_allclose(coll.weights[5], flat, atol=1e-6)


def test_four_devices_give_the_same_weights_as_one(tmp_path, collection):
    args = ["--config", CONFIG, *sum((["--set", s] for s in SMALL), []), "--set", "collection.init=random",
            "--limit", "10"]
    out = tmp_path / "d4"
    proc = inr("fit-many", DIGITS, *args, "--out", out, env={"XLA_FLAGS": "--xla_force_host_platform_device_count=4"})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1])["devices"] == 4  # the summary line
    np.testing.assert_allclose(weights(out), weights(collection), rtol=1e-5, atol=1e-5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.mark.slow  # about 20 s: two processes and a coordinator
def test_two_processes_give_the_same_collection_as_one(tmp_path, collection):
    out = tmp_path / "mp"
    port = _free_port()
    args = ["--config", CONFIG, *sum((["--set", s] for s in SMALL), []), "--set", "collection.init=random",
            "--limit", "10", "--quiet", "--cpu-devices", "1", "--coordinator", f"localhost:{port}",
            "--num-processes", "2"]
    procs = [subprocess.Popen([sys.executable, "-m", "inr", "fit-many", DIGITS, *args, "--process-id", str(i),
                               "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for i in (0, 1)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    np.testing.assert_array_equal(weights(out), weights(collection))
    a = json.loads((out / "collection.json").read_text())["fields"]
    b = json.loads((collection / "collection.json").read_text())["fields"]
    assert [f["source"] for f in a] == [f["source"] for f in b]


def test_interrupted_run_resumes_to_the_uninterrupted_collection(tmp_path, monkeypatch):
    from inr.collections import fitmany as fm

    cfg = run_config([CONFIG], ["train.steps=20", "collection.chunk_size=2"],
                          {"input": DIGITS, "collection": {"limit": 6}}, CollectionRunConfig)
    full = tmp_path / "full"
    fit_many(cfg, full, quiet=True)
    real, fitted = fm._fit_chunk, []

    def stop_at_chunk_2(c, *args, **kwargs):
        if c == 2:
            raise KeyboardInterrupt
        fitted.append(c)
        return real(c, *args, **kwargs)

    monkeypatch.setattr(fm, "_fit_chunk", stop_at_chunk_2)
    with pytest.raises(KeyboardInterrupt):
        fit_many(cfg, tmp_path / "cut", quiet=True)
    assert fitted == [0, 1] and not (tmp_path / "cut" / "weights.safetensors").exists()
    monkeypatch.setattr(fm, "_fit_chunk", lambda c, *a, **k: (fitted.append(c), real(c, *a, **k)))
    fit_many(cfg, tmp_path / "cut", resume=True, quiet=True)
    assert fitted == [0, 1, 2]  # finished parts are not refitted
    np.testing.assert_array_equal(weights(tmp_path / "cut"), weights(full))


@pytest.mark.slow  # about 40 s: kills a CLI process mid-run
def test_killed_run_resumes_to_the_uninterrupted_collection(tmp_path):
    sets = ["train.steps=60", "collection.chunk_size=2"]
    args = ["--config", CONFIG, *sum((["--set", s] for s in sets), []), "--limit", "8", "--quiet", "--cpu-devices", "1"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "inr", "fit-many", DIGITS, *args, "--out", str(killed)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    building = partial_path(killed)  # an unfinished collection is built under a temporary name
    while not part_path(building, 1).is_file() and time.time() < deadline:
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    assert part_path(building, 1).is_file() and not killed.exists() and not (building / "weights.safetensors").exists()
    resumed = inr("fit-many", DIGITS, "--out", killed, "--resume", "--quiet", "--cpu-devices", "1")
    assert resumed.returncode == 0, resumed.stderr
    full = tmp_path / "full"
    fit_many(run_config([CONFIG], sets, {"input": DIGITS, "collection": {"limit": 8}},
                             CollectionRunConfig), full, quiet=True)
    np.testing.assert_array_equal(weights(killed), weights(full))
    records = json.loads((killed / "collection.json").read_text())["fields"]
    assert [f["index"] for f in records] == list(range(8))


def test_render_collection_grid(collection, tmp_path, capsys):
    import imageio.v3 as iio

    out = tmp_path / "grid.png"
    code, err = cli(capsys, "render-collection", collection, "--out", out, "--indices", "0-3,5", "--columns", "5")
    assert code == 0, err
    assert iio.imread(out).shape[:2] == (28, 5 * 28 + 4)


def _assert_user_error(result, fragment):
    code, err = result
    assert code == 2, err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and fragment in lines[0], err


def test_corrupt_weights_and_disagreeing_manifest(collection, tmp_path, capsys):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(collection, bad)
    data = (bad / "weights.safetensors").read_bytes()
    (bad / "weights.safetensors").write_bytes(data[: len(data) // 2])
    _assert_user_error(cli(capsys, "render-collection", bad, "--out", tmp_path / "x.png"), "weights.safetensors")
    assert not (tmp_path / "x.png").exists()
    shutil.copy(collection / "weights.safetensors", bad / "weights.safetensors")
    meta = json.loads((bad / "collection.json").read_text())
    meta["count"] = 11
    (bad / "collection.json").write_text(json.dumps(meta))
    _assert_user_error(cli(capsys, "render-collection", bad, "--out", tmp_path / "x.png"), "disagree")
    (bad / "collection.json").write_text("{not json")
    _assert_user_error(cli(capsys, "render-collection", bad, "--out", tmp_path / "x.png"), "collection.json")


def test_bad_sources(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    _assert_user_error(cli(capsys, "fit-many", empty, "--out", tmp_path / "o"), "no image files")
    sizes = tmp_path / "sizes"
    sizes.mkdir()
    import imageio.v3 as iio

    iio.imwrite(sizes / "a.png", np.zeros((8, 8), np.uint8))
    iio.imwrite(sizes / "b.png", np.zeros((9, 8), np.uint8))
    _assert_user_error(cli(capsys, "fit-many", sizes, "--set", "train.steps=2", "--out", tmp_path / "o2", "--quiet"),
                       "data.resize")
    trunc = tmp_path / "t-images-idx3-ubyte"
    trunc.write_bytes(read_idx(DIGITS).tobytes()[:100])
    _assert_user_error(cli(capsys, "fit-many", trunc, "--out", tmp_path / "o3"), "IDX")
