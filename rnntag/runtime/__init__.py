"""The networks that run a model without torch: the backend protocol and the network inputs,
the NumPy runtime and ONNX Runtime.
"""
