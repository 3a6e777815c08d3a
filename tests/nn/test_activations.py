"""Each activation's values and gradients against its closed form."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inr.errors import InrError
from inr.nn.activations import ACTIVATIONS, OUTPUT_ACTIVATIONS

Z = jnp.linspace(-2.0, 2.0, 4001)

CLOSED_FORMS = {
    "relu": (lambda z, s: np.maximum(z, 0), lambda z, s: (z > 0).astype(float)),
    "sine": (lambda z, s: np.sin(s * z), lambda z, s: s * np.cos(s * z)),
    "sine_exact": (lambda z, s: np.sin(s * z), lambda z, s: s * np.cos(s * z)),
    # FINER: the (|z| + 1) factor is held constant in the derivative.
    "finer": (lambda z, s: np.sin(s * (np.abs(z) + 1) * z),
              lambda z, s: s * (np.abs(z) + 1) * np.cos(s * (np.abs(z) + 1) * z)),
    "spder": (lambda z, s: np.sin(s * z) * np.sqrt(np.abs(s * z)),
              lambda z, s: s * (np.cos(s * z) * np.sqrt(np.abs(s * z))
                                + np.sin(s * z) * np.sign(z) / (2 * np.sqrt(np.abs(s * z)) + 1e-300))),
    "spder_atan": (lambda z, s: np.sin(s * z) * np.arctan(s * z),
                   lambda z, s: s * (np.cos(s * z) * np.arctan(s * z) + np.sin(s * z) / (1 + (s * z) ** 2))),
    "gauss": (lambda z, s: np.exp(-(s * z) ** 2), lambda z, s: -2 * s**2 * z * np.exp(-(s * z) ** 2)),
}


def test_every_activation_has_a_closed_form_test():
    assert set(ACTIVATIONS.names()) == set(CLOSED_FORMS) | {"wire"}


@pytest.mark.parametrize("omega,s0", [(20.0, 10.0), (5.0, 1.0)])
def test_wire_gabor_value_and_wirtinger_parts(omega, s0):
    act = ACTIVATIONS.get("wire")
    z = np.asarray(Z, np.float64)
    expect = np.exp(1j * omega * z - (s0 * z) ** 2)
    np.testing.assert_allclose(np.asarray(act(Z, omega, s0)), expect, atol=1e-5)
    d_expect = (1j * omega - 2 * s0**2 * z) * expect
    d_re = np.asarray(jax.vmap(jax.grad(lambda x: jnp.real(act(x, omega, s0))))(Z))
    d_im = np.asarray(jax.vmap(jax.grad(lambda x: jnp.imag(act(x, omega, s0))))(Z))
    np.testing.assert_allclose(d_re + 1j * d_im, d_expect, atol=2e-3 * omega * s0)
    # complex input: |.|^2 of the complex pre-activation
    zc = jnp.array([0.1 + 0.05j])
    np.testing.assert_allclose(np.asarray(act(zc, omega, s0)),
                               np.exp(1j * omega * 0.1 - omega * 0.05 - s0**2 * (0.1**2 + 0.05**2)), rtol=1e-5)


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
@pytest.mark.parametrize("scale", [1.0, 10.0, 30.0])
def test_values_and_gradients(name, scale):
    act = ACTIVATIONS.get(name)
    value, grad = CLOSED_FORMS[name]
    z = np.asarray(Z, np.float64)
    tol = 2e-4 * max(1.0, scale ** 1.5)
    np.testing.assert_allclose(np.asarray(act(Z, scale)), value(z, scale), atol=tol)
    g = np.asarray(jax.vmap(jax.grad(lambda x: act(x, scale)))(Z))
    keep = np.abs(z) > 1e-3  # kinks (relu) and the SPDER root at 0
    assert np.all(np.isfinite(g))
    gtol = 2e-4 * max(1.0, scale ** 2.5)
    np.testing.assert_allclose(g[keep], grad(z, scale)[keep], atol=gtol, rtol=1e-3)


def test_output_activations_and_unknown():
    assert float(OUTPUT_ACTIVATIONS.get("sigmoid")(jnp.array(0.0))) == 0.5
    with pytest.raises(InrError, match="unknown activation 'tanh'"):
        ACTIVATIONS.get("tanh")
