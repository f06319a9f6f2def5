"""Utilities that stand beside the library: ``minigrad.utils.tensorboard`` (TensorBoard logging)."""
