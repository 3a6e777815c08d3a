"""Signal types. Importing this package registers every modality."""
from inr.modalities import audio, image, sdf  # noqa: F401  (each registers itself)
from inr.modalities.base import MODALITIES

__all__ = ["MODALITIES"]
