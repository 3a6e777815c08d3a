"""Collections: many fields of one architecture fitted together and stored as
one weight dataset (``weights.safetensors`` + ``collection.json``)."""
