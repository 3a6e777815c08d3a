import json
import os

import numpy as np
import pytest
import soundfile as sf

from inr.cli.main import main
from inr.errors import InrError
from inr.modalities.audio import AudioDataConfig, AudioModality, snr_db
from inr.modalities.audio_io import load_audio, write_audio
from inr.nn.activations import activation_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BACH = os.path.join(ROOT, "assets", "bach-1s.wav")
AUDIO = AudioModality()


def test_snr_closed_form():
    t = np.array([1.0, -1.0, 1.0, -1.0])
    assert float(snr_db(t * 0.9, t)) == pytest.approx(10 * np.log10(4 / (4 * 0.01)), rel=1e-5)


def test_stereo_peak_and_excerpt(tmp_path):
    rate = 8000
    t = np.arange(rate) / rate
    stereo = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.25 * np.sin(2 * np.pi * 220 * t)], axis=1)
    path = tmp_path / "s.flac"
    sf.write(path, stereo, rate, subtype="PCM_24")
    sig = AUDIO.load(path, AudioDataConfig(start=0.25, duration=0.5))
    assert sig.samples.shape == (4000, 2) and sig.rate == rate
    assert AUDIO.out_dim(sig) == 2
    assert sig.peak == pytest.approx(0.5, abs=1e-4)
    assert np.max(np.abs(sig.samples)) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(sig.samples[:, 1] * sig.peak, stereo[2000:6000, 1], atol=1e-5)
    data = AUDIO.training_data(sig, AudioDataConfig())
    coords = np.asarray(data["coords"])
    assert coords.shape == (4000, 1) and -1 < coords.min() < coords.max() < 1


def test_write_round_trip(tmp_path):
    x = np.linspace(-1, 1, 100, dtype=np.float32)[:, None]
    write_audio(tmp_path / "a.wav", x, 16000, "FLOAT")
    y, rate, subtype = load_audio(tmp_path / "a.wav")
    assert rate == 16000 and subtype == "FLOAT"
    np.testing.assert_array_equal(x, y)
    with pytest.raises(InrError, match="unsupported audio suffix"):
        write_audio(tmp_path / "a.mp4", x, 16000)


@pytest.mark.parametrize("content,match", [(b"RIFF nonsense", "cannot read as audio"), (b"", "cannot read as audio")])
def test_bad_audio(tmp_path, content, match):
    path = tmp_path / "x.wav"
    path.write_bytes(content)
    with pytest.raises(InrError, match=match):
        load_audio(path)
    with pytest.raises(InrError, match="nope.wav: file not found"):
        load_audio(tmp_path / "nope.wav")


def test_excerpt_past_the_end():
    with pytest.raises(InrError, match="fewer than 2 samples"):
        AUDIO.load(BACH, AudioDataConfig(start=5.0))


def test_fit_render_cli(tmp_path, capsys):
    out = tmp_path / "run"
    sets = ["data.duration=0.05", "train.steps=300", "train.steps_per_call=100", "train.lr=3e-4",
            "model.hidden_width=64", "model.hidden_layers=2"]
    args = ["fit", "audio", BACH, "--config", os.path.join(ROOT, "configs", "audio", "siren.yaml"),
            "--out", str(out), "--quiet"]
    assert main(args + [a for s in sets for a in ("--set", s)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["snr"] > 27  # 2,205 samples, 300 steps: 29.9 dB on a 2-core AMD EPYC; unfitted ~0 dB
    recon, rate, _ = load_audio(out / "reconstruction.wav")
    assert rate == 44100 and recon.shape == (2205, 1)
    assert (out / "comparison.png").stat().st_size > 0
    assert main(["render", str(out), "--out", str(tmp_path / "8k.wav"), "--rate", "8000", "--quiet"]) == 0
    low, rate, _ = load_audio(tmp_path / "8k.wav")
    assert rate == 8000 and low.shape == (400, 1)
    assert main(["render", str(out), "--out", str(tmp_path / "x.png"), "--size", "4x4"]) == 2
    assert "--size does not apply to audio runs" in capsys.readouterr().err


@pytest.mark.parametrize("samples,match", [(np.zeros((100, 1)), "silent"), (np.zeros((0, 1)), "0 samples")])
def test_silent_or_empty_clip_is_a_clean_cli_error(tmp_path, capsys, samples, match):
    path = tmp_path / "quiet.wav"
    sf.write(path, samples, 8000)
    out = tmp_path / "run"
    assert main(["fit", "audio", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "quiet.wav" in err and match in err and len(err.strip().splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())


def _sine_field(out_dim=1, seed=0, n=3):
    """A small SIREN and ``n`` random weight vectors for it."""
    import jax

    from inr.fields.layout import flatten
    from inr.fields.model import build_field
    from inr.fields.spec import ModelConfig

    field = build_field(ModelConfig(activation=activation_config("sine"), init="siren", hidden_width=8, hidden_layers=1,
                                    output_activation="identity", **_identity()), 1, out_dim)
    weights = np.stack([np.asarray(flatten(field.init(jax.random.PRNGKey(seed + i)))) for i in range(n)])
    return field, weights


def _identity():
    from inr.nn.encodings import EncodingConfig

    return {"encoding": EncodingConfig(name="identity")}


def test_comparable_waveforms_are_each_field_on_the_clip_grid():
    import jax

    from inr.fields.layout import unflatten
    from inr.metrics import pairwise_l2

    field, weights = _sine_field(out_dim=2)
    meta = {"signal": {"samples": 50, "rate": 100, "seconds": 0.5, "channels": 2}}
    items = AUDIO.comparable(field, weights, meta)
    assert items.shape == (3, 100)
    template = field.init(jax.random.PRNGKey(0))
    for w, item in zip(weights, items):
        wave, _ = AUDIO.decode(field.apply, unflatten(w, template), meta)
        np.testing.assert_allclose(item, wave.reshape(-1), atol=1e-5)
    np.testing.assert_allclose(AUDIO.distance(items, items[:1]), pairwise_l2(items, items[:1]))


def test_render_many_draws_each_waveform(tmp_path):
    import imageio.v3 as iio

    from inr.modalities.audio import waveform_tile

    silence, loud = waveform_tile(np.zeros((400, 1)), 32, 40), waveform_tile(np.ones((400, 1)), 32, 40)
    assert (silence[:, :, 0] < 1).sum(axis=0).tolist() == [1] * 40  # one dark pixel per column, mid-height
    assert np.all(silence[16, :, 0] < 1) or np.all(silence[15, :, 0] < 1)
    assert np.all(loud[0, :, 0] < 1) and np.all(loud[-1, :, 0] == 1)  # at the top edge
    swing = np.tile([[1.0], [-1.0]], (200, 1))
    assert np.all(waveform_tile(swing, 32, 40)[:, :, 0] < 1)  # full range in every column
    field, weights = _sine_field(n=4)
    import jax

    from inr.fields.layout import unflatten

    template = field.init(jax.random.PRNGKey(0))
    meta = {"signal": {"samples": 300, "rate": 600, "seconds": 0.5, "channels": 1, "peak": 1.0, "subtype": "FLOAT"}}
    AUDIO.render_many(field.apply, [unflatten(w, template) for w in weights], meta, tmp_path / "g.png",
                      size=(20, 30), columns=2)
    sheet = iio.imread(tmp_path / "g.png")
    assert sheet.shape[:2] == (2 * 20 + 1, 2 * 30 + 1)


def test_idx_source_is_refused_for_audio(tmp_path):
    with pytest.raises(InrError, match="x.idx: IDX files hold images; the audio modality"):
        AUDIO.from_array(np.zeros((4, 4), np.uint8), "x.idx", AudioDataConfig())
