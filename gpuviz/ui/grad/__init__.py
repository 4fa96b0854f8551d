"""The "Weight gradients" panel: a dense layer, where each entry of ∇_W L comes from, batches and training."""
