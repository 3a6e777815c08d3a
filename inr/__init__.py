"""inr: neural fields (implicit neural representations) in JAX."""
from inr.collections.format import Collection, load_collection
from inr.fields.io import load_field, save_field
from inr.fields.layout import flatten, from_mlp_layers, layout, mlp_layers, unflatten
from inr.fields.model import Field, build_field

__version__ = "0.1.0"

__all__ = [
    "Field", "build_field", "load_field", "save_field", "Collection", "load_collection",
    "flatten", "unflatten", "layout", "mlp_layers", "from_mlp_layers",
]
