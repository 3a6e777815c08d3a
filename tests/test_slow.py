"""Longer quality checks: ``pytest -m slow``."""
import os

import pytest

from inr.runs import run_config
from inr.runs import fit_run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_siren_colab_protocol_reaches_35_db(tmp_path):
    cfg = run_config([f"{ROOT}/configs/image/siren.yaml"], [],
                          {"modality": "image", "input": f"{ROOT}/assets/cameraman.png"})
    metrics = fit_run(cfg, tmp_path / "siren", quiet=True)
    assert metrics["psnr"] >= 35.0, metrics
