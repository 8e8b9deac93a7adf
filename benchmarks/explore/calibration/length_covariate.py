import pickle,numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp
from fingerprint.calibration import expected_calibration_error as ece, fit_confidence_map, apply_confidence_map, softmax_t, fit_temperature
from fingerprint.features.style import STYLE_MARKER_NAMES
sp=pickle.load(open("/tmp/cal/clf.pkl","rb")).space_
col=sp.block("style").start+list(STYLE_MARKER_NAMES).index("log_chars")
d=pickle.load(open("/tmp/cal/xpca.pkl","rb")); ST=pickle.load(open("/tmp/cal/ST.pkl","rb"))
u_tr=d["X"][:,col]; L=ST["L"]
print("corr u vs log L", np.corrcoef(u_tr,np.log1p(L))[0,1])
ev={k:(ST[k]["S"],ST[k]["y"],ST[k]["L"],ST[k]["F"][:,col]) for k in ("held","dev")}
allL=np.concatenate([ST[k]["L"] for k in ("held","dev")]); qs=np.quantile(allL,[.1,.25,.5,.75,.9])
for sname,S in (("base",ST["scores"]),("xpca10",pickle.load(open("/tmp/cal/xscores10.pkl","rb"))["scores"])):
    y=ST["y"]
    for cname,ctr,cev in (("none",np.zeros(len(L)),lambda e:np.zeros(len(e[2]))),("u col",u_tr,lambda e:e[3]),("logL",(np.log1p(L)-np.log1p(L).mean())/np.log1p(L).std(),lambda e:(np.log1p(e[2])-np.log1p(L).mean())/np.log1p(L).std())):
        def nll(p): Z=S/np.exp(p[0]+p[1]*ctr)[:,None]; return -(Z[np.arange(len(y)),y]-logsumexp(Z,axis=1)).mean()
        a,b=minimize(nll,[1.0,0.0],method="Nelder-Mead").x
        kn=fit_confidence_map(softmax_t(S/np.exp(a+b*ctr)[:,None],1.0),y)
        out=[]
        for k,e in (("held",ev["held"]),("dev",ev["dev"])):
            P=apply_confidence_map(softmax_t(e[0]/np.exp(a+b*cev(e))[:,None],1.0),kn); ok=P.argmax(1)==e[1]; c=P.max(1)
            bq=np.digitize(e[2],qs); g=[ok[bq==i].mean()-c[bq==i].mean() for i in range(6)]
            nl=-np.log(np.clip(P[np.arange(len(ok)),e[1]],1e-12,1)).mean()
            out.append(f"{k} ece {ece(P,e[1]):.3f} nll {nl:.3f} len-gaps "+" ".join(f"{x:+.2f}" for x in g))
        print(f"{sname:7s} {cname:6s} b={b:+.3f} | "+" | ".join(out))
