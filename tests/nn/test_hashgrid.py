import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inr.errors import InrError
from inr.nn.encodings import build_encoding, encoding_config
from inr.nn.hashgrid import level_resolutions, table_sizes, vertex_index


def cfg(**kw):
    base = dict(name="hash", levels=6, features_per_level=2, log2_table_size=10, base_resolution=4,
                max_resolution=128)
    return encoding_config(**{**base, **kw})


def test_resolutions_grow_geometrically():
    res = level_resolutions(cfg())
    assert res[0] == 4 and res[-1] in (127, 128)
    assert all(b > a for a, b in zip(res, res[1:]))


def test_tables_bounded_by_T_and_dense_when_they_fit():
    c = cfg()
    sizes = table_sizes(c, 2)
    assert max(sizes) == 2**10
    assert sizes[0] == (4 + 1) ** 2  # the coarsest grid fits: stored densely
    enc = build_encoding(c, 2)
    params = enc.init(jax.random.PRNGKey(0))
    assert [t.shape for t in params["tables"]] == [(s, 2) for s in sizes]
    assert enc.out_dim == 12


def test_each_table_is_the_draw_of_its_own_size():
    """One kernel draws every level at the largest size; each level keeps the
    bits a uniform draw of its own size gives (as each level drew before)."""
    c = cfg()
    sizes = table_sizes(c, 2)
    assert len(set(sizes)) > 2  # dense coarse levels of several sizes, then the capped ones
    tables = build_encoding(c, 2).init(jax.random.PRNGKey(3))["tables"]
    keys = jax.random.split(jax.random.PRNGKey(3), c.levels)
    for table, key, size in zip(tables, keys, sizes):
        own = jax.random.uniform(key, (size, 2), jnp.float32, -1e-4, 1e-4)
        np.testing.assert_array_equal(np.asarray(table), np.asarray(own))


def test_dense_levels_index_each_vertex_once():
    res, size = 4, 25
    verts = jnp.stack(jnp.meshgrid(jnp.arange(5), jnp.arange(5), indexing="ij"), -1).reshape(-1, 2)
    rows = np.asarray(vertex_index(verts, res, size, 2))
    assert sorted(rows.tolist()) == list(range(25))


def test_hashed_rows_stay_in_table():
    verts = jax.random.randint(jax.random.PRNGKey(1), (1000, 3), 0, 1000)
    rows = np.asarray(vertex_index(verts, 999, 2**10, 3))
    assert rows.min() >= 0 and rows.max() < 2**10


def test_continuous_across_cell_borders():
    enc = build_encoding(cfg(), 2)
    params = enc.init(jax.random.PRNGKey(0))
    params = jax.tree_util.tree_map(lambda t: t * 1e4, params)  # features of order 1
    # a border of every level's grid is crossed along this line
    x = jnp.stack([jnp.linspace(-0.9, 0.9, 20001), jnp.full(20001, 0.123)], -1)
    y = np.asarray(enc(x, params))
    jumps = np.abs(np.diff(y, axis=0)).max()
    assert jumps < 0.05, jumps


def test_interpolates_vertex_values_exactly():
    enc = build_encoding(cfg(levels=1, base_resolution=4, max_resolution=4, log2_table_size=10), 2)
    params = enc.init(jax.random.PRNGKey(0))
    table = params["tables"][0]
    # vertex (i, j) sits at v = (i/4, j/4), i.e. x = 2 v - 1
    x = jnp.array([[2 * 1 / 4 - 1, 2 * 3 / 4 - 1]])
    np.testing.assert_allclose(enc(x, params)[0], table[1 + 3 * 5], rtol=1e-5)


def test_rbf_encoding_shape_and_norm():
    enc = build_encoding(encoding_config("rbf", n_centers=50, sigma=0.07), 2)
    y = np.asarray(enc(jnp.array([[0.0, 0.5], [-1.0, 1.0]])))
    assert y.shape == (2, 100)
    np.testing.assert_allclose(np.linalg.norm(y[:, :50], axis=1), 1.0, rtol=1e-5)
    # the strongest centre of x = 0 (v = 0.5) is the middle one
    assert abs(np.argmax(y[0, :50]) - 24.5) <= 0.5


def test_probes_sum_the_rows_of_each_hash_function():
    c = cfg(levels=1, base_resolution=64, max_resolution=64, log2_table_size=8, probes=2)
    enc = build_encoding(c, 2)
    params = enc.init(jax.random.PRNGKey(0))
    table = params["tables"][0]
    # at a vertex the interpolation weights are one-hot: the features are the sum of the probes' rows
    vert = jnp.array([[17, 40]])
    x = 2.0 * vert / 64 - 1.0
    rows = [vertex_index(vert, 64, 2**8, 2, k)[0] for k in range(2)]
    assert rows[0] != rows[1]
    np.testing.assert_allclose(enc(x, params)[0], table[rows[0]] + table[rows[1]], rtol=1e-5, atol=1e-9)
    # probe 0 is the single-probe hash, so probes=1 is Instant-NGP's encoding unchanged
    one = build_encoding(cfg(levels=1, base_resolution=64, max_resolution=64, log2_table_size=8), 2)
    np.testing.assert_allclose(one(x, params)[0], table[rows[0]], rtol=1e-5, atol=1e-9)


def test_second_probe_collides_independently_of_the_first():
    """Vertices that share their probe-0 row rarely share their probe-1 row too: about 1/T of
    them, as for independent hashes (the XOR-of-primes hash alone would keep most such pairs
    together after any function of its value, hence the mixing)."""
    size = 256
    verts = jnp.stack(jnp.meshgrid(jnp.arange(64), jnp.arange(64), indexing="ij"), -1).reshape(-1, 2)
    r0, r1 = (np.asarray(vertex_index(verts, 4095, size, 2, k)) for k in (0, 1))
    same0 = r0[:, None] == r0[None, :]
    same1 = r1[:, None] == r1[None, :]
    off_diag = ~np.eye(len(r0), dtype=bool)
    pairs0 = (same0 & off_diag).sum()
    both = (same0 & same1 & off_diag).sum()
    assert pairs0 > 50_000  # 4,096 vertices in 256 rows: many collisions to break
    assert both < 3 * pairs0 / size, (both, pairs0)


def test_probes_leave_dense_levels_alone():
    x = jax.random.uniform(jax.random.PRNGKey(2), (50, 2), minval=-1, maxval=1)
    dense = dict(levels=2, base_resolution=4, max_resolution=8, log2_table_size=10)
    params = build_encoding(cfg(**dense), 2).init(jax.random.PRNGKey(0))
    np.testing.assert_array_equal(np.asarray(build_encoding(cfg(**dense), 2)(x, params)),
                                  np.asarray(build_encoding(cfg(**dense, probes=3), 2)(x, params)))


def test_probes_must_be_positive():
    with pytest.raises(InrError, match="probes must be >= 1"):
        build_encoding(cfg(probes=0), 2)
