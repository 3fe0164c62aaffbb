"""Sentence vectors from the passage's own pass, against sentences embedded alone (issue 11).

Usage: python bench/sentence_pooling.py [alone|pooled|mix]

Ingestion embeds each passage and, separately, each of its sentences (for highlights and the
best-sentence part of the dense signal). One forward pass per passage would do if a sentence's
vector could be the mean of the passage pass's token states over that sentence. This builds
the founding library (temporary SQLite, bundled model), replaces every stored sentence vector
by that mean ("pooled"), or by the normalised sum of it and the alone-embedded vector ("mix"),
reloads the index from the database, and prints the agreement with the alone-embedded vectors
and bench/retrieval_eval.py's MRR per set; "alone" prints the shipped configuration's MRR.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import retrieval_eval  # noqa: E402
from sqlalchemy import select  # noqa: E402

from knowledge.embedding.onnx_model import OnnxEmbedder  # noqa: E402
from knowledge.service import KnowledgeService  # noqa: E402
from knowledge.settings import Settings  # noqa: E402
from knowledge.store.tables import ArticleRow, PassageRow  # noqa: E402

SETS = ("original", "issue-13 tuning", "issue-13 held-out", "fresh held-out",
        "fresh2 held-out", "fresh3 held-out", "rich")


def pooled_vectors(embedder: OnnxEmbedder, document: str, prefix: int,
                   spans: list[list[int]], alone: np.ndarray, mix: bool) -> np.ndarray:
    """Each sentence's vector from one pass over the passage as the model sees it."""
    encoding = embedder._tokenizer.encode(document)
    ids = np.asarray([encoding.ids], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids),
             "token_type_ids": np.asarray([encoding.type_ids], dtype=np.int64)}
    (states,) = embedder._session.run(None, {n: feeds[n] for n in embedder._inputs})
    out = []
    for k, (a, b) in enumerate(spans):
        inside = [i for i, (x, y) in enumerate(encoding.offsets)
                  if y > x and x >= a + prefix and y <= b + prefix]
        if not inside:  # truncated away: keep the alone-embedded vector
            out.append(alone[k])
            continue
        v = states[0][inside].mean(axis=0)
        v = v / np.linalg.norm(v)
        if mix:
            v = v + alone[k]
            v = v / np.linalg.norm(v)
        out.append(v)
    return np.asarray(out, dtype=np.float32)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("alone", "pooled", "mix"), nargs="?", default="pooled")
    args = parser.parse_args()
    questions = [json.loads(line) for name in ("questions.jsonl", "questions_rich.jsonl")
                 for line in (HERE / name).read_text().splitlines() if line]
    questions += [{**json.loads(line), "set": name} for name in ("fresh", "fresh2", "fresh3")
                  for line in (HERE / f"questions_{name}.jsonl").read_text().splitlines() if line]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), index_cache=False,  # type: ignore[call-arg]
                            _env_file=None)
        service = KnowledgeService.open(settings, seed=False)
        embedder = service.embedder
        if not isinstance(embedder, OnnxEmbedder):
            raise SystemExit("needs the bundled ONNX embedder")
        if args.mode != "alone":
            library = service.library
            with library.read() as session:
                titles = dict(session.execute(select(ArticleRow.id, ArticleRow.title)).all())
                rows = session.execute(select(PassageRow.id, PassageRow.article_id,
                                              PassageRow.text, PassageRow.sentence_spans,
                                              PassageRow.sentence_embeddings)).all()
            agreement, new = [], {}
            for pid, aid, text, spans, blob in rows:
                alone = np.frombuffer(blob, np.float16).reshape(len(spans), -1)
                alone = alone.astype(np.float32)
                prefix = f"{titles[aid]}\n"  # as embedding_document gives the model
                vectors = pooled_vectors(embedder, prefix + text, len(prefix), spans, alone,
                                         args.mode == "mix")
                agreement += list((vectors * alone).sum(axis=1))
                new[pid] = vectors.astype(np.float16).tobytes()
            with library.write() as session:
                for pid, blob in new.items():
                    row = session.get(PassageRow, pid)
                    assert row is not None
                    row.sentence_embeddings = blob
            library.load_index(use_cache=False)
            print(f"{len(rows)} passages, {len(agreement)} sentences: agreement with the "
                  f"alone-embedded vectors mean {np.mean(agreement):.3f}, "
                  f"min {np.min(agreement):.3f}")
        metrics = retrieval_eval.report(questions,
                                        retrieval_eval.question_ranks(service, questions))
        service.close()
    print(f"mode {args.mode}: understood-mode MRR (hit@1)")
    for name in SETS:
        m = metrics[name]["understood"]
        print(f"  {name:18s} {m['mrr']:.3f} ({m['hit@1']:.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
