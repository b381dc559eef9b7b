"""Repository tools, not shipped with the package: `python -m tools.render_docs` regenerates the documents;
the real checkpoint (fetch_smollm2.py) and its logit margins (logit_margins.py)."""
