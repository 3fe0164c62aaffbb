"""The in-memory hybrid index: BM25 postings and a dense matrix over the stored passages."""
