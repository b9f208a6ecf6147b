#!/usr/bin/python3
"""make_golden.py - writes the PyTorch golden fixtures that tests/test_golden.c checks.

Development time only (Debian's python3-torch and python3-h5py); CI uses the
committed files tests/fixtures/golden_encdec.h5 and golden_decoder.h5.

    /usr/bin/python3 tests/make_golden.py            # rewrites both fixtures

The architecture is the reference's (shared/reference/torch_ref.py, imported,
not copied): its Model supplies the modules and the state_dict names. Its
forward has no key-padding mask, so the forward here re-runs the same modules
with the standard masking: scores of padded keys are set to -inf before the
softmax in encoder self-attention and decoder cross-attention. The decoder's
self-attention is causal only, as in nt_model_loss (with right padding a real
query never sees a padded key; padded queries take no loss).

Values are made float32 (what the fixture stores), then everything is computed
in float64 from those float32 weights, so the expected numbers carry no
float32 rounding of their own.

Fixture layout (h5py, readable by h5dump):
    /config                 attrs as DESIGN.md's checkpoint (arch, vocab_size, ...)
    /model/<name>           float32 weights, the reference's state_dict
    /inputs/src, src_mask   int32 (B, S)        (encdec only)
    /inputs/tgt_in, labels  int32 (B, T)
    /expected/logits        float32 (B, T, V)
    /expected/loss          float64 scalar: mean CE over labels != 0
    /expected/loss_ls       float64 scalar: same with label_smoothing 0.1
    /expected/cross_attn    float32 (B, T, S): last decoder layer's cross-attention
                            weights averaged over heads (encdec only)
    /expected/grads/<name>  float32 d loss / d param (loss without smoothing)
    /expected/adamw_losses  float64 (6,): loss after k = 0..5 AdamW steps
                            (torch.optim.AdamW over m.parameters(), one group,
                            attrs lr, beta1, beta2, eps, weight_decay; weight
                            decay on every parameter, as PyTorch's default)
"""
import math
import os
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("NT_REFERENCE", "/work/shared/reference"))
import torch_ref  # noqa: E402

MAX_LEN = 16
ADAMW = dict(lr=1e-3, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.01)


def attention(a, x, mem=None, causal=False, key_mask=None, probs=None):
    """The reference Attention's math on its own q/k/v/o, plus a key-padding mask."""
    B, T, D = x.shape
    H = a.h
    split = lambda t: t.view(B, -1, H, D // H).transpose(1, 2)
    src = x if mem is None else mem
    q, k, v = split(a.q(x)), split(a.k(src)), split(a.v(src))
    att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(D // H))     # (B, H, T, Tk)
    Tk = k.shape[2]
    if causal:
        att = att.masked_fill(torch.ones(T, Tk, dtype=torch.bool).triu(1 + Tk - T), float("-inf"))
    if key_mask is not None:
        att = att.masked_fill(~key_mask.bool()[:, None, None, :], float("-inf"))
    p = att.softmax(-1)
    if probs is not None:
        probs.append(p.mean(1))                                    # (B, T, Tk)
    y = p @ v
    return a.o(y.transpose(1, 2).reshape(B, T, D))


def block(b, x, mem=None, causal=False, self_mask=None, mem_mask=None, probs=None):
    x = x + attention(b.self_attn, b.ln_self(x), causal=causal, key_mask=self_mask)
    if hasattr(b, "cross_attn"):
        x = x + attention(b.cross_attn, b.ln_cross(x), mem=mem, key_mask=mem_mask, probs=probs)
    return x + b.mlp(b.ln_mlp(x))


def forward(m, src, src_mask, tgt_in, probs=None):
    mem = None
    if hasattr(m, "encoder"):
        e = m.encoder
        x = m.embed(src) + e.pos(torch.arange(src.shape[1]))
        for b in e.layers:
            x = block(b, x, self_mask=src_mask)
        mem = e.ln(x)
    d = m.decoder
    x = m.embed(tgt_in) + d.pos(torch.arange(tgt_in.shape[1]))
    for b in d.layers:
        x = block(b, x, mem, causal=True, mem_mask=src_mask, probs=probs)
    return d.ln(x) @ m.embed.weight.T                               # (B, T, V)


def loss_of(logits, labels, smoothing=0.0):
    V = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, V), labels.reshape(-1).long(), ignore_index=0,
                           label_smoothing=smoothing)


def randomize(m, gen):
    """Larger values than the reference's init (normal 0.02) so every term of
    the forward and backward matters to the comparison."""
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("weight") and p.dim() == 2:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
            elif name.endswith("weight"):                            # LayerNorm
                p.copy_(1.0 + torch.randn(p.shape, generator=gen) * 0.1)
            else:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
            p.copy_(p.float().double())


def write(path, arch, cfg, src, src_mask, tgt_in, labels, seed):
    torch_ref.MAX_LEN = MAX_LEN
    gen = torch.Generator().manual_seed(seed)
    m = torch_ref.Model(**cfg).double()
    randomize(m, gen)
    sd0 = {k: v.detach().float().clone() for k, v in m.state_dict().items()}

    # Without masks the forward here is the reference's own, to the last bit.
    with torch.no_grad():
        ref = m.decode(tgt_in, m.encode(src) if src is not None else None)
        assert torch.equal(forward(m, src, None, tgt_in), ref), "forward differs from torch_ref"

    probs = []
    logits = forward(m, src, src_mask, tgt_in, probs)
    loss = loss_of(logits, labels)
    loss_ls = loss_of(logits, labels, 0.1)
    m.zero_grad()
    loss.backward()
    grads = {n: p.grad.detach().float().clone() for n, p in m.named_parameters()}
    assert set(grads) == set(sd0), "every state_dict entry is a parameter"

    opt = torch.optim.AdamW(m.parameters(), **ADAMW)
    losses = []
    for k in range(6):
        opt.zero_grad()
        l = loss_of(forward(m, src, src_mask, tgt_in), labels)
        losses.append(l.item())
        if k < 5:
            l.backward()
            opt.step()

    with h5py.File(path, "w") as f:
        c = f.create_group("config")
        c.attrs["arch"] = arch
        c.attrs["vocab_size"] = cfg["vocab"]
        c.attrs["d_model"] = cfg["d_model"]
        c.attrs["heads"] = cfg["heads"]
        c.attrs["enc_layers"] = cfg["enc_layers"]
        c.attrs["dec_layers"] = cfg["dec_layers"]
        c.attrs["max_len"] = MAX_LEN
        for k, v in sd0.items():
            f[f"model/{k}"] = v.numpy()
        i = f.create_group("inputs")
        if src is not None:
            i["src"] = src.numpy().astype(np.int32)
            i["src_mask"] = src_mask.numpy().astype(np.int32)
        i["tgt_in"] = tgt_in.numpy().astype(np.int32)
        i["labels"] = labels.numpy().astype(np.int32)
        e = f.create_group("expected")
        e["logits"] = logits.detach().float().numpy()
        e["loss"] = np.float64(loss.item())
        e["loss_ls"] = np.float64(loss_ls.item())
        if probs:
            e["cross_attn"] = probs[-1].detach().float().numpy()
        for k, v in grads.items():
            e[f"grads/{k}"] = v.numpy()
        a = e.create_dataset("adamw_losses", data=np.array(losses, dtype=np.float64))
        a.attrs["lr"] = ADAMW["lr"]
        a.attrs["beta1"], a.attrs["beta2"] = ADAMW["betas"]
        a.attrs["eps"] = ADAMW["eps"]
        a.attrs["weight_decay"] = ADAMW["weight_decay"]
    print(f"{path}: loss {loss.item():.6f}, adamw {losses[0]:.6f} -> {losses[-1]:.6f}, "
          f"{os.path.getsize(path)} bytes")


def main():
    out = os.path.join(HERE, "fixtures")
    os.makedirs(out, exist_ok=True)
    I = lambda rows: torch.tensor(rows, dtype=torch.int64)

    # Encoder-decoder, V 23, D 16, H 2, 2 + 2 layers; padding inside the batch
    # on both sides (rows of different lengths, right-padded with 0).
    cfg = dict(vocab=23, d_model=16, heads=2, enc_layers=2, dec_layers=2)
    src = I([[7, 12, 5, 9, 17, 22, 2],
             [11, 6, 2, 0, 0, 0, 0],
             [5, 8, 19, 13, 2, 0, 0]])
    tgt_in = I([[1, 9, 14, 6, 20, 8],
                [1, 16, 10, 0, 0, 0],
                [1, 21, 7, 12, 5, 0]])
    labels = I([[9, 14, 6, 20, 8, 2],
                [16, 10, 2, 0, 0, 0],
                [21, 7, 12, 5, 2, 0]])
    write(os.path.join(out, "golden_encdec.h5"), "encdec", cfg, src, (src != 0).long(), tgt_in,
          labels, seed=1)

    # Decoder-only: <bos> src <sep> tgt <eos>, loss on the target part only
    # (labels 0 on the prompt and on padding).
    cfg = dict(vocab=23, d_model=16, heads=2, enc_layers=0, dec_layers=2)
    tgt_in = I([[1, 7, 12, 5, 4, 9, 14, 6, 20, 8],
                [1, 11, 6, 4, 16, 10, 0, 0, 0, 0],
                [1, 5, 8, 19, 13, 4, 21, 7, 0, 0]])
    labels = I([[0, 0, 0, 0, 9, 14, 6, 20, 8, 2],
                [0, 0, 0, 16, 10, 2, 0, 0, 0, 0],
                [0, 0, 0, 0, 0, 21, 7, 2, 0, 0]])
    write(os.path.join(out, "golden_decoder.h5"), "decoder", cfg, None, None, tgt_in, labels,
          seed=2)


if __name__ == "__main__":
    main()
