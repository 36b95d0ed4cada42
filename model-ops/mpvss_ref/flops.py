"""Count multiply-accumulates (MACs) of an ONNX graph from its nodes, with ONNX shape inference.

Symbolic dims (e.g. `batch`, `queries`) are pinned to concrete values (batch 1 by default), then
shapes are inferred with data propagation. Counted ops (1 MAC = one multiply-add):

* Conv: out_elems * Cin/groups * kh * kw;  ConvTranspose: in_elems * Cout/groups * kh * kw
* MatMul: out_elems * K;  Gemm: M * N * K
* Einsum: product of the sizes of all distinct indices
* GridSample and linear Resize: 4 per output element (bilinear); nearest Resize: 0

Element-wise ops, normalisation, softmax and reductions are not counted (they are small here and
conventionally left out of GMAC figures).
"""
from __future__ import annotations

import copy
from typing import Dict, List, Optional

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference


def _strip_large_initializers(model: onnx.ModelProto, limit: int = 4096) -> onnx.ModelProto:
    """A copy whose large initializers keep their dims and type but no data (shapes are all we need)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for init in m.graph.initializer:
        if int(np.prod(init.dims)) > limit:
            for f in ("raw_data", "float_data", "int64_data", "int32_data", "double_data"):
                init.ClearField(f)
    return m


def _pin_dims(model: onnx.ModelProto, dims: Dict[str, int], default: int = 1) -> onnx.ModelProto:
    m = _strip_large_initializers(model)
    for vi in list(m.graph.input) + list(m.graph.output):
        for d in vi.type.tensor_type.shape.dim:
            if d.dim_param:
                d.dim_value = int(dims.get(d.dim_param, default))
    del m.graph.value_info[:]
    # outputs: drop shapes so inference fills them
    for vi in m.graph.output:
        vi.type.tensor_type.ClearField("shape")
    return m


def _attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _eval_small(node, vals):
    """Evaluate one shape-arithmetic node on small constant numpy inputs (None if unsupported)."""
    op = node.op_type
    x = vals
    if op == "Gather":
        return np.take(x[0], x[1], axis=_attr(node, "axis", 0))
    if op == "Unsqueeze":
        out = x[0]
        for a in sorted(int(v) for v in np.ravel(x[1])):
            out = np.expand_dims(out, a if a >= 0 else a + out.ndim + 1)
        return out
    if op == "Squeeze":
        return np.squeeze(x[0], axis=tuple(int(v) for v in np.ravel(x[1]))) if len(x) > 1 else np.squeeze(x[0])
    if op == "Concat":
        return np.concatenate([np.atleast_1d(v) for v in x], axis=_attr(node, "axis", 0))
    if op == "Slice":
        data, starts, ends = x[0], x[1], x[2]
        axes = x[3] if len(x) > 3 and x[3] is not None else np.arange(len(starts))
        steps = x[4] if len(x) > 4 and x[4] is not None else np.ones(len(starts), np.int64)
        sl = [slice(None)] * data.ndim
        for st, en, ax, sp in zip(starts, ends, axes, steps):
            sl[int(ax)] = slice(int(st), int(min(en, 2 ** 62)) if en > 0 else int(en), int(sp))
        return data[tuple(sl)]
    if op == "Cast":
        return x[0].astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[_attr(node, "to")])
    if op in ("Add", "Sub", "Mul"):
        return {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}[op](x[0], x[1]).astype(x[0].dtype)
    if op == "Div":
        if np.issubdtype(x[0].dtype, np.integer):
            return np.trunc(x[0] / x[1]).astype(x[0].dtype)
        return (x[0] / x[1]).astype(x[0].dtype)
    if op == "Equal":
        return np.equal(x[0], x[1])
    if op == "Where":
        return np.where(x[0], x[1], x[2])
    if op == "ConstantOfShape":
        v = _attr(node, "value")
        v = numpy_helper.to_array(v) if v is not None else np.zeros(1, np.float32)
        return np.full(tuple(int(d) for d in x[0]), v.ravel()[0], dtype=v.dtype)
    if op == "Range":
        return np.arange(x[0], x[1], x[2]).astype(x[0].dtype)
    if op == "Reshape":
        return x[0].reshape(tuple(int(d) for d in x[1]))
    if op == "Identity":
        return x[0]
    return None


def _fold_shapes(m: onnx.ModelProto, rounds: int = 30) -> onnx.ModelProto:
    """Alternate ONNX shape inference with folding of small shape-arithmetic subgraphs (Shape, Gather,
    Concat, ...) into constants, so Reshape/Expand targets computed from dynamic dims become known."""
    known_einsum: Dict[str, List[int]] = {}
    for _ in range(rounds):
        m = shape_inference.infer_shapes(m, strict_mode=False, data_prop=True)
        _set_shapes(m, known_einsum)
        shp = _shape_table(m)
        consts = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer if int(np.prod(i.dims)) <= 4096}
        keep, new_inits, changed = [], [], False
        einsum_shapes: Dict[str, List[int]] = {}
        for node in m.graph.node:
            val = None
            if node.op_type == "Constant" and _attr(node, "value") is not None:
                val = numpy_helper.to_array(_attr(node, "value"))
            elif node.op_type == "Shape":
                s = shp.get(node.input[0])
                if s is not None and all(d is not None for d in s):
                    st, en = _attr(node, "start", 0), _attr(node, "end", None)
                    val = np.asarray(s[st:en], np.int64)
            elif node.input and all((i == "" or i in consts) for i in node.input) and \
                    all(consts[i].size <= 4096 for i in node.input if i):
                try:
                    val = _eval_small(node, [consts[i] if i else None for i in node.input])
                except Exception:
                    val = None
            if node.op_type == "Einsum":  # onnx 1.12 infers only the rank of Einsum outputs
                out_s = shp.get(node.output[0])
                in_s = [shp.get(i) for i in node.input]
                if (out_s is None or None in out_s) and all(x is not None and None not in x for x in in_s):
                    eq = _attr(node, "equation").decode().replace(" ", "")
                    lhs, rhs = eq.split("->")
                    size = {c: d for term, x in zip(lhs.split(","), in_s) for c, d in zip(term, x)}
                    einsum_shapes[node.output[0]] = [size[c] for c in rhs]
            if val is not None and len(node.output) == 1 and np.asarray(val).size <= 4096:
                val = np.asarray(val)
                consts[node.output[0]] = val
                new_inits.append(numpy_helper.from_array(val, node.output[0]))
                changed = True
            else:
                keep.append(node)
        if not changed and not einsum_shapes:
            break
        known_einsum.update(einsum_shapes)
        del m.graph.node[:]
        m.graph.node.extend(keep)
        m.graph.initializer.extend(new_inits)
        del m.graph.value_info[:]
        for name, shape in known_einsum.items():
            m.graph.value_info.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, shape))
    else:
        m = shape_inference.infer_shapes(m, strict_mode=False, data_prop=True)
    _set_shapes(m, known_einsum)
    return m


def _set_shapes(m: onnx.ModelProto, shapes: Dict[str, List[int]]):
    """Overwrite value_info shapes for the given tensors (Einsum outputs inferred by us)."""
    for vi in list(m.graph.value_info) + list(m.graph.output):
        if vi.name in shapes:
            vi.type.tensor_type.ClearField("shape")
            for d in shapes[vi.name]:
                vi.type.tensor_type.shape.dim.add().dim_value = d


def _shape_table(m: onnx.ModelProto) -> Dict[str, Optional[List[Optional[int]]]]:
    table = {}
    for vi in list(m.graph.input) + list(m.graph.value_info) + list(m.graph.output):
        t = vi.type.tensor_type
        if t.HasField("shape"):
            table[vi.name] = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
    for init in m.graph.initializer:
        table[init.name] = list(init.dims)
    return table


def _numel(shape):
    if shape is None or any(s is None for s in shape):
        return None
    return int(np.prod(shape, dtype=np.int64)) if len(shape) else 1


def count_macs(model, dims: Optional[Dict[str, int]] = None, strict: bool = True) -> Dict:
    """Returns {"total": int, "by_op": {op: macs}, "unknown": [node names with unknown shapes]}."""
    if isinstance(model, str):
        model = onnx.load(model)
    m = _pin_dims(model, dims or {})
    m = _fold_shapes(m)
    shp = _shape_table(m)
    by_op: Dict[str, int] = {}
    unknown: List[str] = []

    def add(op, v):
        by_op[op] = by_op.get(op, 0) + int(v)

    for node in m.graph.node:
        op = node.op_type
        if op not in ("Conv", "ConvTranspose", "MatMul", "Gemm", "Einsum", "GridSample", "Resize"):
            continue
        ins = [shp.get(n) for n in node.input]
        out = shp.get(node.output[0])
        try:
            if op == "Conv":
                v = _numel(out) * int(np.prod(ins[1][1:]))
            elif op == "ConvTranspose":
                v = _numel(ins[0]) * int(np.prod(ins[1][1:]))
            elif op == "MatMul":
                v = _numel(out) * ins[0][-1]
            elif op == "Gemm":
                trans_a = next((a.i for a in node.attribute if a.name == "transA"), 0)
                k = ins[0][0] if trans_a else ins[0][1]
                v = _numel(out) * k
            elif op == "Einsum":
                eq = next(a.s.decode() for a in node.attribute if a.name == "equation").replace(" ", "")
                lhs = eq.split("->")[0].split(",")
                size = {}
                for term, s in zip(lhs, ins):
                    assert "." not in term, "ellipsis einsum not supported"
                    for ch, d in zip(term, s):
                        size[ch] = d
                v = int(np.prod([size[c] for c in size], dtype=np.int64))
            elif op == "GridSample":
                mode = next((a.s.decode() for a in node.attribute if a.name == "mode"), "bilinear")
                v = _numel(out) * (4 if mode == "bilinear" else 0)
            else:  # Resize
                mode = next((a.s.decode() for a in node.attribute if a.name == "mode"), "nearest")
                v = _numel(out) * (4 if mode == "linear" else 0)
        except (TypeError, IndexError, AttributeError):
            unknown.append(node.name or op)
            continue
        add(op, v)
    if strict and unknown:
        raise ValueError(f"shapes unknown for nodes: {unknown[:10]}")
    return {"total": int(sum(by_op.values())), "by_op": by_op, "unknown": unknown}
