"""Shape evaluation: surface clouds of fields and Chamfer distances between them."""
import numpy as np
import pytest

from inr.modalities.sdf.clouds import chamfer_matrix, normalise_cloud, volume_cloud
from inr.diffusion.evaluate import evaluate_items, references
from inr.modalities import MODALITIES
from inr.grid import axis_centers


def sphere_volume(n=32, radius=0.5, centre=(0.0, 0.0, 0.0)):
    axis = axis_centers(n)
    x, y, z = np.meshgrid(axis, axis, axis, indexing="ij")
    return np.sqrt((x - centre[0]) ** 2 + (y - centre[1]) ** 2 + (z - centre[2]) ** 2) - radius


def test_chamfer_known_answers():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 64, 3)).astype(np.float32)
    d = chamfer_matrix(a, a)
    np.testing.assert_allclose(np.diag(d), 0.0, atol=1e-5)
    np.testing.assert_allclose(d, d.T, rtol=1e-5)
    assert np.all(d[~np.eye(3, dtype=bool)] > 0.1)
    # every point of one cloud at distance 1 from every point of the other: 1 + 1 (squared, both ways)
    zero, shifted = np.zeros((1, 16, 3), np.float32), np.tile(np.float32([[[1, 0, 0]]]), (1, 16, 1))
    assert chamfer_matrix(zero, shifted)[0, 0] == pytest.approx(2.0)
    # one extra far point in b: only the b -> a direction sees it (9 / 17)
    b = np.concatenate([zero, np.float32([[[3, 0, 0]]])], 1)
    assert chamfer_matrix(zero, b)[0, 0] == pytest.approx(9 / 17, rel=1e-5)


def test_surface_cloud_of_a_sphere_is_normalised_and_on_the_sphere():
    cloud = volume_cloud(sphere_volume(centre=(0.2, -0.1, 0.0)), 2048, seed=0)
    assert cloud.shape == (2048, 3)
    r = np.linalg.norm(cloud, axis=1)
    assert r.max() == pytest.approx(1.0, abs=1e-6) and r.min() > 0.9  # centred, scale-free
    assert volume_cloud(np.ones((16, 16, 16)), 2048, seed=0) is None  # no surface
    assert volume_cloud(np.full((16, 16, 16), np.nan), 2048, seed=0) is None
    assert np.allclose(normalise_cloud(np.float32([[2, 0, 0], [4, 0, 0]])), [[-1, 0, 0], [1, 0, 0]])


def test_shape_evaluation_known_answers():
    ev = MODALITIES.get("sdf")
    spheres = np.stack([volume_cloud(sphere_volume(radius=r), 256, seed=i)
                        for i, r in enumerate((0.3, 0.5, 0.7))])
    boxes = np.stack([normalise_cloud(np.random.default_rng(i).uniform(-1, 1, (256, 3)) * [1, 0.2, 0.6])
                      for i in range(3)])
    same = evaluate_items(ev, spheres, references(ev, boxes, spheres))
    assert same["mmd"] < 0.01 and same["cov"] == 1.0 and same["empty_fraction"] == 0.0
    apart = evaluate_items(ev, boxes, references(ev, spheres, spheres))
    assert apart["1nna"] == 1.0 and apart["mmd"] > 0.05
    empty = evaluate_items(ev, np.zeros_like(spheres), references(ev, boxes, spheres))
    assert empty["empty_fraction"] == 1.0


def test_batched_volumes_equal_one_field_at_a_time():
    import jax
    from jax.flatten_util import ravel_pytree

    from inr.runs import run_config
    from inr.modalities.sdf.clouds import field_volumes
    from inr.fields.model import build_field
    from inr.modalities.sdf.extract import evaluate_volume
    from inr.modalities.sdf.losses import surface_value

    cfg = run_config([], ["model.hidden_width=16", "model.hidden_layers=2"],
                          {"modality": "sdf", "input": "unused.obj"})
    field = build_field(cfg.model, 3, 1)
    params = [field.init(jax.random.PRNGKey(i)) for i in range(3)]
    weights = np.stack([np.asarray(ravel_pytree(p)[0]) for p in params])
    meta = {"surface": {"loss": "occupancy", "distance": False}}
    vols = list(field_volumes(field, weights, meta, 12, fields_per_call=2, chunk=1000))
    assert len(vols) == 3
    value = surface_value(field.apply, "occupancy")
    for p, vol in zip(params, vols):
        np.testing.assert_allclose(vol, evaluate_volume(value, p, 12), rtol=1e-5, atol=1e-5)
