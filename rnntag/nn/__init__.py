"""The torch network: the model, its CRF, batches of tensors, saving and loading its weights,
and the torch and TorchScript backends.
"""
