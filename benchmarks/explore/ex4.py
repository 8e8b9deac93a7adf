import time, numpy as np, scipy.sparse as sp
import fingerprint as fp
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC
D="/work/shared/data/alpaca_eval_train"
tr=fp.load_corpus(D,split="train"); dv=fp.load_corpus(D,split="dev")
Tt,Ty=list(tr["text"]),np.array(tr["model"]); Dt,Dy=list(dv["text"]),np.array(dv["model"])
nf=2**20
hc=HashingVectorizer(analyzer="char", ngram_range=(1, 4), lowercase=False,n_features=nf,alternate_sign=False,norm=None)
hw=HashingVectorizer(analyzer="word", ngram_range=(1, 2),n_features=nf,alternate_sign=False,norm=None)
t=time.time()
C=[h.transform(Tt) for h in (hc,hw)]; Cd=[h.transform(Dt) for h in (hc,hw)]
print("hash",time.time()-t,flush=True)
def sub(M): M=M.astype(np.float32); M.data=np.log1p(M.data); return M
for idf in [False,True]:
    t=time.time()
    if idf:
        ts=[TfidfTransformer(sublinear_tf=True).fit(c) for c in C]
        A=sp.hstack([t_.transform(c) for t_,c in zip(ts,C)]).tocsr(); B=sp.hstack([t_.transform(c) for t_,c in zip(ts,Cd)]).tocsr()
    else:
        A=sp.hstack([normalize(sub(c)) for c in C]).tocsr(); B=sp.hstack([normalize(sub(c)) for c in Cd]).tocsr()
    m=LinearSVC(C=0.5,random_state=0).fit(A,Ty); print("idf",idf,"acc",np.mean(m.predict(B)==Dy),time.time()-t,flush=True)
    W=m.coef_; nrm=np.linalg.norm(W,axis=0)
    for keep in [50000,100000,200000]:
        idx=np.argsort(-nrm)[:keep]; dp=B[:,idx]@W[:,idx].T+m.intercept_
        print(" prune",keep,np.mean(m.classes_[dp.argmax(1)]==Dy),flush=True)
