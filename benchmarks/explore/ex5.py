import numpy as np
import fingerprint as fp
from fingerprint.features.embeddings import EmbeddingFeatures
from scipy.linalg import cho_factor, cho_solve
D="/work/shared/data/alpaca_eval_train"
tr=fp.load_corpus(D,split="train"); dv=fp.load_corpus(D,split="dev")
def idx(full, sub):
    key={(m,p):i for i,(m,p) in enumerate(zip(full["model"],full["prompt_id"]))}
    return np.array([key[(m,p)] for m,p in zip(sub["model"],sub["prompt_id"])])
st=fp.sample_per_model(tr,60,seed=0); sd=fp.sample_per_model(dv,40,seed=0)
it,id_=idx(tr,st),idx(dv,sd)
ef=EmbeddingFeatures(cache_dir="/work/main/benchmarks/.cache/embeddings")
Et=ef.fit_transform(list(st["text"])); Ed=ef.transform(list(sd["text"])); print(ef.cache_info_)
S=np.load("/tmp/x/space.npz"); V=np.load("/tmp/x/svc.npz"); classes=V["classes"]
yt=np.searchsorted(classes,np.array(st["model"])); yd=np.searchsorted(classes,np.array(sd["model"]))
sc=8/0.2444
Xt=np.hstack([S["Xtr"][it], sc*V["cf"][it]]); Xd=np.hstack([S["Xdv"][id_], sc*V["dd"][id_]])
def lda(X,y,Xt,shr):
    K=23; means=np.stack([X[y==k].mean(0) for k in range(K)]); R=X-means[y]; sw=R.T@R/(len(X)-K)
    d=sw.shape[0]; cov=(1-shr)*sw+shr*np.trace(sw)/d*np.eye(d); c=cho_factor(cov); W=cho_solve(c,means.T); b=-0.5*np.einsum("kd,dk->k",means,W)
    return Xt@W+b
def acc(X,Xd,shr=0.3): return round(float(np.mean(lda(X,yt,Xd,shr).argmax(1)==yd)),4)
eu=np.sqrt(((Et-Et.mean(0))**2).mean())
print("embed rms",eu)
for shr in [0.3,0.5,0.8]:
    print("shr",shr,"ngram+style",acc(S["Xtr"][it],S["Xdv"][id_],shr),"ngram+style+score",acc(Xt,Xd,shr),"emb only",acc(Et/eu,Ed/eu,shr))
    for es in [0.5,1,2,4]:
        print("  fused es",es, acc(np.hstack([Xt,es*Et/eu]),np.hstack([Xd,es*Ed/eu]),shr), "fused no score", acc(np.hstack([S["Xtr"][it],es*Et/eu]),np.hstack([S["Xdv"][id_],es*Ed/eu]),shr))
# also: LDA trained on the full training set for non-embedding features (reference)
yT=np.searchsorted(classes,np.array(tr["model"]))
XT=np.hstack([S["Xtr"], sc*V["cf"]])
m=lda(XT,yT,Xd,0.3).argmax(1); print("full-train ngram+style+score on this dev subset", np.mean(m==yd))
