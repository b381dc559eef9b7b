"""Tensor parallel over the GPUs of one host: the plan, the sharded build and the rank launcher."""
