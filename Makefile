# `make bench` and `make test` build their own virtual environment on first use.
# On a machine without network (the GPU box) pass an interpreter that already has
# the dependencies: `make bench-gpu PYTHON=python3`.
VENV ?= .venv
PYTHON ?= $(VENV)/bin/python
CONFIG ?= configs/default.yaml
GPU_CONFIG ?= configs/h200-llama2-7b.yaml
# torch 2.13.0 is the CPU build that lies on the dev/CI disk; an unpinned torch pulls a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0
# transformers pinned to the version of the GPU machine, so CPU and GPU runs use the same model code.
TRANSFORMERS_SPEC ?= transformers==5.17.0
# the report toolchain pinned, so `make tables` rebuilds committed tables and plots byte for byte
REPORT_SPEC ?= pandas==3.1.1 matplotlib==3.11.2 numpy==2.4.6

.PHONY: bench test tables docs readme bench-gpu test-gpu env clean-env

# The stamp file makes the install happen once; an interpreter given as PYTHON=... skips it.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q "$(TORCH_SPEC)" "$(TRANSFORMERS_SPEC)" $(REPORT_SPEC)
	$(VENV)/bin/pip install -q -e ".[test]"
	touch $@

ifeq ($(PYTHON),$(VENV)/bin/python)
env: $(VENV)/.installed
else
env:
	@$(PYTHON) -c "import torch, transformers, numpy, pandas, matplotlib, yaml, tqdm, safetensors" \
	  || { echo "error: $(PYTHON) lacks a dependency (torch, transformers, numpy, pandas, matplotlib, pyyaml, tqdm, safetensors)"; exit 2; }
endif

bench: env
	PYTHONPATH=. $(PYTHON) -m bench run $(CONFIG) --out runs/$(basename $(notdir $(CONFIG))) --overwrite

test: env
	PYTHONPATH=. $(PYTHON) -m pytest -q

tables: env
	PYTHONPATH=. $(PYTHON) -m bench report --all results

# the numbers in README.md and docs/*.md, between their `generated:` markers, from results/
# (docs/sections.yaml names which run feeds which section)
docs: env
	PYTHONPATH=. $(PYTHON) -m tools.render_docs

readme: docs

bench-gpu: env
	PYTHONPATH=. $(PYTHON) -m bench run $(GPU_CONFIG)

test-gpu: env
	PYTHONPATH=. $(PYTHON) -m pytest -q -m cuda

clean-env:
	rm -rf $(VENV)
