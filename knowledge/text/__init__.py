"""Text handling: cleaning page furniture, sentence splitting, passages, tokens for BM25."""
