"""Every modality runs with no --config (its built-in default), and no failure leaves a half-made output."""
import json
from pathlib import Path

import numpy as np
import pytest

from inr.cli.main import main
from inr.collections.config import CollectionRunConfig
from inr.config import RunConfig, merged, resolve
from inr.modalities import MODALITIES
from inr.plots import audio_png
from inr.runs import data_config_for, run_config
from inr.schema import to_dict
from tests.conftest import assert_default_recorded

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
TINY = {"image": ["data.resize=[64,64]", "train.steps=20", "train.steps_per_call=10"]}  # the default's model, for seconds


def _differences(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in set(a) | set(b) for d in _differences(a.get(k), b.get(k), f"{path}.{k}")]
    return [] if a == b else [path]


@pytest.mark.parametrize("config", sorted(str(p.relative_to(ROOT)) for p in (ROOT / "configs").glob("*/*.yaml")
                                          if p.parent.name in ("image", "audio", "sdf", "collections")))
def test_shipped_configs_do_not_depend_on_the_default_below_them(config):
    """A model config names every key that matters, so applying it over the
    modality's default gives the run it gave over the dataclass defaults."""
    kind = Path(config).parent.name
    cls, over = (CollectionRunConfig, {"input": "x"}) if kind == "collections" else (RunConfig, {"modality": kind})
    over = {**over, "input": "x"}
    layered = to_dict(run_config([ROOT / config], [], over, cls))
    alone = to_dict(resolve(merged([ROOT / config], [], over), data_config_for, cls))
    diffs = _differences(layered, alone)
    if layered["train"]["schedule"] == "constant":  # a constant schedule never reads decay_rate
        diffs = [d for d in diffs if d != ".train.decay_rate"]
    assert diffs == []


def test_the_default_is_the_base_and_a_renamed_encoding_replaces_it():
    cfg = run_config([], ["model.encoding.name=nerf"], {"modality": "audio", "input": "x"})
    assert cfg.model.encoding.name == "nerf"  # no hash keys carried over into the Fourier encoding
    assert cfg.train.batch_size == 16384  # the audio default's, not the dataclass's 0
    assert run_config([], [], {"modality": "sdf", "input": "x"}).train.batch_size > 0


def test_the_image_default_fits_the_bundled_photo_sized_to_it(tmp_path):
    """The no-config image run (sdf's: tests/modalities/test_sdf.py; audio's: below)."""
    out = tmp_path / "run"
    args = ["fit", "image", str(ASSETS / "cameraman.png"), "--out", str(out), "--quiet", "--set", "data.resize=[64,64]"]
    assert main(args) == 0  # its 1,000 steps: seconds at 64²
    assert_default_recorded(out, "image")
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["psnr"] > 24.0  # 26.0 dB (16.8 after 200 steps); 43.0 at 128², 41.6 at 512²
    # the field it chose is the one saved: 8 levels of 219 rows x 2 + 16-32-1 = 4,081
    field = json.loads((out / "field.json").read_text())
    assert field["model"]["encoding"]["table_size"] == 219
    assert metrics["param_count"] == 4081 and metrics["params_per_sample"] == pytest.approx(4081 / 64**2)


def test_audio_default_on_speech_it_was_not_tuned_on(tmp_path):
    """The audio default (tuned on Bach) on a second of speech: 100 steps give
    34.7 dB (300: 61.0) on a 2-core AMD EPYC."""
    out = tmp_path / "speech"
    assert main(["fit", "audio", str(ASSETS / "counting-1s.wav"), "--out", str(out), "--quiet",
                 "--set", "train.steps=100"]) == 0
    assert json.loads((out / "metrics.json").read_text())["snr"] > 30.0
    assert_default_recorded(out, "audio")


@pytest.mark.slow
def test_sdf_default_on_a_mesh_it_was_not_tuned_on(tmp_path):
    out = tmp_path / "cow"
    assert main(["fit", "sdf", str(ASSETS / "cow.obj"), "--out", str(out), "--quiet"]) == 0
    assert json.loads((out / "metrics.json").read_text())["iou"] > 0.97


@pytest.mark.parametrize("fit", [np.zeros((2000, 1)), np.full((2000, 1), 0.25), np.zeros((5, 1))])
def test_the_audio_comparison_draws_silent_constant_and_tiny_fits(fit, tmp_path):
    target = np.sin(np.linspace(0, 200, len(fit)))[:, None]
    audio_png(target, fit, 22050, tmp_path / "c.png")  # silence gave vmax = -inf < vmin before
    assert (tmp_path / "c.png").stat().st_size > 0


def test_a_silent_clip_is_refused_before_any_output(tmp_path, capsys):
    from scipy.io import wavfile

    wavfile.write(tmp_path / "silence.wav", 8000, np.zeros(800, np.int16))
    out = tmp_path / "run"
    _fails_cleanly(["fit", "audio", str(tmp_path / "silence.wav"), "--out", str(out), "--quiet"], out, capsys)


# -- the failure path of every verb: exit 2, one line on stderr, no output left behind

def _bad_folder(tmp_path, kind):
    import imageio.v3 as iio

    folder = tmp_path / "source"
    folder.mkdir()
    iio.imwrite(folder / "a.png", np.zeros((8, 8), np.uint8))
    if kind == "mixed":
        iio.imwrite(folder / "b.png", np.zeros((9, 8), np.uint8))
    else:
        (folder / "b.png").write_bytes(b"not a png")
    return folder


def _fails_cleanly(args, out, capsys):
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("inr: error:") and "\n" not in err, err
    assert not out.exists()
    assert not any(p.name.startswith(f".{out.name}.") for p in out.parent.iterdir())  # no partial


def test_fit_bad_input(tmp_path, capsys):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    out = tmp_path / "run"
    _fails_cleanly(["fit", "image", str(tmp_path / "broken.png"), "--out", str(out)], out, capsys)


def test_compare_bad_input(tmp_path, capsys):
    out = tmp_path / "cmp"
    _fails_cleanly(["compare", "audio", str(ASSETS / "bach-1s.wav"), str(tmp_path / "missing.wav"),
                    "--out", str(out)], out, capsys)


@pytest.mark.parametrize("kind", ["mixed", "corrupt"])
def test_fit_many_bad_folder(kind, tmp_path, capsys):
    out = tmp_path / "coll"
    _fails_cleanly(["fit-many", str(_bad_folder(tmp_path, kind)), "--out", str(out), "--quiet"], out, capsys)


def test_meta_init_bad_folder(tmp_path, capsys):
    out = tmp_path / "meta"
    _fails_cleanly(["meta-init", str(_bad_folder(tmp_path, "corrupt")), "--out", str(out), "--quiet"], out, capsys)


@pytest.mark.parametrize("verb", [["weights", "train"], ["diffusion", "train"]])
def test_training_on_something_that_is_not_a_collection(verb, tmp_path, capsys):
    out = tmp_path / "model"
    _fails_cleanly([*verb, str(ASSETS), "--out", str(out), "--quiet"], out, capsys)


def test_sampling_from_something_that_is_not_a_diffusion_run(tmp_path, capsys):
    out = tmp_path / "samples"
    _fails_cleanly(["diffusion", "sample", str(ASSETS), "--out", str(out)], out, capsys)


def test_render_collection_of_something_that_is_not_a_collection(tmp_path, capsys):
    out = tmp_path / "grid.png"
    _fails_cleanly(["render-collection", str(ASSETS), "--out", str(out)], out, capsys)


@pytest.mark.parametrize("verb", [["fit", "image", "cameraman.png"], ["compare", "image", "cameraman.png"],
                                  ["fit-many", "mnist-100-images-idx3-ubyte.gz"],
                                  ["meta-init", "mnist-100-images-idx3-ubyte.gz"],
                                  ["weights", "train", "."], ["diffusion", "train", "."]],
                         ids=lambda v: " ".join(v[:2]))
def test_an_unknown_train_key_is_one_line_on_every_verb(verb, tmp_path, capsys):
    """The same ``train:`` section everywhere: an unknown key names itself and the valid ones."""
    *words, source = verb
    out = tmp_path / "out"
    _fails_cleanly([*words, str(ASSETS / source), "--set", "train.nope=1", "--out", str(out), "--quiet"], out, capsys)
    assert main([*words, str(ASSETS / source), "--set", "train.nope=1", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "'nope'" in err and "lr" in err and "steps" in err, err


def test_fit_many_infers_the_modality_of_a_folder(tmp_path):
    from inr.collections.sources import source_modality

    folder = tmp_path / "clips"
    folder.mkdir()
    (folder / "a.wav").write_bytes(b"")
    (folder / "notes.txt").write_text("x")
    modalities = [MODALITIES.get(n) for n in MODALITIES.names()]
    assert source_modality(folder, modalities) == "audio"
    assert source_modality(ASSETS / "mnist-100-images-idx3-ubyte.gz", modalities) == "image"


def test_interrupt_before_the_first_checkpoint_leaves_nothing(tmp_path, monkeypatch, capsys):
    import inr.runs

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(inr.runs, "fit", interrupted)
    out = tmp_path / "run"
    assert main(["fit", "image", str(ASSETS / "cameraman.png"), "--out", str(out), "--quiet",
                 *[a for s in TINY["image"] for a in ("--set", s)]]) == 130
    assert list(tmp_path.iterdir()) == []
