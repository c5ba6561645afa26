"""Checks the parallel (attention) forms in model.py against the recurrences of MODELS.md,
written step by step in float64, on random inputs. Run: train.py --check."""
import os
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

from model import deltanet_mix, gateloop_mix, lion_feature_map, lion_mix
from safetensors_writer import read_safetensors, write_safetensors


def lion_recurrent(q, k, v, lam, causal):
    """MODELS.md §2: forward and backward RNNs with the ½ diagonal corrections."""
    L, d = q.shape
    SF, zF = torch.zeros(d, v.shape[1], dtype=q.dtype), torch.zeros(d, dtype=q.dtype)
    yF, cF = [], []
    for t in range(L):
        SF = lam[t] * SF + torch.outer(k[t], v[t])
        zF = lam[t] * zF + k[t]
        yF.append(q[t] @ SF - 0.5 * (q[t] @ k[t]) * v[t])
        cF.append(q[t] @ zF - 0.5 * (q[t] @ k[t]))
    if causal:  # the causal model has no backward sweep: add the halves back
        return torch.stack([(yF[t] + 0.5 * (q[t] @ k[t]) * v[t]) / (cF[t] + 0.5 * (q[t] @ k[t]))
                            for t in range(L)])
    SB, zB = torch.zeros_like(SF), torch.zeros_like(zF)
    y = [None] * L
    for t in reversed(range(L)):
        nxt = lam[t + 1] if t + 1 < L else 1.0
        SB = nxt * SB + torch.outer(k[t], v[t])
        zB = nxt * zB + k[t]
        yB = q[t] @ SB - 0.5 * (q[t] @ k[t]) * v[t]
        cB = q[t] @ zB - 0.5 * (q[t] @ k[t])
        y[t] = (yF[t] + yB) / (cF[t] + cB)
    return torch.stack(y)


def gateloop_recurrent(q, k, v, log_mag, phase):
    a = torch.exp(log_mag) * torch.exp(1j * phase.to(torch.complex128))
    S = torch.zeros(q.shape[1], v.shape[1], dtype=torch.complex128)
    out = []
    for t in range(q.shape[0]):
        S = a[t].unsqueeze(1) * S + torch.outer(k[t], v[t]).to(torch.complex128)
        out.append((q[t].to(torch.complex128) @ S).real)
    return torch.stack(out)


def deltanet_recurrent(q, k, v, beta):
    S = torch.zeros(q.shape[1], v.shape[1], dtype=q.dtype)
    out = []
    for t in range(q.shape[0]):
        S = S - beta[t] * torch.outer(k[t], k[t] @ S - v[t])
        out.append(q[t] @ S)
    return torch.stack(out)


def main(vocab):
    g = torch.Generator().manual_seed(0)
    L, d = 12, 5
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    q, k, v = r(L, d), r(L, d), r(L, 3)
    lam = torch.sigmoid(r(L) + 1)
    fq, fk = lion_feature_map(q), lion_feature_map(k)
    for causal in (False, True):
        par, _ = lion_mix(fq[None, None], fk[None, None], v[None, None], lam.log()[None, None], causal)
        err = (par[0, 0] - lion_recurrent(fq, fk, v, lam, causal)).abs().max()
        print(f"LION causal={causal}: max |parallel - recurrent| = {err:.2e}")
        assert err < 1e-12
    lm, ph = F.logsigmoid(r(L, d) + 2), r(L, d) * 0.5
    par, _ = gateloop_mix(q[None, None], k[None, None], v[None, None], lm[None, None], ph[None, None])
    err = (par[0, 0] - gateloop_recurrent(q, k, v, lm, ph)).abs().max()
    print(f"GateLoop: max |surrogate attention - recurrent| = {err:.2e}")
    assert err < 1e-12
    kn = F.normalize(k, dim=-1)
    beta = torch.sigmoid(r(L))
    par, _ = deltanet_mix(q[None, None], kn[None, None], v[None, None], beta[None, None])
    err = (par[0, 0] - deltanet_recurrent(q, kn, v, beta)).abs().max()
    print(f"DeltaNet: max |implicit attention - delta rule| = {err:.2e}")
    assert err < 1e-12
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "t.safetensors")
        tensors = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1, 2], np.int64)}
        write_safetensors(path, tensors, {"k": "v"})
        back, meta = read_safetensors(path)
        assert meta == {"k": "v"} and all((back[n] == tensors[n]).all() for n in tensors)
        print("safetensors writer: round trip ok")
