"""A model for ``rmthess analyze examples/analyze_mlp.toml``: the paper's 1-hidden-layer network.

Built like the paper's code: ``nn.Linear`` layers without biases at PyTorch's default
initialization, standard Gaussian inputs, 10 classes, mean cross-entropy.
"""

import torch


def build():
    """Return (model, loss_fn, data)."""
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    d, m, classes, n = 64, 16, 10, 128
    model = torch.nn.Sequential(torch.nn.Linear(d, m, bias=False), torch.nn.ReLU(),
                                torch.nn.Linear(m, classes, bias=False))
    X = torch.randn(n, d, generator=gen)
    y = torch.randint(0, classes, (n,), generator=gen)
    return {"model": model, "loss_fn": torch.nn.CrossEntropyLoss(), "data": (X, y),
            "init": "torch-default"}
