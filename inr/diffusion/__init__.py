"""Weight diffusion (HyperDiffusion): a denoiser over a collection's weight tensors."""
