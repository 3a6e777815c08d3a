import jax.numpy as jnp
import numpy as np
import pytest

from inr.diffusion.diagnose import denoising_errors, gaussian_denoiser, neighbour_predictability
from inr.metrics import pairwise_l2
from inr.diffusion.schedule import linear_schedule


def test_gaussian_denoiser_reaches_the_wiener_error_and_a_network_is_scored_against_it():
    rng = np.random.default_rng(0)
    scales = np.array([2.0, 1.0, 0.5, 0.1])
    train = rng.normal(size=(20000, 4)) * scales + 1.0
    test = rng.normal(size=(4000, 4)) * scales + 1.0
    s = linear_schedule(100)
    gauss = gaussian_denoiser(train, s)
    rows = denoising_errors(gauss, None, s, gauss, test, [0, 50, 99])
    for r in rows:
        a = float(s.abar[r["t"]])
        wiener = np.mean(scales ** 2 * (1 - a) / (a * scales ** 2 + 1 - a))  # per-axis posterior variance
        assert r["gaussian"] == pytest.approx(wiener, rel=0.05)
        assert r["network"] == pytest.approx(r["gaussian"], rel=1e-3)
    assert rows[0]["gaussian"] < 1e-3
    # a network that ignores its input (predicts the mean) is worse except where nothing is left of x0
    mean_only = (lambda params, xt, t: jnp.ones_like(xt))
    worse = denoising_errors(mean_only, None, s, gauss, test, [0, 50])
    assert all(w["network"] > w["gaussian"] * 2 for w in worse)


def test_neighbour_predictability_is_near_one_for_smooth_weights_and_minus_one_over_k_for_unrelated_ones():
    rng = np.random.default_rng(0)
    signals = rng.uniform(-1, 1, size=(6000, 2))
    mix = rng.normal(size=(2, 30))
    smooth = np.sin(signals @ mix)  # weights a smooth function of the signal
    d = pairwise_l2(signals[5000:], signals[:5000])
    near = neighbour_predictability(smooth[:5000], smooth[5000:], d, ks=(1, 5))
    assert [r["k"] for r in near] == [1, 5]
    assert all(r["r2"] > 0.95 for r in near)
    # weights unrelated to the signal: a neighbour's weights miss by twice the variance,
    # the mean of k of them by (1 + 1/k) times it, so R^2 = -1/k
    unrelated = rng.normal(size=(6000, 30))
    far = neighbour_predictability(unrelated[:5000], unrelated[5000:], d, ks=(1, 5, 20))
    for r in far:
        assert r["r2"] == pytest.approx(-1 / r["k"], abs=0.03)
