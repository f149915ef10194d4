"""Training: the run (data, vocabulary, optimiser, loop, rounds), checkpoints, distributed data
parallel, pretrained vectors and character LM text.
"""
