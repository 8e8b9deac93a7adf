import os,pickle,numpy as np
os.environ["HF_HUB_OFFLINE"]="1"
import fingerprint as fp
from fingerprint import references
from fingerprint.calibration import expected_calibration_error as ece
refs=references.builtin(); lda=refs.lda(); sp=refs.space
models=set(refs.models); T=[];Y=[]
for D in ("alpaca_eval_train","alpaca_eval_wide"):
    dev=fp.load_corpus("/work/shared/data/"+D,split="dev")
    for t,m in zip(dev["text"],dev["model"]):
        if m in models: T.append(t);Y.append(m)
F=sp.transform(T); S=lda.scores(F); P=lda.proba(F); y=np.searchsorted(lda.classes.astype(str),Y); L=np.array([len(t) for t in T])
pickle.dump(dict(F=F,S=S,P=P,y=y,L=L),open("/tmp/cal/bi.pkl","wb"))
ok=P.argmax(1)==y; c=P.max(1); print("n",len(y),"top1 %.3f conf %.3f ece %.3f"%(ok.mean(),c.mean(),ece(P,y)))
qs=np.quantile(L,[.25,.5,.75]); bq=np.digitize(L,qs)
for i in range(4): m=bq==i; print("lenq",i,"acc %.3f conf %.3f gap %+.3f"%(ok[m].mean(),c[m].mean(),ok[m].mean()-c[m].mean()))
# the character bins in length_builtin.log
for lo,hi in ((0,100),(100,300),(300,600),(600,1200),(1200,2500),(2500,1e9)):
    m=(L>=lo)&(L<hi); hc=m&(c>=0.5)
    print(f"{lo}-{hi}: n {m.sum()} acc {ok[m].mean():.3f} conf {c[m].mean():.3f} | conf>=.5: n {hc.sum()} acc {ok[hc].mean() if hc.sum() else 0:.3f} conf {c[hc].mean() if hc.sum() else 0:.3f}")
