"""Tagging with a loaded model: loading any model directory or export, the Tagger API, and
streaming prediction over files.
"""
