"""Time per answer of style-marker patterns with and without their leading \\b or lookbehind (run once).

On the lower-cased ASCII answers among the first 1,500 `dev` answers of alpaca_eval_train; n is the
number of matches (without the assertion, more candidates match).  Usage: python
benchmarks/explore/style_patterns.py   (style_patterns.log)
"""

import re, time
import fingerprint as fp
dev = fp.load_corpus("../shared/data/alpaca_eval_train", split="dev").to_pandas()
texts = [t.lower() for t in list(dev["text"])[:1500] if t.isascii()]
def tm(name, pat):
    p = re.compile(pat); t=time.perf_counter(); n=0
    for x in texts: n+=len(p.findall(x))
    print(f"{name:40s} {(time.perf_counter()-t)/len(texts)*1e6:6.1f} us  n={n}")
tm(r"\b(?:i|me|my|mine|myself)\b", r"\b(?:i|me|my|mine|myself)\b")
tm(r"(?:i|me|my|mine|myself)\b", r"(?:i|me|my|mine|myself)\b")
tm(r"[im](?:...)", r"(?<!\w)(?:i|me|my|mine|myself)\b")
tm("as_an_ai with \\b", r"\bas an? (?:ai|artificial intelligence|(?:ai )?language model|large language model|ai assistant|chatbot|virtual assistant)\b")
tm("as_an_ai no \\b", r"as an? (?:ai|artificial intelligence|(?:ai )?language model|large language model|ai assistant|chatbot|virtual assistant)\b")
tm("word \\w+", r"\w+")
tm("words _WORD", r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
tm("contraction", r"\b\w+['\u2019](?:s|t|re|ve|ll|d|m)\b")
tm("contraction alt", r"['\u2019](?:s|t|re|ve|ll|d|m)\b")
tm("italic", r"(?<![*\w])\*(?!\s)[^*\n]+(?<!\s)\*(?![*\w])")
tm("italic2", r"\*(?!\s)[^*\n]+(?<!\s)\*(?![*\w])")
tm("header", r"^\s{0,3}#{1,6}\s+\S")
