#!/usr/bin/python3
"""Dev-time oracle (never run by CI): compare nextok's en/fr/de number forms
with Debian's python3-num2words over 0..999999 and write the fixture
tests/fixtures/numbers-num2words.tsv (a seeded sample of rows on which both
agree, in the sample file's five-column layout).

usage: num2words_check.py OURS.TSV [FIXTURE_ROWS]
  OURS.TSV: "n<TAB>en<TAB>fr<TAB>de" for every number, as printed by the
  nextok renderer (nt_number_corpus_render).
"""
import random
import sys

from num2words import num2words

ours = sys.argv[1]
rows_wanted = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
langs = ["en", "fr", "de"]
diff = {l: [] for l in langs}
agree = []
checked = 0
with open(ours, encoding="utf-8") as f:
    for line in f:
        n, *forms = line.rstrip("\n").split("\t")
        n = int(n)
        ok = True
        for l, mine in zip(langs, forms):
            ref = num2words(n, lang=l)
            if ref != mine:
                diff[l].append((n, mine, ref))
                ok = False
        if ok:
            agree.append(n)
        checked += 1
print(f"checked {checked} numbers x {len(langs)} languages")
for l in langs:
    print(f"{l}: {len(diff[l])} differences")
    for n, mine, ref in diff[l][:10]:
        print(f"  {n}: nextok {mine!r} num2words {ref!r}")

arabic = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
rng = random.Random(20240)
picked = sorted(rng.sample(agree, min(rows_wanted, len(agree))))
with open("tests/fixtures/numbers-num2words.tsv", "w", encoding="utf-8") as f:
    f.write("digits\tarabic\ten\tfr\tde\n")
    for n in picked:
        f.write(f"{n}\t{str(n).translate(arabic)}\t" +
                "\t".join(num2words(n, lang=l) for l in langs) + "\n")
print(f"wrote {len(picked)} agreeing rows to tests/fixtures/numbers-num2words.tsv")
