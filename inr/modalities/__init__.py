"""Signal types. Importing this package registers every modality."""
from inr.modalities import image  # noqa: F401  (registers "image")
from inr.modalities.base import MODALITIES

__all__ = ["MODALITIES"]
