"""A standardised MLP regressor y ≈ r(x), fitted by MSE: the shared body of the learned
transition g_β (``dynamics``) and of BCO's inverse-dynamics model and BC policy (``bco``)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from lanmdp.model import EnsembleMLP


class Regressor(nn.Module):
    """r(x) = y_mean + y_std·MLP((x − x_mean) / x_std), a Swish MLP; the statistics are those of
    the data of the last ``fit``."""

    def __init__(self, d_in: int, d_out: int, hidden: int, layers: int) -> None:
        super().__init__()
        self.net = EnsembleMLP(1, d_in, hidden, layers, d_out)
        for name, dim in (("x_mean", d_in), ("x_std", d_in), ("y_mean", d_out), ("y_std", d_out)):
            self.register_buffer(name, torch.zeros(dim) if "mean" in name else torch.ones(dim))

    def standardised(self, x: torch.Tensor) -> torch.Tensor:
        """The MLP's output (…, d_out), i.e. the prediction in standardised y units."""
        z = (x - self.x_mean) / self.x_std
        return self.net(z.reshape(1, -1, z.shape[-1])).reshape(*z.shape[:-1], -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.y_mean + self.y_std * self.standardised(x)

    def fit(self, x: np.ndarray, y: np.ndarray, steps: int, batch: int, lr: float) -> float:
        """Refit the statistics on (x, y), then ``steps`` AdamW steps (weight decay 1e-4, as the
        official dynamics) of MSE in standardised units from the current weights; the last
        batch loss."""
        dev = self.x_mean.device
        x_t, y_t = (torch.as_tensor(v, dtype=torch.float32, device=dev) for v in (x, y))
        for name, v in (("x", x_t), ("y", y_t)):
            getattr(self, f"{name}_mean").copy_(v.mean(0))
            getattr(self, f"{name}_std").copy_(v.std(0) + 1e-3)
        target = (y_t - self.y_mean) / self.y_std
        opt = torch.optim.AdamW(self.net.parameters(), lr=lr, weight_decay=1e-4)
        loss = torch.tensor(0.0)
        for _ in range(steps):
            idx = torch.randint(len(x_t), (batch,), device=dev)
            loss = ((self.standardised(x_t[idx]) - target[idx]) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return loss.item()
