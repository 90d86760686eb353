import torch
from damc.configs import smoke
from damc.damc import build_learner, ebm_loss, init_posterior, init_prior, train_step
from damc.train import build_models


def _learner(sampler, **over):
    cfg = smoke()
    for k, v in over.items():
        section, key = k.split(".")
        setattr(getattr(cfg, section), key, v)
    torch.manual_seed(0)
    G, E, Q = build_models(cfg, (1, 8, 8), sampler)
    return cfg, build_learner(cfg, sampler, G, E, Q)


def test_prior_init_switch_shapes():
    x = torch.rand(6, 1, 8, 8) * 2 - 1
    cfg, lebm = _learner("lebm")
    z0 = init_posterior(lebm, x)
    assert init_prior(lebm, z0, "code").shape == (6, cfg.model.nz)
    cfg, damc = _learner("damc")
    z0 = init_posterior(damc, x)
    z_code = init_prior(damc, z0, "code")
    assert z_code.shape == (12, cfg.model.nz)
    assert torch.equal(z_code[:6], z0)  # code: [q(z|x) ; N(0, I)]
    assert init_prior(damc, z0, "paper").shape == (6, cfg.model.nz)


def test_train_step_updates_every_network():
    x = torch.rand(8, 1, 8, 8) * 2 - 1
    for sampler in ("lebm", "damc"):
        cfg, learner = _learner(sampler)
        before = {k: [p.clone() for p in m.parameters()] for k, m in learner.modules().items()}
        out = train_step(learner, x, cfg)
        assert all(torch.isfinite(torch.tensor(v)) for v in out.values())
        for k in ("G", "E", "Q"):
            if k in before:
                moved = any(
                    not torch.equal(a, b)
                    for a, b in zip(before[k], learner.modules()[k].parameters(), strict=True)
                )
                assert moved, f"{sampler}: {k} did not change"
        assert learner.iteration == 1


def test_ema_and_warmup_in_damc():
    x = torch.rand(8, 1, 8, 8) * 2 - 1
    cfg, learner = _learner("damc", **{"damc.ema_every": 2, "damc.warmup": 0})
    q_ema0 = [p.clone() for p in learner.Q_ema.parameters()]
    train_step(learner, x, cfg)  # iteration 1: no EMA yet
    assert all(torch.equal(a, b) for a, b in zip(q_ema0, learner.Q_ema.parameters(), strict=True))
    train_step(learner, x, cfg)  # iteration 2: EMA
    assert any(
        not torch.equal(a, b) for a, b in zip(q_ema0, learner.Q_ema.parameters(), strict=True)
    )


def test_prior_branch_data_switch_feeds_prior_samples_to_q():
    x = torch.rand(4, 1, 8, 8) * 2 - 1
    seen = []
    for mode in ("posterior", "prior"):
        cfg, learner = _learner("damc", **{"damc.prior_branch_data": mode, "damc.q_updates": 1})
        orig = learner.Q_train.forward

        def spy(z, xs=None, mask=None, orig=orig):
            seen.append((len(z), float(mask.sum())))
            return orig(z, xs, mask)

        learner.Q_train.forward = spy
        train_step(learner, x, cfg)
    (n_post, _), (n_prior, kept) = seen
    assert n_post == 4
    assert n_prior == 4 + 8  # z⁺ plus the 2B prior chains of prior_init="code"
    assert kept <= 4  # the prior rows always use the null context


def test_ebm_loss_gradient_lowers_positive_energy():
    cfg, learner = _learner("lebm")
    E = learner.ebm.E
    z_pos, z_neg = torch.randn(16, cfg.model.nz), torch.randn(16, cfg.model.nz) + 2
    opt = torch.optim.SGD(E.parameters(), lr=1e-2)
    gap0 = float((E(z_pos).mean() - E(z_neg).mean()).detach())
    for _ in range(5):
        opt.zero_grad()
        ebm_loss(E, z_pos, z_neg).backward()
        opt.step()
    assert float((E(z_pos).mean() - E(z_neg).mean()).detach()) < gap0
