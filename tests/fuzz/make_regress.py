#!/usr/bin/env python3
"""Writes tests/fuzz/regress/: one input per crash class of issue 19, so that
test_fuzz_replay checks them in every `make test` (development time only:
the outputs are committed, CI never runs this).

ckpt_raw/: single-byte corruptions of a real sealed checkpoint
(corpus/ckpt_raw/tiny.h5) in the structures where libhdf5 crashed, hung or
silently changed data on an unchecked file: object header messages
(H5Aexists_by_name heap overflow), the global heap of the vocabulary strings
(H5HG_read SEGV; the silently changed token), chunk B-trees (H5C_protect
hangs, H5VM_memcpyvv SEGV via H5Dread), local heaps and symbol-table nodes
(link names), the superblock, the checksum header itself, and a truncation.
Each must be refused before libhdf5 parses it.

ckpt_edit/: edit scripts (see fuzz_ckpt_edit.c) for the /config bombs
(vocab_size 40,000,000; d_model 65,536 with 4,096 + 4,096 layers; d_model
2^30, the 4 * D overflow) and other deliberate edits: refused with a
message, quickly, without a huge allocation."""
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))
seed = open(os.path.join(here, "corpus/ckpt_raw/tiny.h5"), "rb").read()
raw = os.path.join(here, "regress/ckpt_raw")
edit = os.path.join(here, "regress/ckpt_edit")
os.makedirs(raw, exist_ok=True)
os.makedirs(edit, exist_ok=True)


def flip(name, off, x=0x01):
    b = bytearray(seed)
    b[off] ^= x
    open(os.path.join(raw, name), "wb").write(bytes(b))


def first(sig, skip=0):
    i = seed.find(sig)
    assert i >= 0, sig
    return i + skip


flip("superblock-signature", 512 + 3)
flip("superblock-eof-address", 512 + 40, 0x40)
flip("checksum-header-sum", seed.find(b"sum ") + 6, 0x02)
flip("object-header-config-attr-name", first(b"vocab_size", 2))  # H5Aexists_by_name heap overflow
flip("object-header-attr-size", first(b"vocab_size") - 6, 0x80)
flip("global-heap-vocab-string", first(b"GCOL", 40), 0x09)       # H5HG_read; a token silently changed
flip("global-heap-collection-size", first(b"GCOL", 8), 0x10)
flip("chunk-btree-node", first(b"TREE", 6), 0x20)                 # H5C_protect hang
flip("chunk-btree-address", first(b"TREE", 24), 0x04)            # H5VM_memcpyvv via H5Dread
flip("local-heap-link-name", first(b"HEAP", 40))
flip("symbol-table-node", first(b"SNOD", 12), 0x08)
flip("last-byte", len(seed) - 1, 0x80)
open(os.path.join(raw, "truncated-half"), "wb").write(seed[: len(seed) // 2])


def i64(v):
    return struct.pack("<q", v)


def script(name, *ops):
    open(os.path.join(edit, name), "wb").write(b"".join(ops))


script("config-vocab-40M", b"\x00\x00" + i64(40_000_000))
script("config-vocab-16M-over-memory", b"\x00\x00" + i64(16_000_000))
script("config-d65536-layers-4096", b"\x00\x01" + i64(65536), b"\x00\x03" + i64(4096), b"\x00\x04" + i64(4096))
script("config-d65536-layers-1024", b"\x00\x01" + i64(65536), b"\x00\x02" + i64(8), b"\x00\x03" + i64(1024),
       b"\x00\x04" + i64(1024))
script("config-d-2pow30", b"\x00\x01" + i64(1 << 30))
script("config-d-2pow31", b"\x00\x01" + i64(1 << 31))
script("config-negative-heads", b"\x00\x02" + i64(-4))
script("config-heads-zero", b"\x00\x02" + i64(0))
script("config-maxlen-huge", b"\x00\x05" + i64((1 << 31) - 1))
script("config-arch-unknown", b"\x01\x00\x05xyzzy")
script("config-dropout-nan", b"\x02" + struct.pack("<d", float("nan")))
script("config-int-as-string", b"\x09\x01")
script("vocab-deleted", b"\x03\x00")
script("vocab-duplicates", b"\x05\x07<pad>\x00<bos>\x00<eos>\x00<unk>\x00<sep>\x00v\x00v\x00")
script("vocab-specials-wrong", b"\x05\x03a\x00b\x00c\x00")
script("vocab-token-changed", b"\x05\x0c<pad>\x00<bos>\x00<eos>\x00<unk>\x00<sep>\x00 \x00e\x00h\x00n\x00\x7f\x00r\x00t\x00")
script("model-tensor-deleted", b"\x03\x01")
script("model-tensor-reshaped", b"\x04\x00\x01\x05\x00\x07\x00")
script("train-step-negative", b"\x06\x00" + i64(-5))
script("optim-kind-differs", b"\x07\x03" + i64(1))
script("version-2", b"\x08" + i64(2))
print("wrote", len(os.listdir(raw)), "raw and", len(os.listdir(edit)), "edit regression inputs")
