"""The networks that run a model without torch: the backend protocol, the NumPy runtime and
ONNX Runtime.
"""
