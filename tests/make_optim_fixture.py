#!/usr/bin/python3
"""make_optim_fixture.py - PyTorch reference updates for tests/test_optim.c.

Writes tests/fixtures/optim.txt: a few named parameters, their initial values,
5 steps of gradients and learning rates, and for each optimizer case the
values after every step, computed by torch.optim (SGD, Adam, AdamW) with the
decay rule of train/optim.h expressed as two parameter groups (decay /
no decay), or one group for decay_all. Dev-time only (Debian python3-torch):

    /usr/bin/python3 tests/make_optim_fixture.py > tests/fixtures/optim.txt
"""
import sys

import numpy as np
import torch

PARAMS = [("enc.lin.weight", (3, 4)), ("enc.lin.bias", (3,)), ("enc.ln_mlp.weight", (4,)),
          ("embed.weight", (5, 2)), ("dec.proj.weight", (2, 3))]
NO_DECAY = {"enc.lin.bias", "enc.ln_mlp.weight", "embed.weight"}
LRS = [0.01, 0.02, 0.005, 0.01, 0.015]

# name, kind, momentum, nesterov, beta1, beta2, eps, weight_decay, decay_all
CASES = [
    ("sgd", "sgd", 0.0, 0, 0.9, 0.999, 1e-8, 0.0, 0),
    ("sgd_momentum_wd", "sgd", 0.9, 0, 0.9, 0.999, 1e-8, 0.05, 0),
    ("sgd_nesterov", "sgd", 0.9, 1, 0.9, 0.999, 1e-8, 0.0, 0),
    ("adam", "adam", 0.0, 0, 0.9, 0.999, 1e-8, 0.0, 0),
    ("adam_l2", "adam", 0.0, 0, 0.8, 0.99, 1e-6, 0.1, 0),
    ("adamw", "adamw", 0.0, 0, 0.9, 0.999, 1e-8, 0.1, 0),
    ("adamw_decay_all", "adamw", 0.0, 0, 0.9, 0.98, 1e-8, 0.1, 1),
]


def fmt(a):
    return " ".join("%.9g" % x for x in np.asarray(a, dtype=np.float32).ravel())


def main():
    rng = np.random.default_rng(1234)
    init = [rng.standard_normal(s).astype(np.float32) for _, s in PARAMS]
    grads = [[rng.standard_normal(s).astype(np.float32) for _, s in PARAMS] for _ in LRS]
    out = sys.stdout
    out.write("params %d\n" % len(PARAMS))
    for (name, shape), v in zip(PARAMS, init):
        out.write("%s %d %s\n" % (name, len(shape), " ".join(map(str, shape))))
        out.write(fmt(v) + "\n")
    out.write("steps %d\n" % len(LRS))
    for lr, gs in zip(LRS, grads):
        out.write("lr %.9g\n" % lr)
        for g in gs:
            out.write(fmt(g) + "\n")
    out.write("cases %d\n" % len(CASES))
    for name, kind, mom, nest, b1, b2, eps, wd, all_ in CASES:
        ps = [torch.nn.Parameter(torch.tensor(v)) for v in init]
        if all_:
            groups = [{"params": ps, "weight_decay": wd}]
        else:
            groups = [{"params": [p for p, (n, _) in zip(ps, PARAMS) if n not in NO_DECAY],
                       "weight_decay": wd},
                      {"params": [p for p, (n, _) in zip(ps, PARAMS) if n in NO_DECAY],
                       "weight_decay": 0.0}]
        if kind == "sgd":
            opt = torch.optim.SGD(groups, lr=LRS[0], momentum=mom, nesterov=bool(nest))
        elif kind == "adam":
            opt = torch.optim.Adam(groups, lr=LRS[0], betas=(b1, b2), eps=eps)
        else:
            opt = torch.optim.AdamW(groups, lr=LRS[0], betas=(b1, b2), eps=eps)
        out.write("case %s %s %.9g %d %.9g %.9g %.9g %.9g %d\n"
                  % (name, kind, mom, nest, b1, b2, eps, wd, all_))
        for lr, gs in zip(LRS, grads):
            for g_ in opt.param_groups:
                g_["lr"] = lr
            for p, g in zip(ps, gs):
                p.grad = torch.tensor(g)
            opt.step()
            out.write(" ".join(fmt(p.detach().numpy()) for p in ps) + "\n")


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
