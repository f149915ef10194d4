"""Model directories and exports on disk: their formats, their metadata (info), and reading the
formats older versions wrote (legacy).
"""
