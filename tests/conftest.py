import os
import shutil
import tempfile

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# One compilation cache for the whole run: the suite builds the same programs many times over (each run
# re-creates its jitted closures), and XLA compiling dominates it. The process that starts pytest makes it;
# the xdist workers and the CLI subprocesses inherit it through the environment; it goes when the run ends.
_OWN_CACHE = None
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _OWN_CACHE = os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="inr-tests-xla-")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")


def pytest_sessionfinish(session, exitstatus):
    if _OWN_CACHE is not None:
        shutil.rmtree(_OWN_CACHE, ignore_errors=True)

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


def assert_default_recorded(out, modality):
    """The run in ``out`` used and recorded the modality's built-in default."""
    import yaml

    from inr.runs import default_file

    saved = yaml.safe_load((out / "config.yaml").read_text())
    default = yaml.safe_load(default_file(modality, "fit").read_text())
    enc, want = saved["model"]["encoding"], default["model"]["encoding"]
    if want.get("max_params_per_sample"):  # the image default sizes its tables to the signal: 219 rows for 64²
        assert enc["table_size"] == 219 < 2 ** want["log2_table_size"]
        want = {**want, "table_size": 219}
    assert {k: enc[k] for k in want} == want  # the default is recorded
    assert (out / "curve.png").is_file()


def outputs_and_grads(apply):
    """``apply`` and its gradient as one compiled program (one XLA compile, not
    two): ``(params, *args) -> ((sum of squared outputs, outputs), gradient)``."""
    import jax
    import jax.numpy as jnp

    def loss(params, *args):
        out = apply(params, *args)
        return jnp.sum(out ** 2), out

    return jax.jit(jax.value_and_grad(loss, has_aux=True))
