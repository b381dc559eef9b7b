"""Whether the reference.pt a resume finds may judge the strategies still to run: readable, made for
this run's job, and holding the answers of every length the baseline measured.

    identity = reference_identity(job)       # the baseline's worker stamps it into the file
    problem = reference_problem(job, [8, 24])  # None: keep it; else why the baseline runs again
                                               # ConfigError: another run's file (named key by key)

A file that cannot be read (cut short, overwritten, not a file) only costs measurements: the run
measures everything again, the baseline first, which writes it anew. A file made for another job
(another model seed, other prompts) is refused instead: someone put it there, and measuring over it
would hide that.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json

import torch

from bench.config.capped_file import open_regular
from bench.config.errors import ConfigError, shown
from bench.jobs.job import Job
from bench.judging.references import IDENTITY_KEY, REFERENCE_FILE, prompt_key

DIGEST_SHOWN = 12  # hex digits of a digest in a message: enough to tell two apart
REASON_CHARS = 120  # of the error that made a file unreadable: its first line, as run.json's are cut


def reference_identity(job: Job) -> dict[str, str | int]:
    """What fixes the baseline's answers: the model, its weights' seed, dtype, attention and device, the
    ranks, the sampling, the prompts' seed and a digest of every prompt and request."""
    model, sampling = job.config.model, job.config.sampling
    return {"model": model.preset or model.config or model.name_or_path, "model_seed": model.seed,
            "dtype": model.dtype, "attention": model.attn_implementation, "device": job.device,
            "tensor_parallel": model.tensor_parallel, "tp_reference": model.tp_reference,
            "sampling": f"{sampling.mode}, seed {sampling.seed}, temperature {sampling.temperature:g}",
            "prompts_seed": job.prompt_source.seed, "prompts_sha256": prompts_digest(job)}


def prompts_digest(job: Job) -> str:
    """sha256 of every judged prompt, the unseen-length probe's and what fixes the timed requests' own."""
    measure = job.config.measure
    fixed = {"prompts": {str(n): prompts for n, prompts in job.prompts.items()},
             "unseen": [job.unseen_len, job.unseen_prompt], "source": dataclasses.asdict(job.prompt_source),
             "requests": [measure.warmup, measure.repeats]}
    return hashlib.sha256(json.dumps(fixed, sort_keys=True).encode()).hexdigest()


def reference_problem(job: Job, lengths) -> str | None:
    """Why the references in the job's run folder cannot judge the rest of the run (missing, unreadable,
    made by an older version, lacking a length in `lengths`), or None. A ConfigError naming each key
    where they were made for another job."""
    path = job.run_folder / REFERENCE_FILE
    if not path.exists():
        return f"{path} is missing"
    try:
        with open_regular(path, f"{path}: cannot be read") as f:
            data = torch.load(f, weights_only=True)  # tensors, ints and dicts only
    except ConfigError as exc:  # a folder, a FIFO
        return str(exc)
    except Exception as exc:  # cut short, overwritten: torch and pickle raise many kinds
        reason = (str(exc).splitlines() or [""])[0][:REASON_CHARS]
        return f"{path}: cannot be read ({type(exc).__name__}: {reason})"
    identity = data.get(IDENTITY_KEY) if isinstance(data, dict) else None
    if not isinstance(identity, dict):
        return f"{path} does not say which run it was made for (an older version, or not the baseline's answers)"
    changed = [f"{key} {identity_value(identity.get(key))} (this run: {identity_value(value)})"
               for key, value in reference_identity(job).items() if identity.get(key) != value]
    if changed:  # another job's answers would judge every strategy wrong: refused, never measured over
        raise ConfigError(f"{path}: made for another run: {'; '.join(changed)}; remove it to measure the "
                          f"baseline again, or pass --overwrite")
    # a length's judged prompts and its timed tokens are saved together: its prompts stand for the length
    missing = [prompt_key(n, k) for n in lengths for k in range(len(job.prompts[n])) if prompt_key(n, k) not in data]
    if missing:
        return f"{path} lacks the baseline's answers to {', '.join(missing[:3])}"
    return None


def identity_value(value) -> str:
    """A value of the identity for a message: a digest cut to DIGEST_SHOWN digits, anything else shown."""
    if isinstance(value, str) and len(value) == hashlib.sha256().digest_size * 2:
        return value[:DIGEST_SHOWN] + "..."
    return shown(value)
