import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file

from inr.errors import InrError
from inr.io import load_tree, open_tree, read_format_json, read_metadata, save_tree, tree_entries


def _tree():
    return {"mlp": [{"W": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.ones(3, np.float32)}],
            "encoding": {"grid": np.full((4,), 2.0, np.float32)}}


def test_nested_tree_round_trips_with_metadata(tmp_path):
    path = tmp_path / "t.safetensors"
    save_tree(path, {"params": _tree(), "score": 0.5}, {"step": 7, "history": [{"loss": 1.0}], "name": "x"})
    got = load_tree(path, "params", jax.tree_util.tree_map(np.zeros_like, _tree()))
    for (n, a), (m, b) in zip(tree_entries(got), tree_entries(_tree())):
        assert n == m and np.array_equal(a, b)
    assert load_tree(path, "score", 0.0) == 0.5 and isinstance(load_tree(path, "score", 0.0), float)
    assert read_metadata(path) == {"step": 7, "history": [{"loss": 1.0}], "name": "x"}
    # readable without this library: canonical names, JSON metadata
    with safe_open(str(path), framework="numpy") as f:
        assert set(f.keys()) == {"params.mlp.0.W", "params.mlp.0.b", "params.encoding.grid", "score"}
        assert json.loads(f.metadata()["history"]) == [{"loss": 1.0}]
    assert not list(tmp_path.glob(".*tmp*"))  # written through a temporary name


def test_missing_mismatched_and_corrupt_files_name_the_file(tmp_path):
    path = tmp_path / "t.safetensors"
    with pytest.raises(InrError, match=r"t\.safetensors: not found"):
        load_tree(path, "params", _tree())
    save_tree(path, {"params": _tree()})
    wrong = _tree()
    wrong["mlp"][0]["W"] = np.zeros((3, 3), np.float32)
    with pytest.raises(InrError, match=r"t\.safetensors: incompatible weight file: array params\.mlp\.0\.W has shape"):
        load_tree(path, "params", wrong)
    with pytest.raises(InrError, match=r"t\.safetensors: incompatible weight file: no array other\.encoding\.grid"):
        load_tree(path, "other", _tree())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InrError, match=r"t\.safetensors: corrupt weight file"):
        load_tree(path, "params", _tree())


def test_files_of_other_writers_read(tmp_path):
    # plain safetensors with plain-string metadata, as the library wrote before this module
    path = tmp_path / "old.safetensors"
    save_file({"params.mlp.0.W": np.ones((2, 3), np.float32)}, str(path), metadata={"step": "3", "note": "hi there"})
    with open_tree(path) as f:
        assert f.metadata() == {"step": 3, "note": "hi there"}
        assert f.tree("params", {"mlp": [{"W": jnp.zeros((2, 3))}]})["mlp"][0]["W"].shape == (2, 3)


def test_read_format_json(tmp_path):
    path = tmp_path / "a.json"
    with pytest.raises(InrError, match="a.json: not found; try"):
        read_format_json(path, "inr.x", 1, "thing", "; try")
    path.write_text(json.dumps({"format": "inr.x", "format_version": 2}))
    with pytest.raises(InrError, match="newer"):
        read_format_json(path, "inr.x", 1, "thing", "")
    assert read_format_json(path, "inr.x", 2, "thing", "")["format_version"] == 2
