"""Signed distance fields of meshes and oriented point clouds."""
from inr.modalities.sdf import modality  # noqa: F401  (registers "sdf")
