"""Scripts beside the harness: the real checkpoint (fetch_smollm2.py) and its logit margins (logit_margins.py)."""
