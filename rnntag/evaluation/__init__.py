"""Scoring predictions against gold (entity P/R/F1, tag accuracy), evaluating a model on a
file, error breakdowns and metric plots.
"""
