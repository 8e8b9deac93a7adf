import time, sys, numpy as np, scipy.sparse as sp
import fingerprint as fp
from sklearn.feature_extraction.text import TfidfVectorizer, HashingVectorizer, TfidfTransformer
from sklearn.svm import LinearSVC
from sklearn.linear_model import LogisticRegression
D="/work/shared/data/alpaca_eval_train"
tr=fp.load_corpus(D,split="train"); dv=fp.load_corpus(D,split="dev")
Tt,Ty,Tg=list(tr["text"]),np.array(tr["model"]),np.array(tr["prompt_id"])
Dt,Dy=list(dv["text"]),np.array(dv["model"])
t=time.time()
def run(name, mk):
    t=time.time(); Xtr,Xte=mk()
    p=LinearSVC(C=0.5,random_state=0).fit(Xtr,Ty).predict(Xte)
    print(name, Xtr.shape, round(float(np.mean(p==Dy)),4), round(time.time()-t,1), flush=True)
def base():
    vc = TfidfVectorizer(analyzer="char", ngram_range=(1, 4), sublinear_tf=True, lowercase=False)
    vw = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)
    return sp.hstack([vc.fit_transform(Tt),vw.fit_transform(Tt)]).tocsr(), sp.hstack([vc.transform(Dt),vw.transform(Dt)]).tocsr()
def mfw(kc,kw):
    def f():
        vc = TfidfVectorizer(analyzer="char", ngram_range=(1, 4), sublinear_tf=True, lowercase=False,max_features=kc)
        vw = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,max_features=kw)
        return sp.hstack([vc.fit_transform(Tt),vw.fit_transform(Tt)]).tocsr(), sp.hstack([vc.transform(Dt),vw.transform(Dt)]).tocsr()
    return f
def hashed(nf):
    def f():
        hc=HashingVectorizer(analyzer="char", ngram_range=(1, 4), lowercase=False,n_features=nf,alternate_sign=False,norm=None)
        hw=HashingVectorizer(analyzer="word", ngram_range=(1, 2),n_features=nf,alternate_sign=False,norm=None)
        tc=TfidfTransformer(sublinear_tf=True); tw=TfidfTransformer(sublinear_tf=True)
        return (sp.hstack([tc.fit_transform(hc.transform(Tt)),tw.fit_transform(hw.transform(Tt))]).tocsr(),
                sp.hstack([tc.transform(hc.transform(Dt)),tw.transform(hw.transform(Dt))]).tocsr())
    return f
which=sys.argv[1:]
if "base" in which: run("base",base)
if "mfw" in which:
    run("mfw50k+30k",mfw(50000,30000))
    run("mfw20k+10k",mfw(20000,10000))
if "hash" in which:
    run("hash2^18",hashed(2**18))
    run("hash2^16",hashed(2**16))
