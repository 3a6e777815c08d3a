"""One quality check per modality: the smoke config must really fit."""
import json

from inr.runs import run_config
from inr.runs import fit_run


def test_small_image_past_30_db_in_smoke_config(root, small_image, tmp_path):
    cfg = run_config([f"{root}/configs/smoke.yaml"], [], {"modality": "image", "input": str(small_image)})
    metrics = fit_run(cfg, tmp_path / "run", quiet=True)
    assert metrics["psnr"] > 30.0, metrics
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["psnr"] == metrics["psnr"] and saved["steps"] == cfg.train.steps
    for key in ("psnr", "ssim", "steps", "wall_seconds", "seconds_per_step"):
        assert key in saved
