"""The splat renderer: its gradient matches finite differences; compositing; chamfer."""

import torch
from sketchgame.render import bezier_points, chamfer_px, control_points, draw


def test_gradient_matches_finite_differences() -> None:
    torch.manual_seed(0)
    strokes = (0.2 + 0.6 * torch.rand(2, 3, 6, dtype=torch.float64)).requires_grad_()
    canvas = 0.3 * torch.rand(2, 1, 12, 12, dtype=torch.float64)

    def f(s: torch.Tensor) -> torch.Tensor:
        return draw(canvas, s, sigma=0.8, k=5, gain=1.5)

    assert torch.autograd.gradcheck(f, (strokes,), eps=1e-6, atol=1e-5)


def test_gradient_check_catches_a_wrong_gradient() -> None:
    """The finite-difference comparison fails a function whose backward is deliberately wrong."""

    class Wrong(torch.autograd.Function):
        @staticmethod
        def forward(ctx, s):
            ctx.save_for_backward(s)
            return draw(torch.zeros(1, 1, 8, 8, dtype=s.dtype), s, 0.8, 5, 1.5)

        @staticmethod
        def backward(ctx, g):
            (s,) = ctx.saved_tensors
            return torch.zeros_like(s)

    s = (0.3 + 0.4 * torch.rand(1, 2, 6, dtype=torch.float64)).requires_grad_()
    assert not torch.autograd.gradcheck(Wrong.apply, (s,), raise_exception=False)


def test_relative_control_point_and_endpoints() -> None:
    s = torch.tensor([[0.1, 0.2, 0.5, 0.25, 0.9, 0.6]])
    P = control_points(s)[0]
    assert torch.allclose(P[1], torch.tensor([0.5, 0.3]))  # x0 + (x2 − x0)·x1, y likewise
    pts = bezier_points(s, 5)[0]
    assert torch.allclose(pts[0], P[0]) and torch.allclose(pts[-1], P[2])


def test_compositing_is_sequential_over():
    torch.manual_seed(1)
    s = torch.rand(1, 2, 6)
    one_by_one = torch.zeros(1, 1, 10, 10)
    for i in range(2):
        one_by_one = draw(one_by_one, s[:, i : i + 1], 0.7, 6, 1.5)
    assert torch.allclose(draw(torch.zeros(1, 1, 10, 10), s, 0.7, 6, 1.5), one_by_one, atol=1e-6)


def test_ink_lies_on_the_stroke() -> None:
    s = torch.tensor([[[0.2, 0.5, 0.5, 0.5, 0.8, 0.5]]])  # horizontal line at y = 0.5
    img = draw(torch.zeros(1, 1, 20, 20), s, 0.6, 12, 1.5)[0, 0]
    assert img[9:11, 6:14].min() > 0.5 and img[:5].max() < 1e-3


def test_chamfer_zero_for_same_strokes_and_grows_with_shift() -> None:
    s = torch.rand(3, 4, 6)
    assert torch.allclose(chamfer_px(s, s, 32), torch.zeros(3), atol=1e-5)
    shifted = s.clone()
    shifted[..., [0, 4]] += 2 / 32
    assert (chamfer_px(s, shifted, 32) > 1.0).all()
