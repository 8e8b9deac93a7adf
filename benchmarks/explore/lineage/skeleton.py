"""PoS-template proxy shared by the exploration scripts: closed-class words kept, other words as shape + suffix."""

import re

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

TOK = re.compile(r"\n|[A-Za-z]+(?:'[a-z]+)?|\d+|[^\sA-Za-z\d]")
SUFFIX = ("ing", "ed", "ly", "tion", "sion", "ment", "ness", "ity", "ous", "ive", "able", "al", "er", "est", "s")
STOP = set(ENGLISH_STOP_WORDS) | {"i", "i'm", "it's", "don't", "can't", "you're", "let's"}


def skeleton(text):
    out = []
    for tok in TOK.findall(text):
        low = tok.lower()
        if tok == "\n":
            out.append("NL")
        elif low in STOP:
            out.append(low)
        elif tok[0].isalpha():
            suf = next((s for s in SUFFIX if low.endswith(s) and len(low) > len(s) + 2), "")
            out.append(("C" if tok[0].isupper() else "w") + suf)
        elif tok[0].isdigit():
            out.append("9")
        else:
            out.append(tok)
    return " ".join(out)
