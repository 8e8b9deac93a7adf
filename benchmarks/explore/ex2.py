import time, sys, os, numpy as np, scipy.sparse as sp
import fingerprint as fp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC
from sklearn.model_selection import GroupKFold
D="/work/shared/data/alpaca_eval_train"
tr=fp.load_corpus(D,split="train"); dv=fp.load_corpus(D,split="dev")
Tt,Ty,Tg=list(tr["text"]),np.array(tr["model"]),np.array(tr["prompt_id"])
Dt,Dy=list(dv["text"]),np.array(dv["model"])
if not os.path.exists("/tmp/x/space.npz"):
    t=time.time(); sp_=fp.FeatureSpace(); Xtr=sp_.fit_transform(Tt); Xdv=sp_.transform(Dt)
    np.savez("/tmp/x/space.npz",Xtr=Xtr,Xdv=Xdv); print("space",time.time()-t,flush=True)
if not os.path.exists("/tmp/x/svc.npz"):
    t=time.time()
    vc = TfidfVectorizer(analyzer="char", ngram_range=(1, 4), sublinear_tf=True, lowercase=False)
    vw = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)
    A=sp.hstack([vc.fit_transform(Tt),vw.fit_transform(Tt)]).tocsr(); B=sp.hstack([vc.transform(Dt),vw.transform(Dt)]).tocsr()
    print("vec",time.time()-t,flush=True)
    cf=np.zeros((len(Tt),23)); folds=np.zeros(len(Tt),int)
    for k,(a,b) in enumerate(GroupKFold(5).split(A,Ty,Tg)):
        m=LinearSVC(C=0.5,random_state=0).fit(A[a],Ty[a]); cf[b]=m.decision_function(A[b]); folds[b]=k
        print("fold",k,time.time()-t,flush=True)
    m=LinearSVC(C=0.5,random_state=0).fit(A,Ty); dd=m.decision_function(B)
    W=m.coef_; nrm=np.linalg.norm(W,axis=0)
    for keep in [30000,100000,300000]:
        idx=np.argsort(-nrm)[:keep]; dp=B[:,idx]@W[:,idx].T+m.intercept_
        print("prune",keep,np.mean(m.classes_[dp.argmax(1)]==Dy),flush=True)
    np.savez("/tmp/x/svc.npz",cf=cf,dd=dd,folds=folds,classes=m.classes_.astype(str))
    print("svc",time.time()-t, np.mean(m.classes_[dd.argmax(1)]==Dy),flush=True)
