"""What every layer uses: the error family, atomic file writes and reading, and the result
objects (tokens, entities, sentences, documents).
"""
