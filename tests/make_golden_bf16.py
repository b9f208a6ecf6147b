#!/usr/bin/python3
"""make_golden_bf16.py - PyTorch autocast-bf16 expectations for tests/test_golden_bf16.c.

Development time only (Debian's python3-torch and python3-h5py); CI uses the
committed tests/fixtures/golden_bf16.h5.

    /usr/bin/python3 tests/make_golden_bf16.py

For each float32 golden fixture of make_golden.py (golden_encdec.h5,
golden_decoder.h5: weights, a padded batch, float64 expectations), this runs
the same forward (make_golden.forward, imported) in float32 under
torch.autocast("cpu", dtype=torch.bfloat16) - what a PyTorch user's bf16
training step does - and stores what it gives:

    /<fixture stem>/logits          float32 (B, T, V)  autocast logits, as float32
    /<fixture stem>/loss            float64 scalar     mean CE over labels != 0
    /<fixture stem>/grads/<name>    float32            d loss / d param

Weights and inputs are read from the float32 fixture, not repeated here.
"""
import os
import sys

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_golden  # noqa: E402  (imports torch_ref too)

torch_ref = make_golden.torch_ref


def autocast_run(path):
    with h5py.File(path, "r") as f:
        c = f["config"].attrs
        cfg = dict(vocab=int(c["vocab_size"]), d_model=int(c["d_model"]), heads=int(c["heads"]),
                   enc_layers=int(c["enc_layers"]), dec_layers=int(c["dec_layers"]))
        torch_ref.MAX_LEN = int(c["max_len"])
        sd = {k: torch.from_numpy(f["model"][k][()]) for k in f["model"]}
        inp = {k: torch.from_numpy(f["inputs"][k][()]).long() for k in f["inputs"]}
    m = torch_ref.Model(**cfg).float()
    m.load_state_dict(sd)
    src, src_mask = inp.get("src"), inp.get("src_mask")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = make_golden.forward(m, src, src_mask, inp["tgt_in"])
    loss = make_golden.loss_of(logits.float(), inp["labels"])
    m.zero_grad()
    loss.backward()
    grads = {n: p.grad.detach().float().numpy() for n, p in m.named_parameters()}
    return logits.detach().float().numpy(), float(loss.item()), grads


def main():
    fixtures = os.path.join(HERE, "fixtures")
    out = os.path.join(fixtures, "golden_bf16.h5")
    with h5py.File(out, "w") as f:
        f.attrs["torch_version"] = str(torch.__version__)
        for stem in ("golden_encdec", "golden_decoder"):
            logits, loss, grads = autocast_run(os.path.join(fixtures, stem + ".h5"))
            g = f.create_group(stem)
            g["logits"] = logits
            g["loss"] = np.float64(loss)
            for k, v in grads.items():
                g[f"grads/{k}"] = v
            print(f"{stem}: autocast loss {loss:.6f}")
    print(f"{out}: {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
