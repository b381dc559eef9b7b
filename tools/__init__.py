"""Repository tools, not shipped with the package: `python -m tools.render_docs` regenerates the documents."""
