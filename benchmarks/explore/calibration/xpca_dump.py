import os,pickle,time,numpy as np
os.environ["HF_HUB_OFFLINE"]="1"
import fingerprint as fp, fingerprint.classifier as C
from fingerprint.building import calibration_folds, calibration_fold_array, FoldedStatistics
from fingerprint.calibration import expected_calibration_error as ece
from sklearn.utils.extmath import randomized_svd
CAP={}
orig=C.fit_references
def cap(feats,models,space,**kw):
    CAP.update(X=feats.copy(),y=np.asarray(models).astype(str),groups=kw["groups"],kw=kw); return orig(feats,models,space,**kw)
C.fit_references=cap
D="/work/shared/data/alpaca_eval_train"
train = fp.load_corpus(D, split="train"); dev = fp.load_corpus(D, split="dev")
texts = np.array(train["text"], dtype=object)
models, prompts = np.array(train["model"]), np.array(train["prompt_id"]).astype(str)
held = calibration_folds(prompts, 5, random_state=1) == 0
clf = fp.FingerprintClassifier(n_jobs=2).fit(list(texts[~held]), models[~held], groups=prompts[~held])
sp=clf.space_; X,y=CAP["X"],CAP["y"]
_,Z=sp.transform_with_ngrams(list(texts[~held]))
ev={}
for name,T,yy in (("held",texts[held],models[held]),("dev",np.array(dev["text"],dtype=object),np.array(dev["model"]))):
    ev[name]=(sp.transform(list(T)),yy)
pickle.dump(dict(X=X,y=y,groups=CAP["groups"],Z=Z,ev=ev,kw={k:v for k,v in CAP["kw"].items()}),open("/tmp/cal/xpca.pkl","wb"))
print("saved",flush=True)
