import os,pickle,numpy as np
os.environ["HF_HUB_OFFLINE"]="1"
import fingerprint as fp
from fingerprint.building import calibration_folds
clf=pickle.load(open("/tmp/cal/clf.pkl","rb"))
D="/work/shared/data/alpaca_eval_train"
train = fp.load_corpus(D, split="train")
texts = np.array(train["text"], dtype=object); models=np.array(train["model"])
prompts=np.array(train["prompt_id"]).astype(str)
held = calibration_folds(prompts, 5, random_state=1) == 0
rng=np.random.default_rng(0)
tr=rng.choice(np.flatnonzero(~held),3000,replace=False); ho=np.flatnonzero(held)
sp=clf.space_
Ft=sp.transform(list(texts[tr])); Fh=sp.transform(list(texts[ho]))
for b in sp.blocks_:
    for nm,F,yy in (("train",Ft,models[tr]),("held",Fh,models[ho])):
        X=F[:,b.start:b.stop]; tot=((X-X.mean(0))**2).sum(1).mean()
        mu={m:X[yy==m].mean(0) for m in np.unique(yy)}
        within=np.mean([((X[yy==m]-mu[m])**2).sum(1).mean() for m in mu])
        between=np.mean([((mu[m]-X.mean(0))**2).sum() for m in mu])
        print(b.name,nm,"total %.2f within %.2f between %.3f"%(tot,within,between))
# variance by PC index: first 10, 100-110, 400-410
b=sp.block("ngram")
for nm,F in (("train",Ft),("held",Fh)):
    X=F[:,b.start:b.stop]; v=X.var(0)
    print(nm,"PC var 0-10 %.4f 50-100 %.4f 200-300 %.4f 400-512 %.4f"%(v[:10].mean(),v[50:100].mean(),v[200:300].mean(),v[400:].mean()))
b=sp.block("style"); names=sp.get_feature_names_out()[b.start:b.stop]
vt=Ft[:,b.start:b.stop].var(0); vh=Fh[:,b.start:b.stop].var(0)
o=np.argsort(-vh)[:8]
for i in o: print(names[i], "train var %.2f held var %.2f max|held| %.1f"%(vt[i],vh[i],np.abs(Fh[:,b.start+i]).max()))
