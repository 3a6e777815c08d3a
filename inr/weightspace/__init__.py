"""Learning on MLP weights: permutation-equivariant layers (DWSNets)."""
