#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/): small valid files
and near-valid ones (one field wrong), built by hand from the formats' definitions so that the
fuzzer starts next to every branch of the readers. Deterministic: rerunning rewrites the same
bytes. Usage: python3 tests/fuzz/make_corpus.py"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

DT = {"F64": ("d", 8), "F32": ("f", 4), "I64": ("q", 8), "I32": ("i", 4), "I16": ("h", 2),
      "I8": ("b", 1), "U8": ("B", 1), "BOOL": ("B", 1)}


def pack(dtype, values):
    if dtype == "F16":
        return b"".join(struct.pack("<e", v) for v in values)
    if dtype == "BF16":  # the top 16 bits of the float32
        return b"".join(struct.pack("<f", v)[2:] for v in values)
    fmt, _ = DT[dtype]
    if fmt in "qihbB":
        values = [int(v) for v in values]
    return b"".join(struct.pack("<" + fmt, v) for v in values)


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def safetensors(tensors, metadata=None, header_extra=None):
    """tensors: list of (name, dtype, shape, values). Returns the file's bytes."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, values in tensors:
        raw = pack(dtype, values)
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if header_extra:
        header.update(header_extra)
    h = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(h)) + h + data


def ramp(n, scale=0.1, shift=0.0):
    return [scale * i + shift for i in range(n)]


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def raw(header_text, data=b"", length=None):
    h = header_text.encode() if isinstance(header_text, str) else header_text
    return struct.pack("<Q", len(h) if length is None else length) + h + data


def safetensors_seeds():
    t = "fuzz_safetensors"
    write(t, "f32_two", safetensors([("a", "F32", [2, 3], ramp(6)), ("b", "F32", [4], ramp(4))],
                                    {"format": "pt"}))
    for dt in ["F64", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL"]:
        vals = [0, 1, 1, 0] if dt == "BOOL" else ([1, -2, 3, 4] if dt[0] in "IU" else ramp(4))
        if dt == "U8":
            vals = [1, 2, 250, 4]
        write(t, "dtype_" + dt.lower(), safetensors([("x", dt, [2, 2], vals)]))
    write(t, "scalar", safetensors([("s", "F32", [], [3.5])]))
    write(t, "empty_tensor", safetensors([("e", "F32", [0, 4], [])]))
    write(t, "no_tensors", safetensors([], {"k": "v"}))
    write(t, "f16_specials", safetensors([("h", "F16", [4], [float("inf"), 65504.0, 6e-8, -0.0])]))
    # Near-valid: one thing wrong each.
    good = safetensors([("a", "F32", [2], [1.0, 2.0])])
    write(t, "truncated_data", good[:-3])
    write(t, "header_len_too_big", raw('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
                                       b"\0" * 4, length=1 << 40))
    write(t, "header_len_short", raw('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
                                     b"\0" * 4, length=10))
    write(t, "offsets_reversed", raw('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}',
                                     b"\0" * 4))
    write(t, "offsets_overlap", raw('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                                    '"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}',
                                    b"\0" * 8))
    write(t, "size_mismatch", raw('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}',
                                  b"\0" * 8))
    write(t, "bad_dtype", raw('{"a":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}', b"\0"))
    write(t, "negative_dim", raw('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}',
                                 b"\0" * 4))
    write(t, "huge_dims", raw('{"a":{"dtype":"F32","shape":[4294967296,4294967296],'
                              '"data_offsets":[0,4]}}', b"\0" * 4))
    write(t, "billion_elements", raw('{"a":{"dtype":"F32","shape":[1000000000],'
                                     '"data_offsets":[0,4000000000]}}', b"\0" * 4))
    write(t, "float_dim", raw('{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}',
                              b"\0" * 4))
    write(t, "metadata_not_string", raw('{"__metadata__":{"k":1}}'))
    write(t, "not_object", raw('[1,2,3]'))
    write(t, "nested", raw("[" * 200 + "]" * 200))
    write(t, "bad_utf8", raw(b'{"\xff\xfe":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
                             b"\0" * 4))
    write(t, "tiny", b"\x02\0\0\0\0\0\0\0{}")
    write(t, "empty", b"")


def checkpoint_seeds():
    t = "fuzz_checkpoint_index"
    s1, s2 = "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"
    p = "model.layers.0."
    layer = ["attn.q_proj.weight", "attn.k_proj.weight", "attn.v_proj.weight",
             "attn.o_proj.weight", "attn.g_proj.weight", "attn.b_proj.weight",
             "attn.gk_proj.0.weight", "attn.gk_proj.1.weight", "attn.gk_proj.1.bias",
             "attn_norm.weight"]
    wm = {p + n: s1 for n in layer}
    wm.update({n: s2 for n in ["model.embeddings.weight", "model.norm.weight", "lm_head.weight"]})
    index = {"metadata": {"total_size": 1000}, "weight_map": wm}

    def j(x):
        return json.dumps(x, indent=1).encode()

    write(t, "index_ok", b"\0" + j(index))
    write(t, "index_missing_shard", b"\0" + j({"weight_map": {"a": "nope.safetensors"}}))
    write(t, "index_wrong_shard", b"\0" + j({"weight_map": {p + "attn.q_proj.weight": s2}}))
    write(t, "index_traversal", b"\0" + j({"weight_map": {"a": "../x.safetensors"}}))
    write(t, "index_dir_as_shard", b"\0" + j({"weight_map": {"a": "."}}))
    write(t, "index_json_as_shard", b"\0" + j({"weight_map": {"a": "model.safetensors.index.json"}}))
    write(t, "index_not_string", b"\0" + j({"weight_map": {"a": 3}}))
    write(t, "index_no_map", b"\0" + j({"metadata": {}}))
    write(t, "index_bad_json", b"\0{\"weight_map\": {")
    base = {"num_hidden_layers": 1, "num_heads": 2, "hidden_size": 4, "expand_k": 1.0,
            "expand_v": 1.0, "gate_low_rank_dim": 4, "vocab_size": 10}
    for arch in ["retnet", "gla", "delta_net", "gsa", "lion", "linscope-lion",
                 "linscope-gateloop", "linscope-deltanet", "mamba"]:
        cfg = dict(base, model_type=arch)
        write(t, "config_" + arch, b"\1" + j(cfg))
        write(t, "both_" + arch, b"\2" + j(index) + b"\0" + j(cfg))
    write(t, "config_bad_heads", b"\1" + j(dict(base, model_type="gla", num_heads=3)))
    write(t, "config_zero_heads", b"\1" + j(dict(base, model_type="retnet", num_heads=0)))
    write(t, "config_neg_layers", b"\1" + j(dict(base, model_type="delta_net",
                                                   num_hidden_layers=-1)))
    write(t, "config_huge", b"\1" + j(dict(base, model_type="gla", num_heads=2**62,
                                             hidden_size=2**62)))
    write(t, "config_float_fields", b"\1" + j(dict(base, model_type="gla", num_heads=2.5)))
    write(t, "config_string_fields", b"\1" + j(dict(base, model_type="retnet", num_heads="2")))
    write(t, "config_lion", b"\1" + j({"model_type": "lion", "decay": "S", "depth": 1,
                                       "num_heads": 2, "dim": 4}))
    write(t, "config_linscope", b"\1" + j({"model_type": "linscope-lion", "decay": "D",
                                           "n_layers": 1, "n_heads": 2, "d_model": 4,
                                           "d_head": 2}))
    write(t, "config_array", b"\1[1,2]")
    write(t, "config_nested", b"\1" + b"[" * 300 + b"]" * 300)
    write(t, "config_empty", b"\1")


def inputs_file(names_shapes, seed=0):
    ts = []
    for k, (name, shape) in enumerate(names_shapes):
        n = numel(shape)
        vals = [((i * 7 + k * 3 + seed) % 11 - 5) * 0.1 for i in range(n)]
        if name in ("log_decay", "log_magnitude", "log_weight"):
            vals = [-0.05 - 0.1 * ((i + k) % 5) for i in range(n)]
        if name == "beta":
            vals = [0.1 * ((i % 9) + 1) for i in range(n)]
        ts.append((name, "F32", shape, vals))
    return safetensors(ts)


def cli_seeds():
    t = "fuzz_cli_inputs"
    B, H, L, D = 1, 2, 5, 3
    qkv = [("q", [B, H, L, D]), ("k", [B, H, L, D]), ("v", [B, H, L, D])]
    sets = {
        "la": qkv + [("log_decay", [B, H, L])],
        "la_channel": qkv + [("log_decay", [B, H, L, D])],
        "gateloop": qkv + [("log_magnitude", [B, H, L, D]), ("phase", [B, H, L, D])],
        "deltanet": qkv + [("beta", [B, H, L])],
        "lightnet": qkv + [("log_weight", [B, H, L])],
    }
    # Model indices as in fuzz_cli_inputs.cpp's models(): 0-2 linear attention, 3-5 LION,
    # 6 GateLoop, 7 DeltaNet, 8 LCSM, 9 LightNet.
    plan = [(0, "la"), (1, "la"), (2, "la"), (1, "la_channel"), (3, "la"), (4, "la"), (5, "la"),
            (6, "gateloop"), (7, "deltanet"), (8, "la"), (8, "la_channel"), (9, "lightnet")]
    for model, kind in plan:
        body = inputs_file(sets[kind])
        for form in range(4):
            chunk = 2  # stored as chunk - 1 in the high nibble
            write(t, "m%d_%s_f%d" % (model, kind, form), bytes([model, (chunk - 1) << 4 | form]) + body)
    # Near-valid inputs: each should end in linscope::Error.
    la = sets["la"]
    write(t, "missing_k", bytes([0, 0]) + inputs_file([x for x in la if x[0] != "k"]))
    write(t, "k_wrong_L", bytes([0, 0]) + inputs_file([("k", [B, H, L + 1, D]) if x[0] == "k"
                                                       else x for x in la]))
    write(t, "rank3_q", bytes([0, 0]) + inputs_file([("q", [B, H, L]) if x[0] == "q" else x
                                                     for x in la]))
    nan = safetensors([("q", "F32", [1, 1, 2, 1], [float("nan"), 1.0]),
                       ("k", "F32", [1, 1, 2, 1], [1.0, 1.0]), ("v", "F32", [1, 1, 2, 1], [1.0, 1.0]),
                       ("log_decay", "F32", [1, 1, 2], [-0.1, -0.1])])
    write(t, "nan_q", bytes([0, 0]) + nan)
    big = safetensors([("q", "F32", [1, 1, 2, 1], [1e30, 1e30]),
                       ("k", "F32", [1, 1, 2, 1], [1e30, 1e30]), ("v", "F32", [1, 1, 2, 1], [1e30, 1.0]),
                       ("log_decay", "F32", [1, 1, 2], [-0.0, -1e30])])
    write(t, "huge_values", bytes([1, 0]) + big)
    zero_len = safetensors([("q", "F32", [1, 1, 1000000000, 0], []),
                            ("k", "F32", [1, 1, 1000000000, 0], []),
                            ("v", "F32", [1, 1, 1000000000, 0], []),
                            ("log_decay", "F32", [1, 1, 1000000000], [])])
    write(t, "billion_L_no_data", bytes([0, 1]) + zero_len)
    zero_batch = safetensors([("q", "F32", [0, 1, 1000000000, 4], []),
                              ("k", "F32", [0, 1, 1000000000, 4], []),
                              ("v", "F32", [0, 1, 1000000000, 4], []),
                              ("log_decay", "F32", [0, 1, 1000000000], [])])
    for form in range(3):
        write(t, "zero_batch_billion_L_f%d" % form, bytes([3, form]) + zero_batch)
    empty = safetensors([("q", "F32", [1, 1, 0, 2], []), ("k", "F32", [1, 1, 0, 2], []),
                         ("v", "F32", [1, 1, 0, 2], []), ("log_decay", "F32", [1, 1, 0], [])])
    write(t, "L_zero", bytes([0, 0]) + empty)
    write(t, "f16_inputs", bytes([0, 0]) + safetensors(
        [("q", "F16", [1, 1, 2, 2], ramp(4)), ("k", "BF16", [1, 1, 2, 2], ramp(4)),
         ("v", "I8", [1, 1, 2, 2], [1, 2, 3, 4]), ("log_decay", "F64", [1, 1, 2], [-0.1, -0.2])]))


if __name__ == "__main__":
    safetensors_seeds()
    checkpoint_seeds()
    cli_seeds()
