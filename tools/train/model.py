"""Tiny linear-attention language models whose sequence mixing is written in its parallel
(attention) form, exactly as linscope's core defines the models (shared/spec/MODELS.md).

Layer (pre-norm): x += o(mix(q, k, v, gates)) on RMSNorm(x); x += MLP(RMSNorm(x)).
Families:
  lion      q, k through LION's feature map phi(x) = (SiLU(x)+0.5)/||.||; Y = C^-1 (QK^T o M) V
            with M_ij = prod of lambda between i and j (MODELS.md §2). decay "S": log lambda_t =
            log sigma(w_h^T x_t + b_h) per head and token; decay "D": lambda_h = sigma(a_h).
            direction "bidirectional" uses the full mask, "causal" its lower triangle.
  gateloop  a_t = sigma(magnitude(x_t)) exp(i phase(x_t)) per channel (MODELS.md §3), surrogate
            attention y_i = sum_{j<=i} sum_c q_ic k_jc |prod a| cos(sum phase) v_j; per-head RMSNorm.
  deltanet  k (and q) L2-normalised, beta_t = sigma(w_h^T x_t + b_h); implicit attention
            A = tril(QK^T) (I + tril(diag(beta) K K^T, -1))^-1 diag(beta) (MODELS.md §4).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def lion_feature_map(x):
    s = F.silu(x) + 0.5
    return s / s.norm(dim=-1, keepdim=True)


def lion_mix(q, k, v, log_lambda, causal):
    """q, k, v [B,H,L,d]; log_lambda [B,H,L]. M_ij = exp(-|A_i - A_j|), A = cumsum(log lambda),
    which equals prod_{m=min+1..max} lambda_m because A is non-increasing."""
    A = torch.cumsum(log_lambda, dim=-1)
    M = torch.exp(-(A.unsqueeze(-1) - A.unsqueeze(-2)).abs())
    if causal:
        M = torch.tril(M)
    S = (q @ k.transpose(-1, -2)) * M
    attn = S / S.sum(-1, keepdim=True)  # C_i = q_i^T sum_j M_ij k_j
    return attn @ v, attn


def gateloop_mix(q, k, v, log_mag, phase):
    """q, k, log_mag, phase [B,H,L,d]; surrogate attention with log-polar cumulative products."""
    Lm = torch.cumsum(log_mag, dim=-2)
    P = torch.cumsum(phase, dim=-2)
    L = q.shape[-2]
    causal = torch.ones(L, L, dtype=torch.bool, device=q.device).tril()
    dlog = (Lm.unsqueeze(-2) - Lm.unsqueeze(-3))  # [B,H,i,j,d], <= 0 where j <= i
    dlog = torch.where(causal[..., None], dlog, torch.full_like(dlog, -math.inf))
    w = torch.exp(dlog) * torch.cos(P.unsqueeze(-2) - P.unsqueeze(-3))
    attn = torch.einsum("bhic,bhjc,bhijc->bhij", q, k, w)
    return attn @ v, attn


def deltanet_mix(q, k, v, beta):
    """Implicit attention of the delta rule: one WY/UT chunk covering the whole sequence."""
    L = q.shape[-2]
    eye = torch.eye(L, dtype=q.dtype, device=q.device)
    KK = k @ k.transpose(-1, -2)
    T = eye + torch.tril(beta.unsqueeze(-1) * KK, diagonal=-1)
    X = torch.linalg.solve_triangular(T, torch.diag_embed(beta), upper=False, unitriangular=True)
    attn = torch.tril(q @ k.transpose(-1, -2)) @ X
    return attn @ v, attn


class Mixer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.family = cfg["model_type"].split("-")[1]
        self.decay = cfg.get("decay")
        self.causal = cfg["direction"] == "causal"
        H, dh, D = cfg["n_heads"], cfg["d_head"], cfg["d_model"]
        self.H, self.dh = H, dh
        self.q = nn.Linear(D, H * dh, bias=False)
        self.k = nn.Linear(D, H * dh, bias=False)
        self.v = nn.Linear(D, H * dh, bias=False)
        self.o = nn.Linear(H * dh, D, bias=False)
        if self.family == "lion" and self.decay == "S":
            self.decay_proj = nn.Linear(D, H)
            nn.init.constant_(self.decay_proj.bias, 2.0)  # lambda ~ 0.88 at start
        elif self.family == "lion" and self.decay == "D":
            # lambda_h = sigma(a_h), spread from short to long memories at start.
            self.decay_logit = nn.Parameter(torch.linspace(1.0, 4.0, H))
        elif self.family == "gateloop":
            self.magnitude = nn.Linear(D, H * dh)
            nn.init.constant_(self.magnitude.bias, 3.0)  # |a| ~ 0.95 at start
            self.phase = nn.Linear(D, H * dh, bias=False)
            nn.init.normal_(self.phase.weight, std=0.02)
        elif self.family == "deltanet":
            self.beta = nn.Linear(D, H)
        self.head_norm = RMSNorm(dh) if self.family in ("gateloop", "deltanet") else None

    def heads(self, t):
        B, L, _ = t.shape
        return t.view(B, L, self.H, self.dh).transpose(1, 2)  # [B,H,L,dh]

    def forward(self, x):
        q, k, v = self.heads(self.q(x)), self.heads(self.k(x)), self.heads(self.v(x))
        gates = {}
        if self.family == "lion":
            q, k = lion_feature_map(q), lion_feature_map(k)
            if self.decay == "S":
                log_lambda = F.logsigmoid(self.decay_proj(x)).transpose(1, 2)  # [B,H,L]
                gates["lambda"] = log_lambda.exp()
            else:
                log_lam_h = F.logsigmoid(self.decay_logit)
                log_lambda = log_lam_h.view(1, -1, 1).expand(x.shape[0], -1, x.shape[1])
                gates["lambda"] = log_lam_h.exp()
            y, attn = lion_mix(q, k, v, log_lambda, self.causal)
        elif self.family == "gateloop":
            log_mag = F.logsigmoid(self.heads(self.magnitude(x)))
            phase = self.heads(self.phase(x))
            gates["magnitude"], gates["phase"] = log_mag.exp(), phase
            y, attn = gateloop_mix(q, k, v, log_mag, phase)
        else:
            q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
            beta = torch.sigmoid(self.beta(x)).transpose(1, 2)  # [B,H,L]
            gates["beta"] = beta
            y, attn = deltanet_mix(q, k, v, beta)
        if self.head_norm is not None:
            y = self.head_norm(y)
        B, H, L, dh = y.shape
        return self.o(y.transpose(1, 2).reshape(B, L, H * dh)), gates, attn


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        D, Fd = cfg["d_model"], cfg["d_mlp"]
        self.attn_norm = RMSNorm(D, cfg["norm_eps"])
        self.mixer = Mixer(cfg)
        self.mlp_norm = RMSNorm(D, cfg["norm_eps"])
        self.up = nn.Linear(D, Fd)
        self.down = nn.Linear(Fd, D)

    def forward(self, x):
        h, gates, attn = self.mixer(self.attn_norm(x))
        x = x + h
        x = x + self.down(F.gelu(self.up(self.mlp_norm(x))))  # exact (erf) GELU
        return x, gates, attn


class TinyLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg["vocab_size"], cfg["d_model"])
        nn.init.normal_(self.embed.weight, std=0.05)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg["n_layers"])])
        self.final_norm = RMSNorm(cfg["d_model"], cfg["norm_eps"])

    def forward(self, tokens):
        x = self.embed(tokens)
        gates, attns = [], []
        for block in self.blocks:
            x, g, a = block(x)
            gates.append(g)
            attns.append(a)
        return self.final_norm(x) @ self.embed.weight.t(), gates, attns  # tied head

    def state_tensors(self):
        """Weights under the names the C++ loader reads (core/tiny/weights.cpp)."""
        out = {"embed.weight": self.embed.weight, "final_norm.weight": self.final_norm.weight}
        for i, b in enumerate(self.blocks):
            p, m = f"layers.{i}.", b.mixer
            out[p + "attn_norm.weight"] = b.attn_norm.weight
            out[p + "mlp_norm.weight"] = b.mlp_norm.weight
            for name in ("q", "k", "v", "o"):
                out[p + name + ".weight"] = getattr(m, name).weight
            out[p + "mlp.up.weight"], out[p + "mlp.up.bias"] = b.up.weight, b.up.bias
            out[p + "mlp.down.weight"], out[p + "mlp.down.bias"] = b.down.weight, b.down.bias
            if m.family == "lion" and m.decay == "S":
                out[p + "decay.weight"], out[p + "decay.bias"] = m.decay_proj.weight, m.decay_proj.bias
            elif m.family == "lion":
                out[p + "decay.logit"] = m.decay_logit
            elif m.family == "gateloop":
                out[p + "magnitude.weight"] = m.magnitude.weight
                out[p + "magnitude.bias"] = m.magnitude.bias
                out[p + "phase.weight"] = m.phase.weight
            else:
                out[p + "beta.weight"], out[p + "beta.bias"] = m.beta.weight, m.beta.bias
            if m.head_norm is not None:
                out[p + "head_norm.weight"] = m.head_norm.weight
        return {k: v.detach().to(torch.float32).cpu().numpy() for k, v in out.items()}
