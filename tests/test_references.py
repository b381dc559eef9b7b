"""reference.pt: the baseline's answers round-trip, the timed requests' stay small, and an older file's
token-only entries are read as answers without values."""
from __future__ import annotations

import torch

from bench.judging.references import REFERENCE_FILE, References, timed_key
from bench.judging.top_answer import top_answer

LENGTHS, REQUESTS, VOCAB = 9, 110, 32000  # the H200 ipc config's timed requests, Llama-2's vocabulary


def test_timed_answers_round_trip_by_request_index(tmp_path):
    writer = References(tmp_path, writing=True)
    logits = [torch.randn(VOCAB, generator=torch.Generator().manual_seed(j)) for j in range(3)]
    writer.put_timed(24, 10, [top_answer(x, int(x.argmax())) for x in logits])
    writer.save()
    answers = References(tmp_path, writing=False).timed_answers(24)
    assert sorted(answers) == [10, 11, 12]
    for j, x in enumerate(logits):
        assert answers[10 + j].token == int(x.argmax()) and answers[10 + j].max_abs == float(x.abs().max())
        assert torch.equal(answers[10 + j].top_values, x.topk(len(answers[10 + j].top_ids)).values)
    assert References(tmp_path, writing=False).timed_answer(24, 13) is None


def test_an_older_files_timed_tokens_are_answers_without_values(tmp_path):
    torch.save({timed_key(24): {"first": 2, "tokens": [7, 8]}}, tmp_path / REFERENCE_FILE)  # format 4's entry
    answers = References(tmp_path, writing=False).timed_answers(24)
    assert {i: (a.token, a.has_values) for i, a in answers.items()} == {2: (7, False), 3: (8, False)}


def test_the_timed_answers_of_nine_lengths_of_110_requests_stay_under_a_third_of_a_megabyte(tmp_path):
    writer = References(tmp_path, writing=True)
    for n in range(LENGTHS):
        writer.put_timed(n, 10, [top_answer(torch.randn(VOCAB), 0) for _ in range(REQUESTS)])
    writer.save()
    assert (tmp_path / REFERENCE_FILE).stat().st_size < 0.3e6  # 0.27 MB measured
