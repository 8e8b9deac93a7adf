import pickle,numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp
from fingerprint.calibration import expected_calibration_error as ece, fit_temperature, fit_confidence_map, apply_confidence_map, softmax_t
ST=pickle.load(open("/tmp/cal/ST.pkl","rb"))
S,y,L=ST["scores"],ST["y"],ST["L"]
z=lambda L: np.log1p(L)
mu,sd=z(L).mean(),z(L).std()
def nll(params,S,y,L):
    a,b=params; t=np.exp(a+b*(z(L)-mu)/sd)[:,None]
    Z=S/t; return -(Z[np.arange(len(y)),y]-logsumexp(Z,axis=1)).mean()
T0=fit_temperature(S,y); print("T0",T0,"stored",ST["T"])
r=minimize(nll,[np.log(T0),0.0],args=(S,y,L),method="Nelder-Mead"); a,b=r.x
print("a,b",a,b,"T at z=-1,0,1:",np.exp(a-b),np.exp(a),np.exp(a+b),"nll",r.fun,"vs",nll([np.log(T0),0],S,y,L))
def probs(S,L,kind,knots):
    if kind=="T": P=softmax_t(S,T0)
    else: P=softmax_t(S/np.exp(a+b*(z(L)-mu)/sd)[:,None],1.0)
    return apply_confidence_map(P,knots) if knots is not None else P
kA=fit_confidence_map(softmax_t(S,T0),y)
PB=softmax_t(S/np.exp(a+b*(z(L)-mu)/sd)[:,None],1.0); kB=fit_confidence_map(PB,y)
allL=np.concatenate([ST[k]["L"] for k in ("held","dev")]); qs=np.quantile(allL,[.25,.5,.75])
for name,kind,knots in (("T only","T",None),("T+map","T",kA),("T(L) only","TL",None),("T(L)+map","TL",kB)):
    out=[]
    for k in ("held","dev"):
        d=ST[k]; P=probs(d["S"],d["L"],kind,knots); ok=P.argmax(1)==d["y"]; c=P.max(1)
        bq=np.digitize(d["L"],qs); gaps=[ok[bq==i].mean()-c[bq==i].mean() for i in range(4)]
        nl=-np.log(np.clip(P[np.arange(len(ok)),d["y"]],1e-12,1)).mean()
        out.append(f"{k}: ece {ece(P,d['y']):.3f} gap {ok.mean()-c.mean():+.3f} nll {nl:.3f} bylen "+" ".join(f"{g:+.3f}" for g in gaps))
    print(f"{name:10s}", " | ".join(out))
if __name__=="__main__":
    # stored model check
    d=ST["dev"]; print("stored P ece dev", ece(d["P"],d["y"]))
    P=apply_confidence_map(softmax_t(S,T0),kA); ok=P.argmax(1)==y
    print("crossfit train: acc %.3f conf %.3f"%(ok.mean(),P.max(1).mean()))
    for k in ("held","dev"):
        d=ST[k]; s=np.sort(d["S"],1); print(k,"raw margin top1-top2 median", np.median(s[:,-1]-s[:,-2]))
    s=np.sort(S,1); print("crossfit raw margin median", np.median(s[:,-1]-s[:,-2]))
