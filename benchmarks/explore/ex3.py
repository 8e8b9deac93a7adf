import numpy as np, sys
from scipy.linalg import cho_factor, cho_solve
D="/work/shared/data/alpaca_eval_train"
import fingerprint as fp
tr=fp.load_corpus(D,split="train"); dv=fp.load_corpus(D,split="dev")
Ty=np.array(tr["model"]); Dy=np.array(dv["model"])
S=np.load("/tmp/x/space.npz"); V=np.load("/tmp/x/svc.npz")
classes=V["classes"]; yi=np.searchsorted(classes,Ty); di=np.searchsorted(classes,Dy)
def lda(X,y,Xt,shr):
    K=23; means=np.stack([X[y==k].mean(0) for k in range(K)]); R=X-means[y]; sw=R.T@R/(len(X)-K)
    d=sw.shape[0]; cov=(1-shr)*sw+shr*np.trace(sw)/d*np.eye(d); c=cho_factor(cov); W=cho_solve(c,means.T); b=-0.5*np.einsum("kd,dk->k",means,W)
    return Xt@W+b
print("svc dev",np.mean(V["dd"].argmax(1)==di), "svc cf", np.mean(V["cf"].argmax(1)==yi))
for scale in [0, 0.5, 1, 2, 4, 8, 16, 32]:
  for shr in [0.1,0.3,0.5]:
    Xa=np.hstack([S["Xtr"],scale*V["cf"]]); Xb=np.hstack([S["Xdv"],scale*V["dd"]])
    if scale==0: Xa,Xb=S["Xtr"],S["Xdv"]
    dev=np.mean(lda(Xa,yi,Xb,shr).argmax(1)==di)
    f=V["folds"]; cv=np.mean([np.mean(lda(Xa[f!=k],yi[f!=k],Xa[f==k],shr).argmax(1)==yi[f==k]) for k in range(5)])
    print(f"scale {scale} shr {shr} cv {cv:.4f} dev {dev:.4f}",flush=True)
