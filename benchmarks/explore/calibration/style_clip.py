import os,sys,pickle,numpy as np
os.environ["HF_HUB_OFFLINE"]="1"
import fingerprint as fp
from fingerprint.features.space import FeatureSpace
from fingerprint.building import calibration_folds
from fingerprint.calibration import expected_calibration_error as ece
C=float(sys.argv[1])
def clipf(self,F):
    b=self.block("style"); F=F.copy(); F[:,b.start:b.stop]=np.clip(F[:,b.start:b.stop],-C,C); return F
of=FeatureSpace._fit; ot=FeatureSpace.transform
FeatureSpace._fit=lambda self,*a,**k: clipf(self,of(self,*a,**k))
FeatureSpace.transform=lambda self,*a,**k: clipf(self,ot(self,*a,**k))
D="/work/shared/data/alpaca_eval_train"
train = fp.load_corpus(D, split="train"); dev = fp.load_corpus(D, split="dev")
texts = np.array(train["text"], dtype=object)
models, prompts = np.array(train["model"]), np.array(train["prompt_id"]).astype(str)
held = calibration_folds(prompts, 5, random_state=1) == 0
clf = fp.FingerprintClassifier(n_jobs=2).fit(list(texts[~held]), models[~held], groups=prompts[~held])
for name,X,y in (("held",texts[held],models[held]),("dev",np.array(dev["text"],dtype=object),np.array(dev["model"]))):
    P=clf.predict_proba(list(X)); yi=np.searchsorted(clf.classes_,y); ok=P.argmax(1)==yi
    print(f"clip {C}: {name} top1 {ok.mean():.3f} conf {P.max(1).mean():.3f} ece {ece(P,yi):.3f}",flush=True)
