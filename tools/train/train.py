"""Train linscope's tiny bundled models on the CPU and write them to assets/<name>/.

    /usr/bin/python3 tools/train/train.py            # all models (a few minutes on 2 cores)
    /usr/bin/python3 tools/train/train.py --check    # parallel forms vs recurrences, no training
    /usr/bin/python3 tools/train/train.py --only deltanet --steps 100

Task: character-level modelling of assets/corpus/public_domain.txt (public-domain texts typed
from memory). Causal models predict the next character; the bidirectional LION-S model
predicts masked characters (15% replaced by the mask character) from both sides. The last 10%
of the text is held out; the table in assets/README.md reports held-out loss and accuracy.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import TinyLM  # noqa: E402
from safetensors_writer import write_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "assets", "corpus", "public_domain.txt")
MASK_CHAR = "~"

MODELS = {
    "lion_s_bidirectional": {"model_type": "linscope-lion", "direction": "bidirectional", "decay": "S"},
    "lion_d_causal": {"model_type": "linscope-lion", "direction": "causal", "decay": "D"},
    "gateloop": {"model_type": "linscope-gateloop", "direction": "causal", "decay": None},
    "deltanet": {"model_type": "linscope-deltanet", "direction": "causal", "decay": None},
}
# Training steps per model (--steps overrides): the O(L^2 d) GateLoop and the triangular solve
# of DeltaNet cost more per step; the causal models memorise the short text within ~200 steps.
STEPS = {"lion_s_bidirectional": 400, "lion_d_causal": 400, "gateloop": 200, "deltanet": 200}
TEST_TEXT = "We hold these truths to be self-evident, that all men are created equal."
# Positions of TEST_TEXT replaced by the mask character for the bidirectional test vector.
TEST_MASKED = [3, 8, 14, 20, 27, 33, 40, 47, 55, 62, 68]


def load_corpus():
    with open(CORPUS, encoding="ascii") as f:
        text = f.read()
    assert MASK_CHAR not in text
    vocab = sorted(set(text)) + [MASK_CHAR]
    return text, vocab


def make_config(kind, vocab, args):
    cfg = dict(MODELS[kind])
    cfg.update({"n_layers": 2, "n_heads": 4, "d_model": 64, "d_head": 16, "d_mlp": 256,
                "norm_eps": 1e-6, "vocab_size": len(vocab), "vocab": vocab,
                "tied_head": True, "mask_char": MASK_CHAR,
                "task": "masked characters" if cfg["direction"] == "bidirectional" else "next character"})
    return cfg


def batch(ids, batch_size, length, gen, masked, mask_id, p_mask=0.15):
    starts = torch.randint(0, len(ids) - length - 1, (batch_size,), generator=gen)
    win = torch.stack([ids[s:s + length + 1] for s in starts.tolist()])
    if not masked:
        return win[:, :-1], win[:, 1:], None
    x = win[:, :-1].clone()
    sel = torch.rand(x.shape, generator=gen) < p_mask
    sel[:, 0] |= ~sel.any(1)
    target = x.clone()
    x[sel] = mask_id
    return x, target, sel


def loss_acc(model, x, target, sel):
    logits, _, _ = model(x)
    if sel is not None:
        logits, target = logits[sel], target[sel]
    else:
        logits, target = logits.reshape(-1, logits.shape[-1]), target.reshape(-1)
    loss = F.cross_entropy(logits, target)
    acc = (logits.argmax(-1) == target).float().mean()
    return loss, acc


def evaluate(model, ids, length, masked, mask_id):
    gen = torch.Generator().manual_seed(1234)  # the same masks every evaluation
    losses, accs, weights = [], [], []
    with torch.no_grad():
        for s in range(0, len(ids) - length - 1, length):
            win = ids[s:s + length + 1].unsqueeze(0)
            if masked:
                x = win[:, :-1].clone()
                sel = torch.rand(x.shape, generator=gen) < 0.15
                target = x.clone()
                x[sel] = mask_id
            else:
                x, target, sel = win[:, :-1], win[:, 1:], None
            loss, acc = loss_acc(model, x, target, sel)
            n = int(sel.sum()) if sel is not None else target.numel()
            losses.append(float(loss) * n)
            accs.append(float(acc) * n)
            weights.append(n)
    return sum(losses) / sum(weights), sum(accs) / sum(weights)


def train(kind, args, text, vocab):
    torch.manual_seed(args.seed)
    cfg = make_config(kind, vocab, args)
    model = TinyLM(cfg)
    index = {c: i for i, c in enumerate(vocab)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    split = int(len(ids) * 0.9)
    train_ids, val_ids = ids[:split], ids[split:]
    masked, mask_id = cfg["direction"] == "bidirectional", index[MASK_CHAR]
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    gen = torch.Generator().manual_seed(args.seed)
    start = time.time()
    steps = args.steps or STEPS[kind]
    for step in range(steps):
        lr = args.lr * min(1.0, (step + 1) / 30) * (0.55 + 0.45 * math.cos(math.pi * step / steps))
        for g in opt.param_groups:
            g["lr"] = lr
        x, target, sel = batch(train_ids, args.batch, args.length, gen, masked, mask_id)
        loss, acc = loss_acc(model, x, target, sel)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 50 == 0 or step == steps - 1:
            print(f"{kind} step {step} loss {float(loss):.3f} acc {float(acc):.3f}", flush=True)
    model.eval()
    train_loss, train_acc = evaluate(model, train_ids, args.length, masked, mask_id)
    val_loss, val_acc = evaluate(model, val_ids, args.length, masked, mask_id)
    n_params = sum(p.numel() for p in model.parameters())
    cfg["training"] = {"steps": steps, "batch": args.batch, "length": args.length,
                       "lr": args.lr, "seed": args.seed, "parameters": n_params,
                       "seconds": round(time.time() - start, 1),
                       "train_loss": round(train_loss, 4), "train_accuracy": round(train_acc, 4),
                       "heldout_loss": round(val_loss, 4), "heldout_accuracy": round(val_acc, 4)}
    print(kind, json.dumps(cfg["training"]), flush=True)
    return model, cfg


def save(kind, model, cfg):
    out = os.path.join(ROOT, "assets", kind)
    os.makedirs(out, exist_ok=True)
    weights = model.state_tensors()
    write_safetensors(os.path.join(out, "model.safetensors"), weights, {"format": "pt"})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
        f.write("\n")
    # Test vector: the stored float32 weights evaluated in float64, so the reference logits
    # carry no float32 rounding of their own.
    ref = TinyLM(cfg).double()
    ref.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    index = {c: i for i, c in enumerate(cfg["vocab"])}
    text = list(TEST_TEXT)
    if cfg["direction"] == "bidirectional":
        for p in TEST_MASKED:
            text[p] = MASK_CHAR
    text = "".join(text)
    tokens = torch.tensor([[index[c] for c in text]])
    with torch.no_grad():
        logits, gates, _ = ref(tokens)
    vec = {"tokens": tokens[0].numpy().astype(np.int64),
           "logits": logits[0].numpy().astype(np.float32)}
    for i, g in enumerate(gates):
        for name, t in g.items():
            vec[f"layers.{i}.{name}"] = (t[0] if t.dim() > 1 else t).numpy().astype(np.float32)
    write_safetensors(os.path.join(out, "test_vector.safetensors"), vec, {"text": text})


README_HEAD = """# Bundled tiny models

Small character-level models trained by `tools/train/train.py` on `corpus/public_domain.txt`
(openings of public-domain texts: the Gettysburg Address, the Declaration of Independence, A Tale
of Two Cities, Pride and Prejudice, Moby-Dick; typed from memory, so wording may differ slightly
from the canonical editions). Each directory holds `config.json`, `model.safetensors` (float32)
and `test_vector.safetensors` (a token sequence, the logits the torch model gives for it, and
each layer's gates), which `tests/tiny` checks the C++ forward pass (`core/tiny`) against.

Every model: 2 layers, d_model 64, 4 heads of d_head 16, MLP 256 (GELU), RMSNorm pre-norm, tied
embedding/head. Sequence mixing is the model's attention (parallel) form of MODELS.md; the C++
side runs it through `run_cpu`. Causal models predict the next character; the bidirectional
LION-S model predicts masked characters (15% replaced by `~`) from both sides. The last 10% of the
text is held out (it is short, so the models mostly memorise: compare train and held-out).

Reproduce (CPU, one thread; a few minutes on an idle core; the seconds below were measured on a
machine shared with other builds, and the two LION models were trained with `--threads 2`, so a
rerun matches the table up to float rounding of the summation order):

    apt-get install -y python3-torch
    /usr/bin/python3 tools/train/train.py            # trains and writes every model + this table
    /usr/bin/python3 tools/train/train.py --check    # parallel forms vs the recurrences

| model | family | gates | task | params | steps | train loss | train acc | held-out loss | held-out acc | seconds |
|---|---|---|---|---|---|---|---|---|---|---|
"""
GATES = {"lion_s_bidirectional": "λ_t = σ(wᵀx_t + b) per head", "lion_d_causal": "λ_h = σ(a_h)",
         "gateloop": "\\|a_t\\| = σ(proj), arg a_t = proj", "deltanet": "β_t = σ(wᵀx_t + b), k L2-normalised"}


def write_readme():
    rows = []
    for kind in MODELS:
        path = os.path.join(ROOT, "assets", kind, "config.json")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            c = json.load(f)
        t = c["training"]
        family = c["model_type"].replace("linscope-", "") + (f"-{c['decay']}" if c.get("decay") else "")
        rows.append(f"| `{kind}` | {family} {c['direction']} | {GATES[kind]} | {c['task']} | "
                    f"{t['parameters']} | {t['steps']} | {t['train_loss']:.3f} | {t['train_accuracy']:.3f} | "
                    f"{t['heldout_loss']:.3f} | {t['heldout_accuracy']:.3f} | {t['seconds']} |")
    with open(os.path.join(ROOT, "assets", "README.md"), "w") as f:
        f.write(README_HEAD + "\n".join(rows) + "\n\nLoss: cross-entropy in nats per predicted "
                "character; acc: top-1 accuracy.\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=sorted(MODELS), action="append")
    ap.add_argument("--steps", type=int, help="training steps (default: STEPS per model)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--length", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--check", action="store_true", help="check parallel forms and exit")
    ap.add_argument("--readme", action="store_true", help="only rewrite assets/README.md")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    text, vocab = load_corpus()
    if args.check:
        import check
        check.main(vocab)
        return
    if not args.readme:
        for kind in args.only or MODELS:
            model, cfg = train(kind, args, text, vocab)
            save(kind, model, cfg)
    write_readme()


if __name__ == "__main__":
    main()
