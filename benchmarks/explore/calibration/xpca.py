import os,pickle,time,numpy as np
os.environ["HF_HUB_OFFLINE"]="1"
from fingerprint.building import calibration_fold_array, FoldedStatistics
from fingerprint.calibration import expected_calibration_error as ece
from sklearn.utils.extmath import randomized_svd
d=pickle.load(open("/tmp/cal/xpca.pkl","rb")); sp=pickle.load(open("/tmp/cal/clf.pkl","rb")).space_
X,y,Z,kw=d["X"],d["y"],d["Z"],d["kw"]
b=sp.block("ngram"); k=b.stop-b.start
Zt=sp._proj; chk=(Z[:50]@sp._proj-sp._proj_offset)*sp._ngram_factor
print("space matches:",np.abs(chk-X[:50,b.start:b.stop]).max())
import sys; NF=int(sys.argv[1]); folds=calibration_fold_array(y,kw["groups"],NF,kw["random_state"])
sid=sp.space_id_; classes=sorted(set(y)); yi=np.searchsorted(classes,y)
def evaluate(refs,tag):
    lda=refs.lda(); out=[]
    for name,(F,yy) in d["ev"].items():
        P=lda.proba(F); t=np.searchsorted(lda.classes.astype(str),yy); ok=P.argmax(1)==t
        out.append(f"{name} top1 {ok.mean():.3f} conf {P.max(1).mean():.3f} ece {ece(P,t):.3f}")
    print(tag,"T=%.3f"%refs.temperature," | ".join(out),flush=True)
base0=FoldedStatistics.from_features(X,y,folds,sid).to_references(sp,calibrate=True,shrinkage=kw["shrinkage"])
base=base0; evaluate(base,"baseline NF=%d"%NF)
Zd=Z.toarray()
scores=np.zeros((len(y),len(classes))); dist=np.zeros(len(y))
for j in np.unique(folds):
    t=time.time(); out=folds!=j
    mu=Zd[out].mean(0); Zc=Zd[out]-mu
    _,_,vt=randomized_svd(Zc,k,n_iter=4,random_state=0); V=vt.astype(np.float16).astype(np.float32).astype(np.float64)
    pin=Zc@V.T; unit=np.sqrt((pin**2).sum(1).mean()/k); fac=sp.ngram_scale/unit
    Xj=X.copy(); Xj[:,b.start:b.stop]=((Zd-mu)@V.T)*fac
    st=FoldedStatistics.from_features(Xj,y,folds,sid); lda=st.fold_lda(int(j),classes,kw["shrinkage"])
    r=np.flatnonzero(folds==j); scores[r]=lda.scores(Xj[r]); dist[r]=lda.distances(Xj[r])[np.arange(len(r)),yi[r]]
    0 and print("fold",j,"svd+lda %.1fs"%(time.time()-t),"acc",(scores[r].argmax(1)==yi[r]).mean(),flush=True)
import copy
x=copy.deepcopy(base); x.calibrate_from_scores(scores,yi,dist); evaluate(x,"xPCA calib")
s=np.sort(scores,1); print("xPCA crossfit margin median",np.median(s[:,-1]-s[:,-2]))
pickle.dump(dict(scores=scores,yi=yi),open(f"/tmp/cal/xscores{NF}.pkl","wb"))
ST=pickle.load(open("/tmp/cal/ST.pkl","rb"))
from scipy.optimize import minimize
from scipy.special import logsumexp
from fingerprint.calibration import fit_confidence_map, apply_confidence_map, softmax_t, fit_temperature
L=ST["L"]; assert len(L)==len(yi)
z=np.log1p(L); mu_,sd_=z.mean(),z.std()
def temp(L,a,b): return np.exp(a+b*(np.log1p(L)-mu_)/sd_)[:,None]
def nll(p): Zs=scores/temp(L,*p); return -(Zs[np.arange(len(yi)),yi]-logsumexp(Zs,axis=1)).mean()
T0=fit_temperature(scores,yi); a,b=minimize(nll,[np.log(T0),0],method="Nelder-Mead").x
print("T(L) a,b",a,b)
allL=np.concatenate([ST[k]["L"] for k in ("held","dev")]); qs=np.quantile(allL,[.25,.5,.75])
for tag,f in (("T",lambda S,L_: softmax_t(S,T0)),("T(L)",lambda S,L_: softmax_t(S/temp(L_,a,b),1.0))):
    kn=fit_confidence_map(f(scores,L),yi)
    for k in ("held","dev"):
        e=ST[k]; P=apply_confidence_map(f(e["S"],e["L"]),kn); ok=P.argmax(1)==e["y"]; c=P.max(1)
        bq=np.digitize(e["L"],qs); gaps=[ok[bq==i].mean()-c[bq==i].mean() for i in range(4)]
        print(tag,k,"ece %.3f gap %+.3f"%(ece(P,e["y"]),ok.mean()-c.mean()),"bylen"," ".join("%+.3f"%g for g in gaps))
