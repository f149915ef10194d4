"""Reading and writing data: CoNLL, CoNLL-U, span JSONL and raw text, the format detection that
reads any of them, conversion between them, prediction files and the HTML view.
"""
