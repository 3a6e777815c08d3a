import os
import tempfile

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# One compilation cache for the whole run (every xdist worker and subprocess): the suite builds the same
# programs many times over (each run re-creates its jitted closures), and XLA compiling dominates it.
_run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or str(os.getpid())
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(tempfile.gettempdir(), f"inr-tests-xla-{_run}"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def root():
    return ROOT


@pytest.fixture
def small_image(tmp_path):
    """A 32x32 grayscale crop-and-downsample of the bundled cameraman."""
    import imageio.v3 as iio

    from inr.modalities.image_io import resize

    img = iio.imread(os.path.join(ROOT, "assets", "cameraman.png")).astype(np.float32) / 255.0
    small = resize(img[..., None], (32, 32))
    path = tmp_path / "small.png"
    iio.imwrite(path, np.round(small[..., 0] * 255).astype(np.uint8))
    return path


def interrupt_fit(monkeypatch, module, at: int):
    """Make ``module.fit`` stop at step ``at`` (checkpointed) and raise
    KeyboardInterrupt, as a Ctrl-C would; returns the undo."""
    real = module.fit

    def interrupted(*args, **kwargs):
        real(*args, **kwargs, stop_at=at)
        raise KeyboardInterrupt

    monkeypatch.setattr(module, "fit", interrupted)
    return lambda: monkeypatch.setattr(module, "fit", real)
