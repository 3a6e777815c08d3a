"""Pictures of a field by ray marching it directly, with shading.

The surface value is negative inside. A distance field is sphere traced
(steps of 0.9 x its value); an occupancy field is marched in fixed steps. A
ray that crosses the surface is refined by bisection, and the normal is the
normalised gradient of the value there, by central differences. The camera
orbits the origin with y up (the usual convention of OBJ files).
"""
from __future__ import annotations

from functools import partial
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np


BACKGROUND = 1.0
NORMAL_STEP = 1e-3
"""half the spacing of the central differences that give a hit's normal (the cube is [-1, 1]^3)"""
BASE_COLOUR = np.array([0.62, 0.70, 0.82], np.float32)


def camera_rays(height: int, width: int, azimuth: float, elevation: float, distance: float = 3.2,
                fov: float = 40.0):
    """Origins and unit directions ``(H*W, 3)`` of a pinhole camera looking at the origin."""
    az, el = np.radians(azimuth), np.radians(elevation)
    eye = distance * np.array([np.cos(el) * np.sin(az), np.sin(el), np.cos(el) * np.cos(az)])
    forward = -eye / np.linalg.norm(eye)
    # y is up, except looking straight down or up, where the limit of the azimuth's own frame is used
    ref = [0.0, 1.0, 0.0] if abs(np.cos(el)) > 1e-6 else [-np.sign(el) * np.sin(az), 0.0, -np.sign(el) * np.cos(az)]
    right = np.cross(forward, ref)
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    focal = 1.0 / np.tan(np.radians(fov) / 2)
    aspect = width / height
    u = ((2 * (np.arange(width) + 0.5) / width) - 1) * aspect
    v = 1 - 2 * (np.arange(height) + 0.5) / height
    uu, vv = np.meshgrid(u, v)
    dirs = focal * forward + uu[..., None] * right + vv[..., None] * up
    dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
    origins = np.broadcast_to(eye, dirs.shape)
    return origins.reshape(-1, 3).astype(np.float32), dirs.reshape(-1, 3).astype(np.float32)


def _box_interval(o, d):
    inv = 1.0 / jnp.where(jnp.abs(d) < 1e-9, 1e-9, d)
    t0, t1 = (-1.0 - o) * inv, (1.0 - o) * inv
    near = jnp.maximum(jnp.max(jnp.minimum(t0, t1), -1), 0.0)
    far = jnp.min(jnp.maximum(t0, t1), -1)
    return near, far


def _settings(distance_field: bool, steps: int):
    """(hit tolerance, smallest step) of a march."""
    return (1e-3, 1e-4) if distance_field else (0.0, 2.0 * np.sqrt(3.0) / steps)


@partial(jax.jit, static_argnames=("value", "distance_field", "steps", "rounds"))
def _march(value, params, o, d, s, distance_field: bool, steps: int, rounds: int):
    """``rounds`` marching steps of every ray; ``s`` holds t (the current
    position), lo (the last position outside), far, hit and done."""
    eps, min_step = _settings(distance_field, steps)

    def body(_, s):
        g = value(params, o + s["t"][:, None] * d)[:, 0]
        crossed = (g < eps) & ~s["done"]
        stay = s["done"] | crossed
        advance = jnp.maximum(0.9 * g, min_step) if distance_field else min_step
        t_next = jnp.where(stay, s["t"], s["t"] + advance)
        return {"t": t_next, "lo": jnp.where(stay, s["lo"], s["t"]), "far": s["far"],
                "hit": s["hit"] | crossed, "done": stay | (t_next > s["far"])}

    return jax.lax.fori_loop(0, rounds, body, s)


@partial(jax.jit, static_argnames=("value",))
def _surface(value, params, o, d, lo, hi):
    """Bisection of the crossing between ``lo`` (outside) and ``hi``, and the unit normal there."""
    def halve(_, bounds):
        lo, hi = bounds
        mid = 0.5 * (lo + hi)
        neg = value(params, o + mid[:, None] * d)[:, 0] < 0
        return jnp.where(neg, lo, mid), jnp.where(neg, mid, hi)

    _, hi = jax.lax.fori_loop(0, 8, halve, (lo, hi))
    x = o + hi[:, None] * d
    steps = NORMAL_STEP * jnp.eye(3, dtype=x.dtype)
    probes = jnp.concatenate([x[None] + steps[:, None], x[None] - steps[:, None]]).reshape(-1, 3)
    f = value(params, probes)[:, 0].reshape(2, 3, -1)
    grads = (f[0] - f[1]).T  # central differences: a forward pass compiles in a fraction of a backward one's time
    return grads / jnp.maximum(jnp.linalg.norm(grads, axis=-1, keepdims=True), 1e-12)


def _bucket(n: int, chunk: int) -> int:
    """Rows per call for a picture of ``n`` rays: ``chunk``, or the power of
    four (>= 256) that holds ``n``. Every call of one picture has this size
    (each size is a compilation; padding a round's few unfinished rays up to
    it costs less than compiling for them)."""
    return min(chunk, max(256, 4 ** int(np.ceil(np.log(max(n, 1)) / np.log(4)))))


def _padded(arrays: dict, idx: np.ndarray, size: int) -> dict:
    """Rows ``idx`` of every array, padded to ``size`` rows by repeating the last."""
    pad = np.concatenate([idx, np.full(size - len(idx), idx[-1])])
    return {k: v[pad] for k, v in arrays.items()}


def _trace(value, params, origins, dirs, distance_field: bool, steps: int, chunk: int, rounds: int = 16):
    """Hit mask and normals of every ray. Rays are marched ``rounds`` steps
    at a time and the finished ones dropped between rounds, so a few slow
    grazing rays do not keep whole chunks of converged ones busy."""
    near, far = (np.array(a) for a in _box_interval(jnp.asarray(origins), jnp.asarray(dirs)))
    size = _bucket(len(origins), chunk)
    state = {"t": near, "lo": near.copy(), "far": far, "hit": np.zeros(len(near), bool), "done": near >= far}
    for _ in range(0, steps, rounds):
        active = np.flatnonzero(~state["done"])
        for i in range(0, len(active), size):
            idx = active[i:i + size]
            part = _padded({"o": origins, "d": dirs, **state}, idx, size)
            o, d = part.pop("o"), part.pop("d")
            out = _march(value, params, o, d, part, distance_field, steps, rounds)
            for k in ("t", "lo", "hit", "done"):
                state[k][idx] = np.asarray(out[k])[: len(idx)]
    normals = np.zeros_like(dirs)
    hits = np.flatnonzero(state["hit"])
    for i in range(0, len(hits), size):
        idx = hits[i:i + size]
        part = _padded({"o": origins, "d": dirs, "lo": state["lo"], "t": state["t"]}, idx, size)
        normals[idx] = np.asarray(_surface(value, params, part["o"], part["d"], part["lo"], part["t"]))[: len(idx)]
    return state["hit"], normals


def _shade(hit, normals, dirs):
    """Headlight Lambert + a fill light + Blinn-Phong highlight on a white background."""
    view = -dirs
    key = view + np.array([0.3, 0.6, 0.0], np.float32)
    key /= np.linalg.norm(key, axis=-1, keepdims=True)
    fill = np.array([-0.6, 0.2, -0.7], np.float32) / np.linalg.norm([-0.6, 0.2, -0.7])
    n = np.where(np.sum(normals * view, -1, keepdims=True) < 0, -normals, normals)  # two-sided
    diffuse = 0.2 + 0.7 * np.clip(np.sum(n * key, -1), 0, 1) + 0.2 * np.clip(n @ fill, 0, 1)
    half = key + view
    half /= np.linalg.norm(half, axis=-1, keepdims=True)
    spec = 0.25 * np.clip(np.sum(n * half, -1), 0, 1) ** 40
    colour = np.clip(BASE_COLOUR * diffuse[:, None] + spec[:, None], 0, 1)
    return np.where(hit[:, None], colour, BACKGROUND)


def render_views(value: Callable, params, size: tuple[int, int], views: list[tuple[float, float]],
                 distance_field: bool, steps: int = 96, chunk: int = 16384) -> np.ndarray:
    """Shaded pictures ``(V, H, W, 3)`` in [0, 1] of the surface of ``value``
    from each ``(azimuth, elevation)`` of ``views``, their rays marched together."""
    h, w = size
    origins, dirs = (np.concatenate(a) for a in zip(*(camera_rays(h, w, az, el) for az, el in views)))
    hit, normals = _trace(value, params, origins, dirs, distance_field, steps, chunk)
    return _shade(hit, normals, dirs).reshape(len(views), h, w, 3)


def render_view(value: Callable, params, size: tuple[int, int], azimuth: float, elevation: float,
                distance_field: bool, steps: int = 96, chunk: int = 16384) -> np.ndarray:
    """A shaded picture ``(H, W, 3)`` in [0, 1] of the surface of ``value``."""
    return render_views(value, params, size, [(azimuth, elevation)], distance_field, steps, chunk)[0]
