"""The learned networks are flax.nnx modules seen as pure init/apply; the
weight files of the hand-written networks (format version 1) still load."""
import os

import jax
import numpy as np
import pytest

from inr.diffusion import denoiser
from inr.diffusion.denoiser import DENOISERS, DenoiserConfig
from inr.diffusion.tokens import Tokenizer
from inr.io import load_tree, open_tree, save_tree
from inr.learned import read_params, v1_name
from inr.schema import from_dict
from inr.weightspace import models
from inr.weightspace.models import WEIGHT_MODELS, DWSNetConfig, WeightModelConfig
from inr.weightspace.probes import make_probe
from inr.weightspace.space import WeightSpace
from tests.weightspace.test_dws import siren_field

V1 = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "v1")


def weight_model(cfg):
    space = WeightSpace((2, 6, 6, 1))
    return WEIGHT_MODELS.get(cfg.name)(cfg, space, 10, make_probe(siren_field(6), space, [(0.0, 1.0)] * 6))


def v1_model(kind, name):
    """``(net, params, inputs, output)`` of a version-1 fixture."""
    with open_tree(os.path.join(V1, f"{kind}-{name}.safetensors")) as f:
        meta = f.metadata()
        if kind == "weightmodel":
            net, prefix = weight_model(from_dict(WeightModelConfig, models.upgrade_v1(meta["config"]))), ""
        else:
            cfg = from_dict(DenoiserConfig, denoiser.upgrade_v1(meta["config"]))  # format 1: one flat section
            net = DENOISERS.get(name)(cfg, Tokenizer.from_layout(meta["layout"]))
            prefix = "params"
        params = read_params(f, prefix, net, format_version=1)
    with open_tree(os.path.join(V1, f"{kind}-{name}.io.safetensors")) as f:
        names = sorted(f.names() - {"output"})
        if kind == "weightmodel":
            inputs = ([f.array(f"input.{i}") for i in range(len(names))],)
        else:
            inputs = (f.array("xt"), f.array("t"))
        return net, params, inputs, f.array("output")


@pytest.mark.parametrize("kind,name", [("weightmodel", "dws"), ("weightmodel", "mlp"), ("denoiser", "transformer"),
                                       ("denoiser", "dws"), ("denoiser", "mlp")])
def test_version_1_files_give_the_hand_written_networks_outputs(kind, name):
    net, params, inputs, output = v1_model(kind, name)
    got = np.asarray(jax.jit(net.apply)(params, *inputs))
    # eager, today's modules give the fixture's outputs to 4e-7; compiled, XLA's fusions move the
    # SIREN probes' sines by up to 2e-4 (a misplaced weight moves outputs by 1e-1)
    np.testing.assert_allclose(got, output, rtol=1e-3, atol=1e-4)


def test_v1_names():
    assert v1_name("head.0.W") == "head.0.kernel"
    assert v1_name("params.blocks.1.ln1.g") == "params.blocks.1.ln1.scale"
    assert v1_name("layers.0.attention.2.b_o") == "layers.0.attention.2.O.bias"
    assert v1_name("layers.0.bias.3") == "layers.0.bias.3"  # a DWS layer's own bias list keeps its name


def test_init_is_a_pure_function_of_the_key_and_saved_trees_reload_by_the_template(tmp_path):
    net = weight_model(DWSNetConfig(channels=4, layers=2, head=[8], heads=2, probes=5, attention=True))
    a, b = net.init(jax.random.PRNGKey(3)), net.init(jax.random.PRNGKey(3))
    c = net.init(jax.random.PRNGKey(4))
    leaves = jax.tree_util.tree_leaves
    assert all(np.array_equal(x, y) for x, y in zip(leaves(a), leaves(b)))
    assert not all(np.array_equal(x, y) for x, y in zip(leaves(a), leaves(c)))
    save_tree(tmp_path / "m.safetensors", {"": a})
    # the template the loaders read by is init's tree, leaf for leaf, without building the module again
    assert jax.tree_util.tree_structure(net.template) == jax.tree_util.tree_structure(a)
    assert [(x.shape, x.dtype) for x in leaves(net.template)] == [(x.shape, x.dtype) for x in leaves(a)]
    back = load_tree(tmp_path / "m.safetensors", "", net.template)
    xs = v1_model("weightmodel", "dws")[2][0]
    apply = jax.jit(net.apply)
    np.testing.assert_array_equal(apply(back, xs), apply(a, xs))
