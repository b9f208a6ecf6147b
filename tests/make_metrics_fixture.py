#!/usr/bin/python3
"""make_metrics_fixture.py - writes tests/fixtures/metrics_cases.tsv for test_metrics.

Dev-time only (CI reads the committed fixture). Needs Debian's python3-nltk
and python3-num2words:  /usr/bin/python3 tests/make_metrics_fixture.py

The expected numbers come from implementations independent of the C code:
- 13a tokenization: the mteval-v13a rules as Python regular expressions;
- BLEU: NLTK corpus_bleu on those tokens with SmoothingFunction().method3
  (NIST geometric smoothing, sacreBLEU's 'exp'), checked to agree to 1e-6
  with a direct transcription of sacreBLEU's corpus formula. NLTK counts a
  segment shorter than n tokens as one n-gram (denominator max(1, count)),
  sacreBLEU as none, so NLTK is only consulted on corpora whose every
  hypothesis has >= 4 tokens; other corpora use the direct formula alone;
- chrF: a small implementation of sacreBLEU 2.x's CHRF defaults written here
  from its definition;
- character accuracy: a textbook Levenshtein distance over code points.

Format (UTF-8, tab-separated; fields escape \\ \t \n \r as \\\\ \\t \\n \\r):
  T <input> <tokens joined by single spaces>        a 13a tokenizer case
  P <hypothesis> <reference>                        a pair of the current corpus
  C <name> <n> <exact> <char_acc> <bleu> <p1> <p2> <p3> <p4> <bp> <ratio>
    <sys_len> <ref_len> <chrf>                      closes the current corpus
"""
import math
import os
import random
import re
from collections import Counter

from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu
from num2words import num2words

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "metrics_cases.tsv")

# ---- 13a tokenizer (mteval-v13a rules) ---------------------------------------------
RULES = [
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),
]


def tok13a(line):
    line = line.rstrip()
    for a, b in [("<skipped>", ""), ("-\n", ""), ("\n", " "), ("&quot;", '"'),
                 ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">")]:
        line = line.replace(a, b)
    line = " " + line + " "
    for rx, rep in RULES:
        line = rx.sub(rep, line)
    return line.split()


# ---- BLEU -------------------------------------------------------------------------------
def ngrams(toks, n):
    return Counter(tuple(toks[i:i + n]) for i in range(len(toks) - n + 1))


def bleu_stats(pairs):
    sys_len = ref_len = 0
    correct, total = [0] * 4, [0] * 4
    for h, r in pairs:
        ht, rt = tok13a(h), tok13a(r)
        sys_len += len(ht)
        ref_len += len(rt)
        for n in range(1, 5):
            hn, rn = ngrams(ht, n), ngrams(rt, n)
            total[n - 1] += sum(hn.values())
            correct[n - 1] += sum(min(c, rn[g]) for g, c in hn.items())
    return sys_len, ref_len, correct, total


def bleu_direct(pairs):
    """sacreBLEU 2.x corpus BLEU, smooth 'exp', effective order off."""
    sys_len, ref_len, correct, total = bleu_stats(pairs)
    bp = 1.0 if sys_len >= ref_len else (math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0)
    ratio = sys_len / ref_len if ref_len else 0.0
    prec = [0.0] * 4
    if not any(correct):
        return 0.0, prec, bp, ratio, sys_len, ref_len
    k = 1.0
    for n in range(4):
        if total[n] == 0:
            break
        if correct[n] == 0:
            k *= 2
            prec[n] = 100.0 / (k * total[n])
        else:
            prec[n] = 100.0 * correct[n] / total[n]
    logs = [math.log(p) if p > 0 else -9999999999.0 for p in prec]
    return bp * math.exp(sum(logs) / 4), prec, bp, ratio, sys_len, ref_len


def bleu_nltk(pairs):
    hyps = [tok13a(h) for h, _ in pairs]
    refs = [[tok13a(r)] for _, r in pairs]
    return 100.0 * corpus_bleu(refs, hyps, smoothing_function=SmoothingFunction().method3)


# ---- chrF (sacreBLEU 2.x defaults) ----------------------------------------------------------
def chrf(pairs, order=6, beta=2):
    hyp_n, ref_n, match_n = [0] * order, [0] * order, [0] * order
    for h, r in pairs:
        h, r = "".join(h.split()), "".join(r.split())
        for n in range(1, order + 1):
            hc = Counter(h[i:i + n] for i in range(len(h) - n + 1))
            rc = Counter(r[i:i + n] for i in range(len(r) - n + 1))
            hyp_n[n - 1] += sum(hc.values()) if rc else 0
            ref_n[n - 1] += sum(rc.values())
            match_n[n - 1] += sum(min(c, rc[g]) for g, c in hc.items())
    p = rr = 0.0
    eff = 0
    for n in range(order):
        if hyp_n[n] > 0 and ref_n[n] > 0:
            p += match_n[n] / hyp_n[n]
            rr += match_n[n] / ref_n[n]
            eff += 1
    if eff == 0:
        return 0.0
    p, rr = p / eff, rr / eff
    if p + rr == 0:
        return 0.0
    b2 = beta * beta
    return 100.0 * (1 + b2) * p * rr / (b2 * p + rr)


# ---- character accuracy, exact match ------------------------------------------------------------
def levenshtein(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def char_acc(pairs):
    e = sum(levenshtein(h, r) for h, r in pairs)
    ln = sum(len(r) for _, r in pairs)
    if ln == 0:
        return 100.0 if e == 0 else 0.0
    return max(0.0, 100.0 * (1 - e / ln))


# ---- corpora ----------------------------------------------------------------------------------
def esc(s):
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def number_words(rng, lang):
    return num2words(rng.randrange(1000, 1000000), lang=lang)


def corrupt(rng, text, lang):
    words = text.split()
    kind = rng.choice(["same", "drop", "swap", "sub", "dup", "sub2"])
    if kind == "drop" and len(words) > 1:
        del words[rng.randrange(len(words))]
    elif kind == "swap" and len(words) > 1:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    elif kind in ("sub", "sub2"):
        for _ in range(1 if kind == "sub" else 2):
            other = number_words(rng, lang).split()
            words[rng.randrange(len(words))] = rng.choice(other)
    elif kind == "dup":
        i = rng.randrange(len(words))
        words.insert(i, words[i])
    return " ".join(words)


TEMPLATES = ["{}", "{}", "{}", "{}.", "({})", '"{}"', "{}, {}", "{} - {}"]


def numbers_corpus(rng, langs, size):
    pairs = []
    while len(pairs) < size:
        lang = rng.choice(langs)
        t = rng.choice(TEMPLATES)
        ref = t.format(*[number_words(rng, lang) for _ in range(t.count("{}"))])
        hyp = corrupt(rng, ref, lang)
        if len(tok13a(hyp)) < 4:  # keep NLTK's per-segment denominators equal to sacreBLEU's
            continue
        pairs.append((hyp, ref))
    return pairs


TOKENIZER_CASES = [
    "Hello, world!", "It's 3.14, not 3,14.", "1,000,000.50 dollars.", "end.", "a.b", "a..b",
    "U.S.A.", "5-3", "x-5", "well-known", "--", "2-", "-2", '"quoted"', "(paren) [br] {cu}",
    "&amp;lt;", "&quot;hi&quot;", "a<skipped>b", "line-\nbreak", "two\nlines", "tab\there",
    "trailing   ", "  leading", "", "e.g.,", "1.a", "a.1", ",5", "5,", "été.", "€5,00.",
    "a\u00a0b", "\u3000x\u2003y", "~`^_|\\", "#1 @home $5 %3 &x *y +z /w :a ;b <c =d >e ?f",
    "vingt-et-un", "dreiundzwanzig.", "one thousand, two hundred and five",
]


def main():
    rng = random.Random(20240507)
    lines = ["# generated by tests/make_metrics_fixture.py; do not edit"]
    for s in TOKENIZER_CASES:
        lines.append("T\t%s\t%s" % (esc(s), esc(" ".join(tok13a(s)))))
    alphabet = list("ab1 9.,-'\"&;<>/()é€\t") + ["&amp;", "&lt;", "<skipped>", "\u00a0", "\n"]
    for _ in range(200):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 16)))
        lines.append("T\t%s\t%s" % (esc(s), esc(" ".join(tok13a(s)))))

    def corpus(name, pairs, nltk_check):
        score, prec, bp, ratio, sys_len, ref_len = bleu_direct(pairs)
        if nltk_check:
            ref = bleu_nltk(pairs)
            assert abs(ref - score) <= 1e-6, (name, ref, score)
            print("%-12s BLEU %.6f (NLTK %.6f)" % (name, score, ref))
        exact = 100.0 * sum(h == r for h, r in pairs) / len(pairs) if pairs else 0.0
        for h, r in pairs:
            lines.append("P\t%s\t%s" % (esc(h), esc(r)))
        lines.append("C\t%s\t%d\t%.12g\t%.12g\t%.12g\t%s\t%.12g\t%.12g\t%d\t%d\t%.12g" % (
            name, len(pairs), exact, char_acc(pairs), score, "\t".join("%.12g" % p for p in prec),
            bp, ratio, sys_len, ref_len, chrf(pairs)))

    big = numbers_corpus(rng, ["en", "fr", "de"], 50)
    corpus("numbers50", big, True)
    for lang in ["en", "fr", "de"]:
        corpus("numbers-" + lang, numbers_corpus(rng, [lang], 12), True)
    # sacreBLEU-only corpora (short segments, zero counts, unicode spaces)
    corpus("short", [("five", "five"), ("six", "seven"), ("one two", "one two three"),
                     ("abcdefgh", "abc")], False)
    corpus("no4gram", [("a b c", "a b c"), ("d e", "d e f")], False)
    corpus("nomatch", [("x y z w", "a b c d")], False)
    corpus("emptyhyp", [("", "one two three four"), ("one two three four", "one two three four")], False)
    corpus("unicode", [("vingt\u00a0et un.", "vingt et un."), ("zwölf", "zwölf "),
                       ("€ 1,5", "€1,5")], False)
    # one-token corpora: no bigram anywhere, so BLEU is 0 however right the
    # tokens are (effective order is off in corpus BLEU); a one-token
    # reference still counts every n-gram of a longer hypothesis
    corpus("onetoken", [("five", "five"), ("six", "six"), ("seven", "eight"), ("nine", "nine ")], False)
    corpus("onetokenref", [("five five five five", "five"), ("six", "six seven")], False)
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", OUT, len(lines), "lines")


if __name__ == "__main__":
    main()
