import os, pickle, numpy as np
os.environ["HF_HUB_OFFLINE"]="1"
import fingerprint as fp
from fingerprint.refset import ReferenceSet
from fingerprint.building import calibration_folds
ST={}
orig=ReferenceSet.calibrate_from_scores
def cfs(self,scores,y_idx,d,**kw):
    ST["scores"]=scores.copy(); ST["y"]=y_idx.copy(); return orig(self,scores,y_idx,d,**kw)
ReferenceSet.calibrate_from_scores=cfs
D="/work/shared/data/alpaca_eval_train"
train = fp.load_corpus(D, split="train"); dev = fp.load_corpus(D, split="dev")
texts = np.array(train["text"], dtype=object)
models, prompts = np.array(train["model"]), np.array(train["prompt_id"]).astype(str)
held = calibration_folds(prompts, 5, random_state=1) == 0
clf = fp.FingerprintClassifier(n_jobs=2).fit(list(texts[~held]), models[~held], groups=prompts[~held])
ST["L"]=np.array([len(t) for t in texts[~held]]); ST["g"]=prompts[~held]
lda=clf.references_.lda()
print("T",lda.temperature, clf.classes_[:3], clf.references_.models[:3])
for name,X,y,g in (("held",texts[held],models[held],prompts[held]),("dev",np.array(dev["text"],dtype=object),np.array(dev["model"]),np.array(dev["prompt_id"]).astype(str))):
    F=clf.space_.transform(list(X))
    ST[name]=dict(S=lda.scores(F),P=lda.proba(F),y=np.searchsorted(clf.references_.models,y),g=g,L=np.array([len(t) for t in X]),F=F)
ST["knots"]=clf.references_.confidence_map; ST["T"]=lda.temperature
pickle.dump(ST,open("/tmp/cal/ST.pkl","wb"))
