"""The retrieval benchmark's claim holds: the hybrid beats BM25 and dense alone on MRR."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from knowledge.service import KnowledgeService

pytestmark = pytest.mark.model
BENCH = Path(__file__).resolve().parents[2] / "bench"


def _eval_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("retrieval_eval", BENCH / "retrieval_eval.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hybrid_beats_each_ranker_alone(real_service: KnowledgeService) -> None:
    """On the paraphrased question set, hybrid MRR is above BM25's and dense's."""
    questions = [json.loads(line) for line in (BENCH / "questions.jsonl").read_text()
                 .splitlines() if line]
    metrics = _eval_module().evaluate(real_service, questions)
    assert metrics["hybrid"]["mrr"] > metrics["dense"]["mrr"] > metrics["bm25"]["mrr"]


def test_no_match_rule_separates_on_and_off_topic(real_service: KnowledgeService) -> None:
    """Every off-topic question is refused and nearly every on-topic one answered."""
    questions = [json.loads(line)["question"] for line in (BENCH / "questions.jsonl")
                 .read_text().splitlines() if line]
    short = [q for q in (BENCH / "short_queries.txt").read_text().splitlines() if q.strip()]
    off = [q for q in (BENCH / "offtopic.txt").read_text().splitlines() if q.strip()]
    calib = _eval_module().calibration(real_service, questions + short, off)
    assert calib["off_topic_rejected"] == 1.0
    assert calib["on_topic_answered_core"] >= 0.98
