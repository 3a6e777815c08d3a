"""Fit several configs on several signals and tabulate the results (``inr compare``)."""
from __future__ import annotations

import json
from pathlib import Path

from inr.atomic import write_text
from inr.runs import run_config
from inr.errors import InrError
from inr.modalities import MODALITIES
from inr.plots import curves_png, drawn
from inr.rundir import building, check_output
from inr.runs import fit_run

# after model, signal and the modality's own metric; columns no run reports are dropped
COLUMNS = ["ssim", "test_psnr", "param_count", "params_per_sample", "bits_per_sample", "seconds_per_step",
           "wall_seconds", "steps"]


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "—" if v is None else str(v)


def compare(modality: str, inputs: list, configs: list, sets: list, out: Path, *, overwrite: bool = False,
            quiet: bool = False) -> list[dict]:
    """Fit every config (None = the built-in default) on every input into
    ``out/<model>/<signal>``; write ``compare.md`` and ``compare.png``."""
    out = Path(out)
    metric, label = MODALITIES.get(modality).metric
    names = [Path(c).stem if c else "default" for c in configs]
    if len(set(names)) != len(names):
        raise InrError("compare: two configs share a file name; rename one")
    check_output(out, overwrite=overwrite, resume=False, marker=None)
    # every config is resolved (and so checked) before any fit starts
    jobs = [(name, src, run_config([c] if c else [], sets, {"modality": modality, "input": str(src)}))
            for name, c in zip(names, configs) for src in inputs]
    for _, src, cfg in jobs:  # and every input read, so that a bad one fails before any fit
        MODALITIES.get(modality).load(cfg.input, cfg.data)
    rows, curves = [], {}
    with building(out, overwrite=overwrite) as work:
        for name, src, cfg in jobs:
            run_dir = work / name / Path(src).stem
            metrics = fit_run(cfg, run_dir, quiet=quiet)
            rows.append({"model": name, "signal": Path(src).name, **metrics})
            curves[f"{name} / {Path(src).stem}"] = json.loads((run_dir / "history.json").read_text())
        columns = ["model", "signal", metric] + [c for c in COLUMNS if any(c in r for r in rows)]
        table = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        table += ["| " + " | ".join(_fmt(r.get(c)) for c in columns) + " |" for r in rows]
        write_text(work / "compare.md", "\n".join(table) + "\n")
        drawn(work / "compare.png", lambda: curves_png(curves, work / "compare.png", metric, label))
    return rows
