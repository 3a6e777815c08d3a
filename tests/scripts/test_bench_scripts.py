"""The benchmark scripts that must run anywhere: ``bench_gpu.sh --small`` on a CPU."""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow
def test_gpu_benchmark_runs_small_on_a_cpu(tmp_path):
    out = tmp_path / "bench_gpu.md"
    proc = subprocess.run(["bash", os.path.join(ROOT, "scripts", "bench_gpu.sh"), "--small", "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    table = out.read_text()
    for row in ["SIREN, Colab protocol", "image default", "SDF default", "sampler int, siren-camera",
                "sampler evos, siren-camera", "sampler soft_mining, siren-camera", "sampler nint, siren-camera",
                "fit-many, 16 MNIST digits"]:
        assert row in table, row
    assert "Machine:" in table and "--small" in table
