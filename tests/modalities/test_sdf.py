import json
import os

import imageio.v3 as iio
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import trimesh

from inr.cli.main import main
from inr.errors import InrError
from inr.modalities.sdf import shapes
from inr.modalities.sdf.extract import evaluate_near_surface, evaluate_volume, extract_mesh
from inr.modalities.sdf.losses import clamped_l1_loss, siren_loss
from inr.modalities.sdf.metrics import iou, surface_metrics
from inr.modalities.sdf.modality import SdfDataConfig
from inr.modalities.sdf.trace import render_view
from tests.conftest import assert_default_recorded

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUZANNE = os.path.join(ROOT, "assets", "suzanne.obj")


def sphere_sdf(params, x):
    """An exact SDF (radius 0.5) in the field signature; params unused."""
    return jnp.linalg.norm(x, axis=-1, keepdims=True) - 0.5


def write_sphere(path, hole: bool = False):
    mesh = trimesh.creation.icosphere(subdivisions=3, radius=2.0)
    mesh.apply_translation([10.0, -3.0, 1.0])
    if hole:  # drop the faces around the top: an open mesh
        mesh.update_faces(mesh.triangles_center[:, 1] < -3.0 + 1.6)
    mesh.export(path)
    return mesh


def test_normalisation_keeps_aspect_and_centre(tmp_path):
    box = trimesh.creation.box(extents=[4.0, 2.0, 1.0])
    box.apply_translation([5.0, 0.0, -1.0])
    box.export(tmp_path / "box.ply")
    shape = shapes.load_shape(tmp_path / "box.ply", margin=0.1)
    np.testing.assert_allclose(shape.vertices.max(0), [0.9, 0.45, 0.225], atol=1e-9)
    np.testing.assert_allclose(shape.vertices.min(0), [-0.9, -0.45, -0.225], atol=1e-9)
    np.testing.assert_allclose(shape.vertices / shape.scale + shape.center, box.vertices, atol=1e-9)


def test_winding_numbers_on_an_open_mesh(tmp_path):
    write_sphere(tmp_path / "open.obj", hole=True)
    shape = shapes.load_shape(tmp_path / "open.obj")
    assert not shape.mesh().is_watertight
    c = (np.array([10.0, -3.0, 1.0]) - shape.center) * shape.scale  # the sphere's centre and radius, normalised
    r = 2.0 * shape.scale
    q = np.array([c, c - [0, 0.5 * r, 0], [0.99, 0.99, 0.99]])
    assert shapes.inside(shape, q).tolist() == [True, True, False]
    d = shapes.signed_distance(shape, np.array([c - [0, 0.5 * r, 0], c - [0, 1.2 * r, 0]]))
    np.testing.assert_allclose(d, [-0.5 * r, 0.2 * r], atol=0.02)


@pytest.mark.parametrize("open_face", [False, True])
def test_box_ground_truth(tmp_path, open_face):
    box = trimesh.creation.box(extents=[2.0, 2.0, 2.0])
    if open_face:  # remove the two triangles of the +x face
        box.update_faces(box.triangles_center[:, 0] < 0.99)
    box.export(tmp_path / "box.obj")
    shape = shapes.load_shape(tmp_path / "box.obj", margin=0.5)  # the box becomes [-0.5, 0.5]^3
    q = np.array([[0.0, 0.0, 0.0], [0.3, 0.1, 0.0], [0.0, 0.0, 0.8], [0.9, 0.9, 0.9], [-0.7, 0.0, 0.0]])
    # open: (0.3, 0.1, 0) is nearest the y faces now, still inside (winding number ~5/6)
    expected = [-0.5, -0.4 if open_face else -0.2, 0.3, np.sqrt(3 * 0.4**2), 0.2]
    np.testing.assert_allclose(shapes.signed_distance(shape, q), expected, atol=1e-6)


def test_autodiff_gradient_of_a_field():
    from inr.modalities.sdf.gradients import value_and_gradient

    x = jnp.array([[0.3, -0.2, 0.5], [0.0, 0.9, 0.1]])
    f, g = value_and_gradient(sphere_sdf, None, x)
    np.testing.assert_allclose(f, np.linalg.norm(x, axis=1) - 0.5, atol=1e-6)
    np.testing.assert_allclose(g, x / np.linalg.norm(x, axis=1, keepdims=True), atol=1e-6)


def test_oriented_point_cloud(tmp_path):
    mesh = trimesh.creation.icosphere(subdivisions=4, radius=1.0)
    np.savetxt(tmp_path / "s.xyz", np.concatenate([mesh.vertices, mesh.vertex_normals], 1))
    shape = shapes.load_shape(tmp_path / "s.xyz")
    assert not shape.is_mesh and len(shape.points) == len(mesh.vertices)
    assert shapes.inside(shape, np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.99]])).tolist() == [True, False]


@pytest.mark.parametrize("name,content,match", [
    ("flat.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 1 1 0\nf 1 2 3\nf 2 4 3\n", "flat .no extent along z"),
    ("bad.obj", "this is not a mesh\n", "holds no (triangles|geometry)|cannot read as a mesh"),
    ("cols.xyz", "0 0 0\n1 1 1\n", "needs 6 columns"),
    ("x.dae", "<xml/>", "unsupported shape file"),
    ("nan.obj", "v 0 0 0\nv 1 0 nan\nv 0 1 0\nv 0 0 1\nf 1 2 3\nf 1 3 4\n", "finite points"),
    ("degenerate.obj", "v 0 0 0\nv 1 1 1\nv 2 2 2\nv 3 1 0\nf 1 2 3\n", "degenerate"),
    ("empty.obj", "", "holds no (triangles|geometry)|cannot read as a mesh"),
])
def test_bad_shapes(tmp_path, name, content, match):
    (tmp_path / name).write_text(content)
    with pytest.raises(InrError, match=match):
        shapes.load_shape(tmp_path / name)


def test_bad_shape_through_the_cli(tmp_path, capsys):
    (tmp_path / "flat.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\nv 1 1 0\n")
    assert main(["fit", "sdf", str(tmp_path / "flat.obj"), "--out", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "flat.obj" in err and "flat" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_point_cloud_without_normals(tmp_path):
    trimesh.PointCloud(np.random.default_rng(0).random((20, 3))).export(tmp_path / "p.ply")
    with pytest.raises(InrError, match="needs normals"):
        shapes.load_shape(tmp_path / "p.ply")


def test_marching_cubes_sphere_outward_and_sparse_equals_dense():
    dense = evaluate_volume(sphere_sdf, None, 32)
    sparse = evaluate_near_surface(sphere_sdf, None, 32, block=4)
    assert np.array_equal(np.sign(dense), np.sign(sparse))
    near = np.abs(dense) < 2 * 2 / 32
    np.testing.assert_array_equal(dense[near], sparse[near])
    mesh = extract_mesh(sphere_sdf, None, 32, distance=True)
    radius = np.linalg.norm(mesh.vertices, axis=1)
    np.testing.assert_allclose(radius, 0.5, atol=0.01)
    assert np.all(np.sum(mesh.face_normals * mesh.triangles_center, 1) > 0)  # outward
    assert mesh.volume == pytest.approx(4 / 3 * np.pi * 0.125, rel=0.03)
    assert mesh.area == pytest.approx(4 * np.pi * 0.25, rel=0.03)


def test_sphere_tracing_sees_the_sphere():
    img = render_view(sphere_sdf, None, (48, 48), 0.0, 0.0, distance_field=True)
    hit = np.any(img < 0.999, axis=-1)
    # camera at distance 3.2, fov 40: a sphere of radius 0.5 spans ~2*atan(0.5/3.2)/40deg of the view
    expected = np.pi * (48 * np.tan(np.arcsin(0.5 / 3.2)) / np.tan(np.radians(20)) / 2) ** 2
    assert hit.sum() == pytest.approx(expected, rel=0.1)
    # not a distance (scaled 1000x): marched in fixed steps instead of sphere traced
    occupancy = render_view(lambda p, x: 1e3 * sphere_sdf(p, x), None, (48, 48), 0.0, 0.0, False, steps=128)
    assert np.array_equal(hit, np.any(occupancy < 0.999, axis=-1))


def test_sphere_tracing_normals_are_the_spheres():
    """Each hit's normal (central differences of the value) is the radius through the
    exact ray-sphere intersection; the rays that miss it hit nothing."""
    from inr.modalities.sdf.trace import _trace, camera_rays

    o, d = camera_rays(32, 32, 40.0, 25.0)
    hit, normals = _trace(sphere_sdf, None, o, d, True, 96, 16384)
    b = np.sum(o * d, -1)
    disc = b ** 2 - (np.sum(o * o, -1) - 0.25)  # |o + t d| = 0.5
    clear = np.abs(disc) > 1e-2  # grazing rays may go either way
    assert np.array_equal(hit[clear], disc[clear] > 0) and (hit & clear).sum() > 100
    p = o + (-b - np.sqrt(np.maximum(disc, 0)))[:, None] * d
    # the hit itself is found to the march's 1e-3 tolerance, so the radius through it to about 2 %
    np.testing.assert_allclose(normals[hit & clear], 2 * p[hit & clear], atol=2e-2)
    np.testing.assert_allclose(np.linalg.norm(normals[hit], axis=-1), 1.0, atol=1e-5)


def test_surface_metrics_closed_forms():
    rng = np.random.default_rng(0)
    p = rng.normal(size=(2000, 3))
    n = p / np.linalg.norm(p, axis=1, keepdims=True)
    same = surface_metrics(p, n, p, n, threshold=0.01)
    assert same["chamfer_l1"] == 0 and same["normal_consistency"] == pytest.approx(1) and same["fscore"] == 1
    moved = surface_metrics(p + [0.05, 0, 0], n, p, n, threshold=0.01)
    assert moved["chamfer_l1"] <= 0.05 + 1e-9 and moved["fscore"] < 0.2
    assert iou(np.array([1, 1, 0, 0], bool), np.array([1, 0, 1, 0], bool)) == pytest.approx(1 / 3)


def test_siren_loss_closed_form():
    cfg = SdfDataConfig()
    x = jax.random.normal(jax.random.PRNGKey(0), (64, 3))
    surface = 0.5 * x / jnp.linalg.norm(x, axis=1, keepdims=True)
    data = {"surface": surface, "normals": surface / 0.5}
    key = jax.random.PRNGKey(1)
    value = siren_loss(sphere_sdf, cfg, 64)(None, data, key)
    # the exact SDF: surface, normal and eikonal terms vanish; only the off-surface term is left
    free = jax.random.uniform(jax.random.split(key)[1], (64, 3), minval=-1.0, maxval=1.0)
    expected = 1e2 * jnp.mean(jnp.exp(-100 * jnp.abs(sphere_sdf(None, free)[:, 0])))
    assert float(value) == pytest.approx(float(expected), abs=2e-4)  # float32 residue of 3e3 |f(x_s)|


def test_clamped_l1_keeps_a_gradient_outside_the_band():
    cfg = SdfDataConfig(truncation=0.1)
    data = {"coords": jnp.zeros((1, 3)), "sdf": jnp.array([0.5])}
    loss = clamped_l1_loss(lambda p, x: jnp.full((x.shape[0], 1), p), cfg, 1)
    assert float(loss(0.3, data, jax.random.PRNGKey(0))) == 0.0  # both beyond the band, same side
    assert float(jax.grad(loss)(-0.3, data, jax.random.PRNGKey(0))) == pytest.approx(-1.0)  # wrong side
    data = {"coords": jnp.zeros((1, 3)), "sdf": jnp.array([0.05])}
    assert float(loss(0.02, data, jax.random.PRNGKey(0))) == pytest.approx(0.03)


def test_fit_render_cli(tmp_path, capsys):
    out = tmp_path / "run"
    sets = ["train.steps=150", "train.steps_per_call=75", "train.batch_size=2048", "data.samples=20000",
            "data.resolution=48", "data.eval_points=2000", "data.metric_points=5000", "data.iou_resolution=32",
            "data.preview=64"]
    args = ["fit", "sdf", SUZANNE, "--out", str(out), "--quiet"]  # the built-in default's model, the bundled mesh
    assert main(args + [a for s in sets for a in ("--set", s)]) == 0
    assert_default_recorded(out, "sdf")
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["iou"] > 0.85 and metrics["normal_consistency"] > 0.85  # an open mesh with loose parts
    assert trimesh.load(out / "mesh.ply").faces.shape[0] > 100
    assert iio.imread(out / "render.png").shape == (64, 64, 3)
    assert main(["render", str(out), "--mesh", str(tmp_path / "m.obj"), "--resolution", "32", "--original-scale",
                 "--quiet"]) == 0
    m = trimesh.load(tmp_path / "m.obj")
    src = trimesh.load(SUZANNE, force="mesh")
    np.testing.assert_allclose(m.bounds, src.bounds, atol=0.2)  # back in the input's coordinates
    # 36 frames of 8 x 8 march in the preview's call size (4,096 rays): the suite's compilation cache has their programs
    assert main(["render", str(out), "--turntable", str(tmp_path / "t.gif"), "--size", "8x8", "--quiet"]) == 0
    assert iio.imread(tmp_path / "t.gif").shape == (36, 8, 8, 3)
    assert main(["render", str(out), "--out", str(tmp_path / "x.wav"), "--rate", "8000"]) == 2
    assert "--rate does not apply to sdf runs" in capsys.readouterr().err


def test_render_many_tiles_shaded_views(tmp_path):
    from inr.modalities.sdf.modality import SdfModality

    meta = {"surface": {"loss": "sdf", "distance": True}}
    SdfModality().render_many(sphere_sdf, [None, None, None], meta, tmp_path / "g.png", size=(20, 20))
    grid = iio.imread(tmp_path / "g.png")
    assert grid.shape == (41, 41, 3)  # 2 x 2 tiles of 20 with a 1-pixel gap
    assert grid[10, 10].mean() < 250 and grid[30, 30].min() == 255  # a sphere, then an empty tile


def test_generated_shapes_are_watertight(tmp_path):
    import subprocess
    import sys

    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "make_shapes.py"), "--out", str(tmp_path),
                    "--count", "4", "--seed", "3"], check=True, capture_output=True)
    info = json.loads((tmp_path / "shapes.json").read_text())
    assert [s["family"] for s in info["shapes"]] == ["vessel", "table", "vessel", "table"]
    for s in info["shapes"]:
        mesh = trimesh.load(tmp_path / s["file"], force="mesh")
        assert s["watertight_parts"] and mesh.volume > 0
        # the inside test, integrated over the cube, gives the normalised mesh's volume
        shape = shapes.load_shape(tmp_path / s["file"])
        points = np.random.default_rng(0).uniform(-1, 1, (20000, 3))
        volume = trimesh.Trimesh(shape.vertices, shape.faces).volume
        assert abs(shapes.inside(shape, points).mean() * 8 - volume) < 0.1 * volume + 0.02


def test_camera_straight_down_continues_the_nearby_views():
    from inr.modalities.sdf.trace import camera_rays

    for el in (90.0, -90.0):
        _, d = camera_rays(8, 8, 30.0, el)
        _, near = camera_rays(8, 8, 30.0, el - np.sign(el) * 1e-3)
        assert np.all(np.isfinite(d)) and np.allclose(d, near, atol=1e-3)


@pytest.mark.parametrize("change,fragment", [({"uniform_fraction": 1.5}, "uniform_fraction"),
                                             ({"near_scales": []}, "near_scales is empty"),
                                             ({"near_scales": [-0.1]}, "near_scales must be positive"),
                                             ({"resolution": 4}, "resolution"),
                                             ({"siren_weights": [1.0]}, "siren_weights")])
def test_bad_data_settings_are_one_line_errors(change, fragment):
    import dataclasses

    from inr.errors import InrError
    from inr.modalities.sdf.modality import SdfDataConfig, SdfModality

    with pytest.raises(InrError, match=fragment):
        SdfModality().load(SUZANNE, dataclasses.replace(SdfDataConfig(), **change))


def test_progressive_encoding_is_refused_for_sdf(tmp_path, capsys):
    assert main(["fit", "sdf", SUZANNE, "--out", str(tmp_path / "r"), "--set", "model.encoding.name=sape"]) == 2
    assert "sape encoding" in capsys.readouterr().err and not (tmp_path / "r").exists()


def test_a_sampler_is_refused_where_the_loss_draws_fresh_points(tmp_path, capsys):
    code = main(["fit", "sdf", SUZANNE, "--out", str(tmp_path / "r"), "--set", "data.loss=siren",
                 "--set", "train.sampler=int"])
    err = capsys.readouterr().err
    assert code == 2 and "draws fresh points every step" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()
