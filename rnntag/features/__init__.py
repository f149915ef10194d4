"""From sentences to arrays: the vocabulary, document context, encoding into padded arrays, and
the weight layout the network inputs imply.
"""
