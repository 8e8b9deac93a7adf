import os, pickle, numpy as np
os.environ["HF_HUB_OFFLINE"]="1"
import fingerprint as fp
from fingerprint.building import calibration_folds
D="/work/shared/data/alpaca_eval_train"
train = fp.load_corpus(D, split="train"); dev = fp.load_corpus(D, split="dev")
texts = np.array(train["text"], dtype=object)
models, prompts = np.array(train["model"]), np.array(train["prompt_id"]).astype(str)
held = calibration_folds(prompts, 5, random_state=1) == 0
clf = fp.FingerprintClassifier(n_jobs=2).fit(list(texts[~held]), models[~held], groups=prompts[~held])
pickle.dump(clf, open("/tmp/cal/clf.pkl","wb"))
out={}
for name,X,y,g in (("held",texts[held],models[held],prompts[held]),("dev",np.array(dev["text"],dtype=object),np.array(dev["model"]),np.array(dev["prompt_id"]).astype(str))):
    P=clf.predict_proba(list(X)); out[name]=dict(P=P,y=np.searchsorted(clf.classes_,y),g=g,L=np.array([len(t) for t in X]))
pickle.dump(out,open("/tmp/cal/P.pkl","wb"))
# the analysis in length_quartiles.log
from fingerprint.calibration import expected_calibration_error as ece
o=out
allL=np.concatenate([o[k]["L"] for k in o]); qs=np.quantile(allL,[.25,.5,.75])
for k,d in o.items():
    P,y,L=d["P"],d["y"],d["L"]; ok=P.argmax(1)==y; c=P.max(1)
    print(k,len(y),"acc %.3f conf %.3f ece %.3f medlen %d"%(ok.mean(),c.mean(),ece(P,y),np.median(L)))
    b=np.digitize(L,qs)
    for i in range(4):
        m=b==i; print("  lenq",i,m.sum(),"acc %.3f conf %.3f gap %+.3f"%(ok[m].mean(),c[m].mean(),ok[m].mean()-c[m].mean()))
    cb=np.digitize(c,[.2,.4,.6,.8])
    for i in range(5):
        m=cb==i; print("  confb",i,m.sum(),"acc %.3f conf %.3f"%(ok[m].mean(),c[m].mean()))
