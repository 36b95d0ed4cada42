import onnx
from onnx import TensorProto, helper, numpy_helper
import numpy as np

from mpvss_ref.flops import count_macs


def _graph():
    """x[b,3,8,8] -Conv(4,3,3x3,pad1)-> [b,4,8,8] -ConvT(4->2,k2,s2)-> [b,2,16,16]
    -Reshape-> [b,2,256] -MatMul(W[256,5])-> [b,2,5]; Gemm on [2,6]x[6,3]; Einsum 'bqc,bchw->bqhw'."""
    w = numpy_helper.from_array(np.zeros((4, 3, 3, 3), np.float32), "w")
    wt = numpy_helper.from_array(np.zeros((4, 2, 2, 2), np.float32), "wt")
    shp = numpy_helper.from_array(np.array([0, 2, 256], np.int64), "shp")
    mw = numpy_helper.from_array(np.zeros((256, 5), np.float32), "mw")
    ga = numpy_helper.from_array(np.zeros((2, 6), np.float32), "ga")
    gb = numpy_helper.from_array(np.zeros((6, 3), np.float32), "gb")
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("ConvTranspose", ["c", "wt"], ["t"], strides=[2, 2]),
        helper.make_node("Reshape", ["t", "shp"], ["r"]),
        helper.make_node("MatMul", ["r", "mw"], ["m"]),
        helper.make_node("Gemm", ["ga", "gb"], ["g"]),
        helper.make_node("Einsum", ["q", "c"], ["e"], equation="bqc,bchw->bqhw"),
    ]
    g = helper.make_graph(nodes, "t", [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 8, 8]),
        helper.make_tensor_value_info("q", TensorProto.FLOAT, ["batch", 7, 4]),
    ], [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("m", "g", "e")],
        initializer=[w, wt, shp, mw, ga, gb])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 16)])


def test_hand_checked_counts():
    r = count_macs(_graph(), {"batch": 1})
    conv = 4 * 8 * 8 * (3 * 3 * 3)        # out elems x Cin*kh*kw = 6912
    convt = 4 * 8 * 8 * (2 * 2 * 2)       # in elems x Cout*kh*kw = 2048
    matmul = 2 * 5 * 256                  # out elems x K = 2560
    gemm = 2 * 3 * 6                      # 36
    einsum = 7 * 4 * 8 * 8                # q*c*h*w (b=1) = 1792
    assert r["by_op"] == {"Conv": conv, "ConvTranspose": convt, "MatMul": matmul, "Gemm": gemm, "Einsum": einsum}
    assert r["total"] == conv + convt + matmul + gemm + einsum
    assert count_macs(_graph(), {"batch": 2})["total"] == 2 * (conv + convt + matmul + einsum) + gemm
