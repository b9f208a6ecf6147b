#!/usr/bin/python3
"""Makes the SentencePiece fixtures of tests/test_spm.c (development time only; CI needs no Python).

  /usr/bin/python3 tests/make_spm_fixture.py tests/fixtures

Needs Debian's python3-sentencepiece (the same library version as libsentencepiece-dev).
Writes:
  spm_pairs.tsv      400 generated English<TAB>German sentence pairs (a small template grammar
                     written for this test, not any corpus), the training text
  spm_py.model       a unigram model (vocab 400) trained by Python on both columns with the
                     options nt_spm_train uses (data/spm.h)
  spm_py_bpe.model   the same as BPE
  spm_py_default.model  SentencePiece's default id layout (unk 0, <s> 1, </s> 2, no pad), no byte
                     fallback, identity normalization, vocab 150: for the id mapping of data/tokenizer.h
  spm_cases.txt      per test sentence: "text", then for each model "ids", "pieces" lines
"""
import io, os, random, sys
import sentencepiece as spm

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "fixtures")
rnd = random.Random(14)

# (english, german) building blocks
subj = [("a man", "ein Mann"), ("a woman", "eine Frau"), ("a child", "ein Kind"), ("two dogs", "zwei Hunde"),
        ("a young girl", "ein junges Mädchen"), ("an old man", "ein alter Mann"), ("three boys", "drei Jungen"),
        ("a group of people", "eine Gruppe von Menschen"), ("a brown dog", "ein brauner Hund"),
        ("the cyclist", "der Radfahrer"), ("a musician", "ein Musiker"), ("the workers", "die Arbeiter")]
verb = [("is walking", "geht"), ("is running", "läuft"), ("is sitting", "sitzt"), ("is standing", "steht"),
        ("is playing", "spielt"), ("is waiting", "wartet"), ("is jumping", "springt"), ("is smiling", "lächelt")]
place = [("on the street", "auf der Straße"), ("in the park", "im Park"), ("near the water", "am Wasser"),
         ("in front of a building", "vor einem Gebäude"), ("on a bench", "auf einer Bank"),
         ("in the snow", "im Schnee"), ("at the beach", "am Strand"), ("under a tree", "unter einem Baum"),
         ("in a small café", "in einem kleinen Café"), ("on the grass", "auf dem Gras")]
extra = [("", ""), (" while it rains", ", während es regnet"), (" with a red ball", " mit einem roten Ball"),
         (" in the evening", " am Abend"), (" next to a blue car", " neben einem blauen Auto"),
         (" wearing a hat", " mit einem Hut")]


def cap(s):
    return s[0].upper() + s[1:]


pairs = set()
while len(pairs) < 400:
    s, v, p, e = rnd.choice(subj), rnd.choice(verb), rnd.choice(place), rnd.choice(extra)
    en = cap(f"{s[0]} {v[0]} {p[0]}{e[0]}.")
    de = cap(f"{s[1]} {v[1]} {p[1]}{e[1]}.")
    pairs.add((en, de))
pairs = sorted(pairs)
rnd.shuffle(pairs)
with open(f"{out}/spm_pairs.tsv", "w", encoding="utf-8") as f:
    for en, de in pairs:
        f.write(f"{en}\t{de}\n")
lines = [en for en, _ in pairs] + [de for _, de in pairs]

# the options of nt_spm_train (data/spm.cc)
opts = dict(vocab_size=400, character_coverage=1.0, num_threads=1, max_sentence_length=4192,
            input_sentence_size=0, byte_fallback=True, pad_id=0, bos_id=1, eos_id=2, unk_id=3,
            pad_piece="<pad>", bos_piece="<bos>", eos_piece="<eos>", unk_piece="<unk>",
            control_symbols="<sep>", minloglevel=2)
models = {}
for name, mtype in (("spm_py", "unigram"), ("spm_py_bpe", "bpe")):
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=buf, model_type=mtype, **opts)
    open(f"{out}/{name}.model", "wb").write(buf.getvalue())
    models[name] = spm.SentencePieceProcessor(model_proto=buf.getvalue())

buf = io.BytesIO()
spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=buf, model_type="unigram",
                               vocab_size=150, normalization_rule_name="identity", num_threads=1, minloglevel=2)
open(f"{out}/spm_py_default.model", "wb").write(buf.getvalue())
models["spm_py_default"] = spm.SentencePieceProcessor(model_proto=buf.getvalue())
NAMES = ("spm_py", "spm_py_bpe", "spm_py_default")

cases = [
    "A man is walking on the street.",
    "Zwei Hunde spielen im Schnee, während es regnet.",
    "Ein junges Mädchen lächelt am Strand.",
    "unseen words: zebra xylophone quixotic",
    "Größe, Übermaß, Äpfel und Öl",
    "emoji 🐕 and CJK 犬 fall back to bytes",
    "  extra   spaces  inside  ",
    "tab\tinside",
    "<pad> <sep> are plain text here",
    "ﬁ ligature and full-width Ａ",
    "",
]
with open(f"{out}/spm_cases.txt", "w", encoding="utf-8") as f:
    f.write("# text / ids and pieces per model (spm_py, spm_py_bpe, spm_py_default) / the decoded text; made by "
            "tests/make_spm_fixture.py\n")
    for t in cases:
        f.write("text\t" + t.replace("\t", "\\t") + "\n")
        for name in NAMES:
            sp = models[name]
            ids = sp.encode(t)
            f.write(f"ids {name}\t" + " ".join(map(str, ids)) + "\n")
            f.write(f"pieces {name}\t" + " ".join(sp.encode(t, out_type=str)) + "\n")
            f.write(f"decoded {name}\t" + sp.decode(ids).replace("\t", "\\t") + "\n")
sp = models["spm_py"]
print("pieces 0..6:", [sp.id_to_piece(i) for i in range(7)], "size", sp.get_piece_size())

# Separate source and target models (train --spm-separate): the English column is the source,
# the German column the target, each model trained on its side alone with the options above
# and 350 pieces. spm_sep_cases.txt: the FNV-1a 64 hash and size of each serialized model,
# then per case the text and its ids under each model.
def fnv1a64(b):
    h = 0xcbf29ce484222325
    for x in b:
        h = ((h ^ x) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h

sep = {}
for side, col in (("src", [en for en, _ in pairs]), ("tgt", [de for _, de in pairs])):
    buf = io.BytesIO()
    o = dict(opts, vocab_size=350)
    spm.SentencePieceTrainer.train(sentence_iterator=iter(col), model_writer=buf, model_type="unigram", **o)
    sep[side] = (buf.getvalue(), spm.SentencePieceProcessor(model_proto=buf.getvalue()))
with open(f"{out}/spm_sep_cases.txt", "w", encoding="utf-8") as f:
    f.write("# separate models (unigram, 350 pieces each; source = English column, target = German column of "
            "spm_pairs.tsv): model SIDE FNV1A64 BYTES, then text / ids src / ids tgt; made by "
            "tests/make_spm_fixture.py\n")
    for side in ("src", "tgt"):
        f.write(f"model {side} {fnv1a64(sep[side][0]):016x} {len(sep[side][0])}\n")
    for t in cases:
        f.write("text\t" + t.replace("\t", "\\t") + "\n")
        for side in ("src", "tgt"):
            f.write(f"ids {side}\t" + " ".join(map(str, sep[side][1].encode(t))) + "\n")
